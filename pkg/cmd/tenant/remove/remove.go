// Package remove implements `karana tenant remove`.
package remove

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/tenant"
)

// Options of `karana tenant remove`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	Connect   func(ctx context.Context, inv *inventory.Inventory) (lxd.Client, error)
	Deps      tenant.Deps

	Name   string
	Purge  bool
	Output string
}

// NewCmdRemove returns `karana tenant remove`.
func NewCmdRemove(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Connect: lxd.ConnectInventory,
		Deps: tenant.Deps{}}
	cmd := &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Remove a tenant: export and delete its containers, drop its routes",
		Long: cmdutil.Dedent(`
			Stop each of the tenant's containers and export it as an LXD backup
			tarball to exports/<project>/<container>.tar.gz beside the inventory
			(unless --purge), delete it, roll the inner balancers without the
			tenant's routes, and finally remove the tenant from the inventory.

			The credentials file stays in secrets/<project>/ (the exports need it to be
			useful); --purge deletes it too. A failed removal is resumed by running the
			same command again.`),
		Example: cmdutil.Dedent(`
			$ karana tenant remove acme
			$ karana tenant remove acme --purge`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if err := inventory.ValidTenantName(opts.Name); err != nil {
				return cmdutil.UsageError(fmt.Errorf("tenant name: %w", err))
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return removeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Purge, "purge", false, "delete without exporting, and delete the credentials")
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

func removeRun(ctx context.Context, opts *Options) error {
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
	if _, ok := inv.Tenant(opts.Name); !ok {
		left, err := tenant.Leftovers(ctx, c, opts.Name)
		if err != nil {
			return err
		}
		if len(left) == 0 {
			return fmt.Errorf("tenant %q is not in %s and has no containers", opts.Name, inv.Path)
		}
	}
	e := converge.NewEngine(c, inv, cmdutil.NewProgress(opts.IO))
	runErr := tenant.Remove(ctx, e, opts.Deps, opts.Name, opts.Purge)
	if opts.Output == "json" {
		out := struct {
			Name    string         `json:"name"`
			Removed bool           `json:"removed"`
			Error   string         `json:"error,omitempty"`
			Objects []converge.Row `json:"objects"`
		}{Name: opts.Name, Removed: runErr == nil, Objects: e.Report.Rows()}
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
	return nil
}
