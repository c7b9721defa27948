// Command genman writes karana's man pages (one per command) into a folder;
// goreleaser runs it to ship them with the release archives.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra/doc"

	"github.com/karana-project/karana/pkg/cmd/root"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/iostreams"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genman DIR")
		os.Exit(2)
	}
	cmd := root.NewCmdRoot(&cmdutil.Factory{IOStreams: iostreams.System()})
	cmd.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{Title: "KARANA", Section: "1", Source: "karana"}
	if err := os.MkdirAll(os.Args[1], 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "genman:", err)
		os.Exit(1)
	}
	if err := doc.GenManTree(cmd, hdr, os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "genman:", err)
		os.Exit(1)
	}
}
