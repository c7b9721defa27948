// Package up implements `karana up`.
package up

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/host"
	"github.com/karana-project/karana/pkg/image"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/recovery"
	"github.com/karana-project/karana/pkg/render"
	sched "github.com/karana-project/karana/pkg/schedule"
	"github.com/karana-project/karana/pkg/secrets"
	"github.com/karana-project/karana/pkg/tenant"
	upkg "github.com/karana-project/karana/pkg/up"
)

// Options of `karana up`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	Deps      upkg.Deps
	// LXD is a preconnected client (tests); nil connects through Deps.
	LXD lxd.Client
	// Schedule installs the backup timer and the heal service on the host
	// (schedule.Install); nil skips it (tests).
	Schedule func(ctx context.Context, inv *inventory.Inventory) (string, error)
	// Reconcile is the tenant API's reconcile run after up filled a lost
	// container from its backup.
	Reconcile recovery.Reconciler

	DryRun bool
	Output string
}

// NewCmdUp returns `karana up`.
func NewCmdUp(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Deps: RealDeps(), Schedule: installSchedule,
		Reconcile: recovery.DefaultReconciler()}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Converge this host to the inventory: LXD, balancers, every tenant",
		Long: cmdutil.Dedent(`
			Bring a fresh Debian or Ubuntu host, or one already running, to what the
			inventory says, one reported step after another:

			  1. LXD installed and running
			  2. LXD initialised: storage pool, bridge with the inventory's subnet,
			     profile, project
			  3. images present (built when missing)
			  4. the balancers created with their fixed addresses, configurations
			     rendered, checked (haproxy -c) and pushed, HAProxy running
			  5. every tenant's InfluxDB, Grafana and API containers converged; a
			     container that was missing while its tenant has a backup gets the
			     latest backup's data (as karana tenant restore would)
			  6. where systemd is PID 1: a timer running karana backup on
			     backups.schedule and a service running karana heal --watch

			Every step reads what is there first and changes only what differs: a
			second run on an unchanged inventory changes nothing and says so, and a
			run that failed is resumed by running it again. The closing table lists
			what changed, what was already right and the health of each service.

			--dry-run prints the plan and touches nothing.`),
		Example: cmdutil.Dedent(`
			$ sudo karana up
			$ karana up --inventory inventories/prod.yaml --dry-run
			$ karana up -o json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return upRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the plan and change nothing")
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

// RealDeps are the real host, LXD, image and render parts.
func RealDeps() upkg.Deps {
	return upkg.Deps{
		EnsureLXD: host.EnsureLXD,
		PlanLXD: func(ctx context.Context) ([]string, error) {
			st, err := host.Probe(ctx)
			if err != nil {
				return nil, err
			}
			plan, err := host.Plan(st)
			var out []string
			for _, a := range plan {
				out = append(out, a.String())
			}
			return out, err
		},
		Connect:    lxd.ConnectInventory,
		BuildImage: buildImage,
		Validate:   render.ValidateOuter,
		Binary:     converge.ReadBinary,
	}
}

func upRun(ctx context.Context, opts *Options) error {
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	if !opts.DryRun {
		lock, err := cmdutil.LockProject(ctx, opts.IO, inv)
		if err != nil {
			return err
		}
		defer lock.Unlock()
	}
	if !opts.DryRun && inv.Path != "" {
		// A tenant written by hand gets its id and slot recorded before
		// anything is built from them, as tenant add records them.
		var done []string
		if inv, done, err = inventory.RecordTenantKeys(inv.Path, secrets.TenantID); err != nil {
			return err
		}
		if len(done) > 0 {
			fmt.Fprintf(opts.IO.ErrOut, "recorded id and slot of %s in %s\n", strings.Join(done, ", "), inv.Path)
		}
	}
	e := converge.NewEngine(opts.LXD, inv, cmdutil.NewProgress(opts.IO))
	e.DryRun = opts.DryRun
	runErr := upkg.Run(ctx, e, opts.Deps)
	if runErr == nil && !opts.DryRun {
		runErr = refill(ctx, e, opts)
	}
	if runErr == nil && !opts.DryRun && opts.Schedule != nil {
		runErr = schedule(ctx, e, opts)
	}
	if opts.Output == "json" {
		res := struct {
			DryRun  bool           `json:"dry_run"`
			Changed bool           `json:"changed"`
			Error   string         `json:"error,omitempty"`
			Objects []converge.Row `json:"objects"`
		}{DryRun: opts.DryRun, Changed: e.Report.Changed(), Objects: e.Report.Rows()}
		if runErr != nil {
			res.Error = runErr.Error()
		}
		if err := cmdutil.WriteJSON(opts.IO.Out, res); err != nil {
			return err
		}
		return runErr
	}
	if err := cmdutil.WriteSummary(opts.IO.Out, opts.IO.IsStdoutTTY(), e.Report, opts.DryRun); err != nil {
		return err
	}
	return runErr
}

// buildImage builds a missing image with debootstrap. Test images
// (karana-test/...) come from e2e/images.sh, which knows their recipes.
func buildImage(ctx context.Context, c lxd.Client, inv *inventory.Inventory, role, alias string) error {
	if strings.HasPrefix(alias, "karana-test/") {
		return fmt.Errorf("test image %q is missing: build it with `make e2e-images` (e2e/images.sh)", alias)
	}
	role, err := image.NormalizeRole(role)
	if err != nil {
		return err
	}
	_, _, err = image.Build(ctx, c, role, image.Options{Alias: alias, LockFile: image.LockPath(inv.Path)})
	return err
}

// schedule runs opts.Schedule as a step; a host without systemd is told
// what to run instead, and that is not a change.
func schedule(ctx context.Context, e *converge.Engine, opts *Options) error {
	e.Progress.Start("backup timer and heal service")
	did, err := opts.Schedule(ctx, e.Inv)
	switch {
	case errors.Is(err, sched.ErrNoSystemd):
		e.Progress.End("skipped: systemd is not PID 1; run karana backup and karana heal --watch yourself (docs/operations.md)")
		return nil
	case err != nil:
		e.Progress.Fail(err.Error())
		e.Report.Note("host", "schedule", "failed")
		return &converge.StepError{Step: "backup timer and heal service", Object: "systemd", Err: err}
	}
	e.Report.Note("host", "schedule", did)
	if did == "" {
		did = "unchanged"
	}
	e.Progress.End(did)
	return nil
}

func installSchedule(ctx context.Context, inv *inventory.Inventory) (string, error) {
	bin, err := os.Executable()
	if err != nil {
		return "", err
	}
	return sched.Install(ctx, sched.System(), inv, bin)
}

// refill gives containers up created for lost ones their tenant's latest
// backup: without it a deleted InfluxDB came back empty and every device
// was locked out.
func refill(ctx context.Context, e *converge.Engine, opts *Options) error {
	ctx = lxd.NetworkContext(ctx, e.Inv, e.LXD)
	for _, t := range e.Inv.Tenants {
		roles := recovery.Created(e.Report, t)
		if len(roles) == 0 || !recovery.HasBackup(e.Inv, t.Name) {
			continue
		}
		d := recovery.Deps{Tenant: tenant.Deps{Validate: opts.Deps.Validate}, Reconcile: opts.Reconcile}
		if err := recovery.Refill(ctx, e, d, t.Name, roles); err != nil {
			return err
		}
	}
	return nil
}
