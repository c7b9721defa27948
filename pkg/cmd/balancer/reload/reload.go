// Package reload implements `karana balancer reload`.
package reload

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/render"
)

// Options of `karana balancer reload`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	LXD       func(context.Context, *inventory.Inventory) (lxd.Client, error)
	Runtime   balancer.Connector // nil: the host sockets

	DrainTimeout time.Duration
	DryRun       bool
	Force        bool
	Live         bool
	Output       string
}

// NewCmdReload returns `karana balancer reload`. runF replaces the run
// function in tests.
func NewCmdReload(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, LXD: lxd.ConnectInventory}
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Roll a new configuration out to the inner balancers, one at a time, dropping nothing",
		Long: cmdutil.Dedent(`
			Render the inner balancers' configuration from the inventory and check it
			with haproxy -c inside every inner balancer's container before anything is
			drained: a broken template or inventory never reaches a running balancer.

			Then, for lb1 and then lb2 (the inventory's balancers.inner, in order):
			  1. refuse if another inner balancer is not UP and ready on lb0;
			  2. set server <backend>/<lb> state drain on lb0, in both of its backends;
			  3. with --drain-timeout, wait until its sessions and queue on lb0 are 0
			     or that long (by default not: lb0 sends it no new connection, and
			     the old worker moves keep-alive clients off by closing each of their
			     connections after its next response);
			  4. put the new files in place (each renamed over the old one);
			  5. reload haproxy seamlessly: the old worker finishes its connections,
			     capped by balancers.hard_stop_after;
			  6. wait for the new worker and for lb0's health check to see it UP;
			  7. set its state back to ready.
			A balancer whose configuration already matches is skipped, unless --force
			(which reloads it from its files: what brings a balancer whose live state
			drifted, see balancer status, back to its files).

			With --live, a balancer whose tenant routes alone differ (servers of
			be_tenants, host map, crt-list, certificates) is changed through its
			runtime API instead, without a drain or a reload, and its files are
			written too: what karana up and karana tenant add|remove do.

			When the reload fails on a balancer, its previous configuration is put
			back and reloaded, it is made ready again, and the command stops with an
			error naming the balancer and quoting HAProxy. Exit codes: 3 the new
			configuration is invalid (nothing was drained), 5 lb0's runtime socket
			does not answer, 1 any other failure.`),
		Example: cmdutil.Dedent(`
			# after editing the inventory
			$ karana balancer reload
			# check only: render and haproxy -c in the containers, drain nothing
			$ karana balancer reload --dry-run
			$ karana balancer reload --inventory prod.yaml --drain-timeout 2m -o json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if opts.DrainTimeout < 0 {
				return cmdutil.UsageError(fmt.Errorf("invalid --drain-timeout %s: want 0 or a positive duration such as 30s", opts.DrainTimeout))
			}
			if opts.Live && opts.Force {
				return cmdutil.UsageError(fmt.Errorf("--live and --force exclude each other: --force reloads every balancer"))
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return reloadRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.DrainTimeout, "drain-timeout", 0, "wait up to this long for a drained balancer's sessions to end before its reload (0: do not wait)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "reload every inner balancer, even one whose files match")
	cmd.Flags().BoolVar(&opts.Live, "live", false, "change routes-only differences through the runtime API, without a reload")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "render and check in the containers only; drain and change nothing")
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

func reloadRun(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	c, err := opts.LXD(ctx, inv)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUnavailable, err)
	}
	rep, err := balancer.Apply(ctx, balancer.ReloadOptions{
		Inventory: inv, LXD: c, DrainTimeout: opts.DrainTimeout, DryRun: opts.DryRun, Force: opts.Force, Live: opts.Live,
		Progress: cmdutil.NewProgress(opts.IO), Runtime: opts.Runtime,
	})
	if rep != nil {
		if werr := write(opts, rep); werr != nil && err == nil {
			err = werr
		}
	}
	if err == nil && !opts.DryRun {
		err = writeRendered(inv)
	}
	return err
}

// writeRendered records what the inner balancers now run in rendered/
// beside the inventory, so that `balancer render --check` agrees.
func writeRendered(inv *inventory.Inventory) error {
	out, err := render.Render(inv, render.Options{})
	if err != nil {
		return err
	}
	return render.Write(render.DefaultDir(inv), out)
}

func write(opts *Options, rep *balancer.ReloadReport) error {
	if opts.Output == "json" {
		return cmdutil.WriteJSON(opts.IO.Out, rep)
	}
	return writeText(opts.IO.Out, rep)
}

func writeText(w io.Writer, rep *balancer.ReloadReport) error {
	for _, b := range rep.Balancers {
		line := fmt.Sprintf("%s\t%s", b.Name, b.Action)
		if len(b.Changed) > 0 && b.Action != balancer.ActionUnchanged {
			line += "\t" + strings.Join(b.Changed, " ")
		}
		if b.Action == balancer.ActionLive || b.Action == balancer.ActionWouldLive {
			line += fmt.Sprintf("\t%d runtime API change(s)", len(b.Live))
		}
		if b.Reason != "" && b.Action != balancer.ActionUnchanged {
			line += "\treloaded because " + b.Reason
		}
		if b.Action == balancer.ActionReloaded {
			line += fmt.Sprintf("\tout of rotation %.1fs", b.Seconds)
			if !b.Drained {
				line += fmt.Sprintf(", %d session(s) left to the old worker", b.SessionsLeft)
			}
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}
