// Package karana runs the CLI: it builds the command tree, executes it with
// a context cancelled on SIGINT/SIGTERM, prints the error and maps it to the
// exit code.
package karana

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/karana-project/karana/pkg/cmd/root"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/iostreams"
)

// Main runs karana with os.Args and returns the exit code.
func Main(version, commit, date string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	io := iostreams.System()
	f := &cmdutil.Factory{IOStreams: io, Build: cmdutil.BuildInfo{Version: version, Commit: commit, Date: date}}
	return Run(ctx, f, os.Args[1:])
}

// Run executes args against a fresh command tree; tests call it directly.
func Run(ctx context.Context, f *cmdutil.Factory, args []string) int {
	cmd := root.NewCmdRoot(f)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return cmdutil.ExitOK
	}
	code := cmdutil.ExitCode(err)
	var silent *cmdutil.SilentError
	if !errors.As(err, &silent) {
		st := f.IOStreams.Styles()
		fmt.Fprintf(f.IOStreams.ErrOut, "%s %v\n", st.Err.Render("error:"), err)
		if isUsage(err) {
			fmt.Fprintln(f.IOStreams.ErrOut, "Run 'karana --help' or 'karana <command> --help' for usage.")
			code = cmdutil.ExitUsage
		}
	}
	return code
}

// isUsage recognises cobra's own argument errors, which it does not type.
func isUsage(err error) bool {
	var e *cmdutil.ExitError
	if errors.As(err, &e) {
		return e.Code == cmdutil.ExitUsage
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand", "invalid argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
