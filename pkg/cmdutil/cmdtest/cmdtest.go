// Package cmdtest holds what the commands' argv tests share: build a
// command with a run function that records its options, run it on argv,
// and check the error a bad argv must give.
package cmdtest

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/iostreams"
)

// NewCmd is the shape of every command constructor: runF replaces the run
// function.
type NewCmd[O any] func(f *cmdutil.Factory, runF func(context.Context, *O) error) *cobra.Command

// Parse builds the command with newCmd, runs it on args and returns the
// options its run function received (nil when it was not reached) and the
// error.
func Parse[O any](newCmd NewCmd[O], args []string) (*O, error) {
	ios, _, _ := iostreams.Test()
	var got *O
	cmd := newCmd(&cmdutil.Factory{IOStreams: ios}, func(_ context.Context, o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return got, cmd.Execute()
}

// MustParse is Parse for an argv that must be accepted.
func MustParse[O any](t *testing.T, newCmd NewCmd[O], args []string) *O {
	t.Helper()
	got, err := Parse(newCmd, args)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	if got == nil {
		t.Fatalf("%q: the run function was not reached", args)
	}
	return got
}

// WantError checks that argv was refused with an error containing want
// and, unless wantCode is 0, exiting with wantCode, before the run
// function was reached.
func WantError[O any](t *testing.T, newCmd NewCmd[O], args []string, want string, wantCode int) {
	t.Helper()
	got, err := Parse(newCmd, args)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("%q: error %v, want %q", args, err, want)
	}
	if wantCode != 0 && cmdutil.ExitCode(err) != wantCode {
		t.Errorf("%q: exit code %d, want %d", args, cmdutil.ExitCode(err), wantCode)
	}
	if got != nil {
		t.Errorf("%q: the run function was reached despite the error", args)
	}
}
