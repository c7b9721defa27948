// Package backup implements `karana backup`.
package backup

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/backup"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
)

// Options of `karana backup`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	Connect   func(ctx context.Context, inv *inventory.Inventory) (lxd.Client, error)
	Now       func() time.Time

	Tenants []string
	List    bool
	Output  string
}

// NewCmdBackup returns `karana backup`.
func NewCmdBackup(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Connect: lxd.ConnectInventory, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "backup [TENANT...]",
		Short: "Back up each tenant's InfluxDB, Grafana and API data into the backup folder",
		Long: cmdutil.Dedent(`
			Take a consistent backup of every tenant (or of the tenants named): its
			InfluxDB databases with their users and grants (influxd backup), its API's
			data folder (the dump and its git history) and Grafana's data folder, into
			backups.folder/<project>/<tenant>/<time>/ with a manifest (tenant, role,
			time, size, sha256 of each part).

			A backup is complete only once its manifest is written and its folder
			renamed into place: one killed half-way is never taken for the latest, and
			the next backup removes it. Each tenant keeps its backups.keep newest
			backups; older ones are deleted only after a newer one is complete.
			--list shows the complete backups instead of taking one.`),
		Example: cmdutil.Dedent(`
			$ karana backup
			$ karana backup acme -o json
			$ karana backup --list`),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Tenants = args
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			for _, n := range args {
				if err := inventory.ValidTenantName(n); err != nil {
					return cmdutil.UsageError(fmt.Errorf("tenant name: %w", err))
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			if opts.List {
				return listRun(opts)
			}
			return backupRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.List, "list", false, "list the complete backups instead of taking one")
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

// selected returns the tenants named (all when none), each of which must
// be in the inventory.
func selected(inv *inventory.Inventory, names []string) ([]inventory.Tenant, error) {
	if len(names) == 0 {
		return inv.Tenants, nil
	}
	var out []inventory.Tenant
	for _, n := range names {
		t, ok := inv.Tenant(n)
		if !ok {
			return nil, cmdutil.UsageError(fmt.Errorf("tenant %q is not in %s", n, inv.Path))
		}
		out = append(out, *t)
	}
	return out, nil
}

func backupRun(ctx context.Context, opts *Options) error {
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	tenants, err := selected(inv, opts.Tenants)
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
	results, runErr := backup.All(ctx, c, inv, tenants, cmdutil.NewProgress(opts.IO), opts.Now)
	if opts.Output == "json" {
		if results == nil {
			results = []backup.Result{}
		}
		if err := cmdutil.WriteJSON(opts.IO.Out, results); err != nil {
			return err
		}
		return runErr
	}
	if len(results) == 0 {
		fmt.Fprintln(opts.IO.Out, "No tenants to back up")
		return runErr
	}
	var rows [][]string
	for _, r := range results {
		result := "ok"
		if r.Error != "" {
			result = "FAILED: " + strings.SplitN(r.Error, "\n", 2)[0]
		} else if len(r.Pruned) > 0 {
			result = fmt.Sprintf("ok, %d old deleted", len(r.Pruned))
		}
		rows = append(rows, []string{r.Tenant, r.ID, backup.HumanSize(r.Size), fmt.Sprintf("%.1fs", r.Seconds), result})
	}
	if err := cmdutil.WriteTable(opts.IO.Out, opts.IO.IsStdoutTTY(), []string{"TENANT", "BACKUP", "SIZE", "TOOK", "RESULT"}, rows); err != nil {
		return err
	}
	return runErr
}

// Listed is one complete backup in `karana backup --list -o json`.
type Listed struct {
	Tenant string    `json:"tenant"`
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Size   int64     `json:"size"`
	Dir    string    `json:"dir"`
}

func listRun(opts *Options) error {
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	// Named tenants need not be in the inventory any more: a removed
	// tenant's backups are what tenant restore brings it back from.
	names := opts.Tenants
	if len(names) == 0 {
		names = backup.Tenants(inv)
	}
	out := []Listed{}
	for _, n := range names {
		all, err := backup.List(inv, n)
		if err != nil {
			return err
		}
		for _, m := range all {
			out = append(out, Listed{Tenant: n, ID: m.ID, Time: m.Time, Size: m.Size(), Dir: m.Dir})
		}
	}
	if opts.Output == "json" {
		return cmdutil.WriteJSON(opts.IO.Out, out)
	}
	if len(out) == 0 {
		fmt.Fprintf(opts.IO.Out, "No backups in %s\n", inv.BackupDir())
		return nil
	}
	var rows [][]string
	for _, l := range out {
		rows = append(rows, []string{l.Tenant, l.ID, l.Time.Local().Format(time.DateTime), backup.HumanSize(l.Size)})
	}
	return cmdutil.WriteTable(opts.IO.Out, opts.IO.IsStdoutTTY(), []string{"TENANT", "BACKUP", "TIME", "SIZE"}, rows)
}
