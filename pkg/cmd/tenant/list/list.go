// Package list implements `karana tenant list`.
package list

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/tenant"
)

// Options of `karana tenant list`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	Output    string
}

// NewCmdList returns `karana tenant list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the inventory's tenants with their domains and addresses",
		Example: cmdutil.Dedent(`
			$ karana tenant list
			$ karana tenant list -o json | jq -r '.[].domain'`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(opts)
		},
	}
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

func listRun(opts *Options) error {
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	infos := make([]tenant.Info, 0, len(inv.Tenants))
	for _, t := range inv.Tenants {
		infos = append(infos, tenant.Describe(inv, t))
	}
	if opts.Output == "json" {
		return cmdutil.WriteJSON(opts.IO.Out, infos)
	}
	if len(infos) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "No tenants in %s; add one with `karana tenant add NAME --domain DOMAIN`.\n", inv.Path)
		return nil
	}
	var rows [][]string
	for i, in := range infos {
		t := inv.Tenants[i]
		rows = append(rows, []string{in.Name, in.Domain, dash(in.Customer), dash(in.ID), strconv.Itoa(in.Slot),
			inv.TenantAddr(t, inventory.RoleInfluxDB).String() + "-" + lastOctet(inv.TenantAddr(t, inventory.RoleAPI).String())})
	}
	return converge.WriteTable(opts.IO.Out, opts.IO.IsStdoutTTY(), []string{"NAME", "DOMAIN", "CUSTOMER", "ID", "SLOT", "ADDRESSES"}, rows)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func lastOctet(a string) string {
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] == '.' {
			return a[i+1:]
		}
	}
	return a
}
