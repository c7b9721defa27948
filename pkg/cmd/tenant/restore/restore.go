// Package restore implements `karana tenant restore`.
package restore

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/recovery"
	"github.com/karana-project/karana/pkg/render"
	"github.com/karana-project/karana/pkg/tenant"
)

// Options of `karana tenant restore`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	Connect   func(ctx context.Context, inv *inventory.Inventory) (lxd.Client, error)
	Binary    func() ([]byte, error)
	Deps      recovery.Deps

	Name   string
	All    bool
	From   string
	Roles  []inventory.Role
	Output string
}

// NewCmdRestore returns `karana tenant restore`.
func NewCmdRestore(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Connect: lxd.ConnectInventory, Binary: converge.ReadBinary,
		Deps: recovery.Deps{Tenant: tenant.Deps{Validate: render.Validate}, Reconcile: recovery.DefaultReconciler()}}
	var roles []string
	cmd := &cobra.Command{
		Use:   "restore {NAME | --all} [--from BACKUP] [--role R]",
		Short: "Recreate a tenant's containers from a backup or from its export",
		Long: cmdutil.Dedent(`
			Delete the tenant's containers (or only those of --role), create fresh ones as
			tenant add does, put the backup's data into them (InfluxDB databases, users and
			grants; the API's dump and git history; Grafana's data folder), check each
			service answers, roll the routes when the tenant had been removed, check it
			through lb0, and run the API's full reconcile.

			--from is a backup id (karana backup --list), a backup folder, or "export" for
			the LXD exports tenant remove wrote; the default is the latest complete
			backup. A tenant no longer in the inventory is put back with the domain, id
			and slot the backup (or export) recorded. A failed restore is resumed by
			running the same command again.

			--all restores every tenant of the inventory from its latest backup, one
			after another: after a whole host was lost, run karana up, then this.`),
		Example: cmdutil.Dedent(`
			$ karana tenant restore acme
			$ karana tenant restore acme --role influx --from 20261201T030000.000Z
			$ karana tenant restore acme --from export
			$ karana tenant restore --all`),
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			switch {
			case opts.All && len(args) > 0:
				return cmdutil.UsageError(fmt.Errorf("give a tenant NAME or --all, not both"))
			case opts.All && opts.From != "":
				return cmdutil.UsageError(fmt.Errorf("--all restores each tenant's latest backup; --from names one tenant's"))
			case !opts.All && len(args) == 0:
				return cmdutil.UsageError(fmt.Errorf("give a tenant NAME, or --all"))
			case !opts.All:
				opts.Name = args[0]
				if err := inventory.ValidTenantName(opts.Name); err != nil {
					return cmdutil.UsageError(fmt.Errorf("tenant name: %w", err))
				}
			}
			opts.Roles = nil
			for _, s := range roles {
				r, err := recovery.ParseRole(s)
				if err != nil {
					return cmdutil.UsageError(fmt.Errorf("--role: %w", err))
				}
				opts.Roles = append(opts.Roles, r)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return restoreRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "restore every tenant of the inventory from its latest backup")
	cmd.Flags().StringVar(&opts.From, "from", "", `backup id or folder, or "export" (default: the latest backup)`)
	cmd.Flags().StringSliceVar(&roles, "role", nil, "restore only this role: influx, grafana or api (repeatable)")
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

func restoreRun(ctx context.Context, opts *Options) error {
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	lock, err := cmdutil.LockProject(ctx, opts.IO, inv)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	c, err := opts.Connect(ctx, inv)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUnavailable, err)
	}
	ctx = lxd.NetworkContext(ctx, inv, c)
	e := converge.NewEngine(c, inv, cmdutil.NewProgress(opts.IO))
	if e.Binary, err = opts.Binary(); err != nil {
		return fmt.Errorf("reading the karana binary for the API containers: %w", err)
	}
	names := []string{opts.Name}
	if opts.All {
		names = nil
		for _, t := range inv.Tenants {
			names = append(names, t.Name)
		}
	}
	var results []*recovery.Result
	var runErr error
	for _, n := range names {
		res, err := recovery.Restore(ctx, e, opts.Deps, recovery.Request{Name: n, From: opts.From, Roles: opts.Roles, Replace: true})
		results = append(results, res)
		if err != nil {
			runErr = fmt.Errorf("tenant %s: %w", n, err)
			break
		}
	}
	if opts.Output == "json" {
		out := struct {
			Tenants  []*recovery.Result `json:"tenants"`
			Restored bool               `json:"restored"`
			Error    string             `json:"error,omitempty"`
			Objects  []converge.Row     `json:"objects"`
		}{Tenants: results, Restored: runErr == nil, Objects: e.Report.Rows()}
		if runErr != nil {
			out.Error = runErr.Error()
		}
		if err := cmdutil.WriteJSON(opts.IO.Out, out); err != nil {
			return err
		}
		return runErr
	}
	if err := cmdutil.WriteSummary(opts.IO.Out, opts.IO.IsStdoutTTY(), e.Report, false); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("%w\nRun the same command again to resume", runErr)
	}
	for _, res := range results {
		fmt.Fprintf(opts.IO.Out, "Tenant %s restored from %s in %.1fs\n", res.Tenant, res.Source, res.Total)
	}
	if len(results) == 0 {
		fmt.Fprintln(opts.IO.Out, "No tenants to restore")
	}
	return nil
}
