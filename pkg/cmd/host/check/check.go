// Package check implements `karana host check`.
package check

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/host"
	"github.com/karana-project/karana/pkg/iostreams"
)

// Options of `karana host check`.
type Options struct {
	IO    *iostreams.IOStreams
	Check func(context.Context) (host.Report, error)

	Output string
}

// errNotReady ends a check that found something missing with ExitDrift.
var errNotReady = errors.New("this host lacks what karana needs: run `karana host install` (or `karana up`, which does it first)")

// NewCmdCheck returns `karana host check`.
func NewCmdCheck(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Check: host.Check}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Show which of the packages karana needs are installed, and whether LXD answers",
		Long: cmdutil.Dedent(`
			List the packages karana needs on this host (docs/host.md), each with the
			program that shows it is installed and why karana needs it, and whether the
			local LXD daemon answers. Changes nothing. Exits 4 when anything is missing.`),
		Example: cmdutil.Dedent(`
			$ karana host check
			$ karana host check -o json | jq -r '.packages[] | select(.installed | not) | .name'`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return checkRun(cmd.Context(), opts)
		},
	}
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

func checkRun(ctx context.Context, opts *Options) error {
	r, err := opts.Check(ctx)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		if err := cmdutil.WriteJSON(opts.IO.Out, r); err != nil {
			return err
		}
	} else {
		rows := [][]string{{"lxd daemon", "-", answering(r), "karana drives LXD through its socket"}}
		for _, p := range r.Packages {
			rows = append(rows, []string{p.Name, p.Program, installed(p.Installed), p.Why})
		}
		if err := cmdutil.WriteTable(opts.IO.Out, opts.IO.IsStdoutTTY(), []string{"PACKAGE", "PROGRAM", "STATE", "WHY"}, rows); err != nil {
			return err
		}
	}
	if !r.Ready() {
		return cmdutil.WithCode(cmdutil.ExitDrift, errNotReady)
	}
	return nil
}

func installed(ok bool) string {
	if ok {
		return "installed"
	}
	return "missing"
}

func answering(r host.Report) string {
	switch {
	case r.LXDAnswering:
		return "answering"
	case r.LXDInstalled:
		return "not answering"
	}
	return "missing"
}
