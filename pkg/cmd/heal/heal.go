// Package heal implements `karana heal`.
package heal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/fsutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/recovery"
	"github.com/karana-project/karana/pkg/render"
	"github.com/karana-project/karana/pkg/tenant"
)

// Options of `karana heal`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	Connect   func(ctx context.Context, inv *inventory.Inventory) (lxd.Client, error)
	Binary    func() ([]byte, error)
	Deps      recovery.Deps
	Healer    *recovery.Healer

	Watch     bool
	Interval  time.Duration
	Threshold time.Duration
	Output    string
}

// NewCmdHeal returns `karana heal`.
func NewCmdHeal(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Connect: lxd.ConnectInventory, Binary: converge.ReadBinary,
		Deps: recovery.Deps{Tenant: tenant.Deps{Validate: render.Validate}, Reconcile: recovery.DefaultReconciler()}}
	cmd := &cobra.Command{
		Use:   "heal [--watch] [--interval D]",
		Short: "Recreate broken tenant containers and restore their data from the latest backup",
		Long: cmdutil.Dedent(`
			Look at every tenant container of the inventory. One that is missing is
			recreated at once; one that is stopped, or running but failing its health
			check, for longer than --threshold is first started, and if that does not make
			it healthy it is replaced. A recreated container gets its data from the
			tenant's latest complete backup; then the tenant is checked through lb0 and
			the API's full reconcile runs. Each action is reported with how long the
			container was down (from when heal first saw it broken).

			heal never touches a healthy container, and never acts while another karana
			command (up, tenant add/remove/restore, backup) holds the project's lock: it
			says so and tries again on the next round. With --watch it keeps looking every
			--interval until interrupted.`),
		Example: cmdutil.Dedent(`
			$ karana heal
			$ karana heal --watch --interval 5s
			$ karana heal -o json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if opts.Interval < 100*time.Millisecond {
				return cmdutil.UsageError(fmt.Errorf("--interval %s: want at least 100ms", opts.Interval))
			}
			if opts.Threshold < 0 {
				return cmdutil.UsageError(fmt.Errorf("--threshold %s: want 0 or more", opts.Threshold))
			}
			opts.Healer = recovery.NewHealer(opts.Threshold)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return healRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Watch, "watch", false, "keep healing every --interval until interrupted")
	cmd.Flags().DurationVar(&opts.Interval, "interval", 5*time.Second, "time between two looks with --watch")
	cmd.Flags().DurationVar(&opts.Threshold, "threshold", 10*time.Second, "how long a container must be stopped or unhealthy before heal acts")
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

// Round is one look, as `heal -o json` prints it.
type Round struct {
	Time    time.Time         `json:"time"`
	Skipped string            `json:"skipped,omitempty"` // why nothing was looked at
	Actions []recovery.Action `json:"actions"`
	Error   string            `json:"error,omitempty"`
}

func healRun(ctx context.Context, opts *Options) error {
	bin, err := opts.Binary()
	if err != nil {
		return fmt.Errorf("reading the karana binary for the API containers: %w", err)
	}
	// Without --watch one look is taken; a look that the lock prevented
	// is waited out (a short while), since the caller asked for a heal now.
	first := true
	for {
		r := round(ctx, opts, bin)
		if !opts.Watch && r.Skipped != "" && first && ctx.Err() == nil {
			fmt.Fprintf(opts.IO.ErrOut, "%s; waiting\n", r.Skipped)
			for r.Skipped != "" && ctx.Err() == nil {
				select {
				case <-ctx.Done():
				case <-time.After(opts.Interval):
				}
				r = round(ctx, opts, bin)
			}
		}
		first = false
		if err := show(opts, r); err != nil {
			return err
		}
		if !opts.Watch {
			if r.Error != "" {
				return errors.New(r.Error)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			// Interrupted is how --watch ends (systemctl stop): not a failure.
			fmt.Fprintln(opts.IO.ErrOut, "heal: stopped")
			return nil
		case <-time.After(opts.Interval):
		}
	}
}

func round(ctx context.Context, opts *Options, bin []byte) Round {
	r := Round{Time: time.Now().UTC(), Actions: []recovery.Action{}}
	inv, err := opts.Inventory()
	if err != nil {
		r.Error = err.Error()
		return r
	}
	lock, err := fsutil.TryLock(inv.LockPath(), "karana heal")
	if errors.Is(err, fsutil.ErrLocked) {
		r.Skipped = "another karana command holds the project lock (" + fsutil.Holder(inv.LockPath()) + "); not acting"
		return r
	}
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer lock.Unlock()
	c, err := opts.Connect(ctx, inv)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	ctx = lxd.NetworkContext(ctx, inv, c)
	e := converge.NewEngine(c, inv, cmdutil.NewProgress(opts.IO))
	e.Binary = bin
	acts, err := opts.Healer.Round(ctx, e, opts.Deps)
	r.Actions = append(r.Actions, acts...)
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

func show(opts *Options, r Round) error {
	if opts.Output == "json" {
		return cmdutil.WriteJSON(opts.IO.Out, r)
	}
	stamp := r.Time.Local().Format(time.DateTime)
	switch {
	case r.Skipped != "":
		_, err := fmt.Fprintf(opts.IO.Out, "%s %s\n", stamp, r.Skipped)
		return err
	case len(r.Actions) == 0 && r.Error == "":
		if opts.Watch {
			return nil // a quiet round in a log says nothing
		}
		_, err := fmt.Fprintln(opts.IO.Out, "Every tenant container is healthy")
		return err
	}
	var rows [][]string
	for _, a := range r.Actions {
		did := a.Did
		if a.Error != "" {
			did = "FAILED"
		}
		rows = append(rows, []string{a.Tenant, a.Container, a.Problem, did, fmt.Sprintf("%.1fs", a.Down)})
	}
	if len(rows) > 0 {
		fmt.Fprintf(opts.IO.Out, "%s\n", stamp)
		if err := cmdutil.WriteTable(opts.IO.Out, opts.IO.IsStdoutTTY(), []string{"TENANT", "CONTAINER", "PROBLEM", "DID", "DOWN"}, rows); err != nil {
			return err
		}
	}
	if r.Error != "" {
		fmt.Fprintf(opts.IO.ErrOut, "%s heal: %s\n", stamp, r.Error)
	}
	return nil
}
