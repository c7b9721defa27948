// Package drain implements `karana balancer drain` and, through
// NewCmdState, `karana balancer ready`.
package drain

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
)

// Options of `karana balancer drain` and `karana balancer ready`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	Runtime   balancer.Connector // nil: the host sockets, or through LXD for a remote daemon
	// Connect reaches LXD, which a remote daemon's runtime sockets need.
	Connect func(context.Context, *inventory.Inventory) (lxd.Client, error)

	State  string // "drain" or "ready"
	Name   string
	Force  bool
	Wait   time.Duration
	Output string
}

// NewCmdDrain returns `karana balancer drain LB`.
func NewCmdDrain(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Connect: lxd.ConnectInventory, State: "drain"}
	cmd := &cobra.Command{
		Use:   "drain <balancer>",
		Short: "Take an inner balancer out of lb0's rotation",
		Long: cmdutil.Dedent(`
			Set the inner balancer's state to drain on lb0, in every backend it serves:
			its open sessions finish, new ones go to the other inner balancer. It
			refuses when the other one is not UP and ready, so that both are never
			out at once; --force drains anyway. Bring it back with
			karana balancer ready.`),
		Example: cmdutil.Dedent(`
			$ karana balancer drain lb1
			$ karana balancer drain lb1 --wait 1m`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return run(cmd, opts, runF)
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "drain even when the other inner balancers are not UP and ready")
	cmd.Flags().DurationVar(&opts.Wait, "wait", 0, "wait up to this long for its sessions and queue to reach 0")
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

// NewCmdReady returns `karana balancer ready LB`, built here because it is
// drain's inverse; pkg/cmd/balancer/ready wraps it.
func NewCmdReady(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Connect: lxd.ConnectInventory, State: "ready"}
	cmd := &cobra.Command{
		Use:   "ready <balancer>",
		Short: "Put an inner balancer back into lb0's rotation",
		Long: cmdutil.Dedent(`
			Set the inner balancer's state to ready on lb0, in every backend it serves.
			lb0 sends it traffic again as soon as its health check sees it UP.`),
		Example: cmdutil.Dedent(`
			$ karana balancer ready lb1
			$ karana balancer ready lb2 -o json`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return run(cmd, opts, runF)
		},
	}
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

func run(cmd *cobra.Command, opts *Options, runF func(context.Context, *Options) error) error {
	if err := cmdutil.CheckOutput(opts.Output); err != nil {
		return err
	}
	if opts.Wait < 0 {
		return cmdutil.UsageError(fmt.Errorf("invalid --wait %s: want 0 or a positive duration", opts.Wait))
	}
	if runF != nil {
		return runF(cmd.Context(), opts)
	}
	return stateRun(cmd.Context(), opts)
}

func stateRun(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	so := balancer.StateOptions{Inventory: inv, Runtime: opts.Runtime, Name: opts.Name, Force: opts.Force, Wait: opts.Wait}
	if opts.Runtime == nil && inv.LXD.Remote() && opts.Connect != nil {
		if so.LXD, err = opts.Connect(ctx, inv); err != nil {
			return cmdutil.WithCode(cmdutil.ExitUnavailable, err)
		}
	}
	var st balancer.InnerStatus
	if opts.State == "drain" {
		st, err = balancer.Drain(ctx, so)
	} else {
		st, err = balancer.Ready(ctx, so)
	}
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		return cmdutil.WriteJSON(opts.IO.Out, st)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s\t%s\t%s\tsessions %d\tqueue %d\n", st.Name, st.Admin, st.Health, st.Sessions, st.Queue)
	return err
}
