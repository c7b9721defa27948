// Package install implements `karana host install`.
package install

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/host"
	"github.com/karana-project/karana/pkg/iostreams"
)

// Options of `karana host install`.
type Options struct {
	IO     *iostreams.IOStreams
	Ensure func(context.Context, host.Progress) (bool, error)
}

// NewCmdInstall returns `karana host install`.
func NewCmdInstall(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Ensure: host.EnsureLXD}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install the packages karana needs and start LXD (the first step of up)",
		Long: cmdutil.Dedent(`
			Prepare this host as karana up does before anything else: raise the kernel
			limits containers share, install with apt-get the packages of karana host
			check that are missing (on Ubuntu, LXD as a snap), and start the LXD daemon
			when it does not answer. Needs root. Changes nothing on a ready host.`),
		Example: cmdutil.Dedent(`
			$ sudo karana host install
			$ sudo karana host install && karana host check`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return installRun(cmd.Context(), opts)
		},
	}
	return cmd
}

func installRun(ctx context.Context, opts *Options) error {
	changed, err := opts.Ensure(ctx, cmdutil.NewProgress(opts.IO))
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitFailure, err)
	}
	if changed {
		fmt.Fprintln(opts.IO.Out, "The host is ready: packages installed, LXD answering.")
	} else {
		fmt.Fprintln(opts.IO.Out, "Nothing to do: every package is installed and LXD answers.")
	}
	return nil
}
