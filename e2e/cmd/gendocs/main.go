// Command gendocs writes what the release archives ship beside the binary:
// DIR/man (one page per command) and DIR/completions (bash, zsh, fish, named
// as each shell loads them). goreleaser's before-hook runs it; see
// .goreleaser.yaml and pkg/gendocs.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/karana-project/karana/pkg/cmd/root"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/gendocs"
	"github.com/karana-project/karana/pkg/iostreams"
)

func main() {
	version := flag.String("version", "", "the version named in the man pages' footer")
	epoch := flag.Int64("date", 0, "the man pages' date in Unix seconds (default now)")
	flag.Usage = func() { fmt.Fprintln(os.Stderr, "usage: gendocs [-version V] [-date UNIX] DIR") }
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	dir := flag.Arg(0)
	var date time.Time
	if *epoch != 0 {
		date = time.Unix(*epoch, 0).UTC()
	}
	if err := run(dir, *version, date); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(dir, version string, date time.Time) error {
	// Fresh trees: ManPages rewrites the help texts it is given.
	tree := func() *cmdutil.Factory { return &cmdutil.Factory{IOStreams: iostreams.System()} }
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if _, err := gendocs.ManPages(root.NewCmdRoot(tree()), filepath.Join(dir, "man"), version, date); err != nil {
		return err
	}
	return gendocs.WriteCompletions(root.NewCmdRoot(tree()), filepath.Join(dir, "completions"))
}
