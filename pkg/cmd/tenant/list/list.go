// Package list implements `karana tenant list`.
package list

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/tenant"
)

// Options of `karana tenant list`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	// Connect, when set, asks LXD which cluster member each container
	// runs on; nil lists from the inventory alone.
	Connect func(context.Context, *inventory.Inventory) (lxd.Client, error)
	Output  string
}

// NewCmdList returns `karana tenant list`.
func NewCmdList(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Connect: lxd.ConnectInventory}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the inventory's tenants with their domains and addresses",
		Long: cmdutil.Dedent(`
			List the tenants of the inventory. When LXD is clustered, each container's
			cluster member is shown too (members in -o json); when LXD does not
			answer within a few seconds the list is printed from the inventory alone,
			with a note on stderr.`),
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
			return listRun(cmd.Context(), opts)
		},
	}
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

// memberTimeout bounds asking LXD for the containers' members.
const memberTimeout = 10 * time.Second

func listRun(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	where := members(ctx, opts, inv)
	clustered := len(where) > 0
	infos := make([]tenant.Info, 0, len(inv.Tenants))
	for _, t := range inv.Tenants {
		in := tenant.Describe(inv, t)
		for c := range in.Containers {
			if m, ok := where[c]; ok {
				if in.Members == nil {
					in.Members = map[string]string{}
				}
				in.Members[c] = m
			}
		}
		infos = append(infos, in)
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
		row := []string{in.Name, in.Domain, dash(in.Customer), dash(in.ID), strconv.Itoa(in.Slot),
			inv.TenantAddr(t, inventory.RoleInfluxDB).String() + "-" + lastOctet(inv.TenantAddr(t, inventory.RoleAPI).String())}
		if clustered {
			row = append(row, memberList(in))
		}
		rows = append(rows, row)
	}
	header := []string{"NAME", "DOMAIN", "CUSTOMER", "ID", "SLOT", "ADDRESSES"}
	if clustered {
		header = append(header, "MEMBERS")
	}
	return cmdutil.WriteTable(opts.IO.Out, opts.IO.IsStdoutTTY(), header, rows)
}

// members maps container names to the cluster member each runs on;
// empty when LXD is not clustered or does not answer in time.
func members(ctx context.Context, opts *Options, inv *inventory.Inventory) map[string]string {
	if opts.Connect == nil || len(inv.Tenants) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	c, err := opts.Connect(ctx, inv)
	var list []lxd.Instance
	if err == nil {
		list, err = c.ListInstances(ctx)
	}
	if err != nil {
		fmt.Fprintf(opts.IO.ErrOut, "note: cluster members not shown: %v\n", err)
		return nil
	}
	out := map[string]string{}
	for _, in := range list {
		if in.Location != "" && in.Location != "none" {
			out[in.Name] = in.Location
		}
	}
	return out
}

// memberList is the tenant's members in role order, "-" for a container
// LXD does not have.
func memberList(in tenant.Info) string {
	var ms []string
	for _, c := range in.ContainerNames() {
		ms = append(ms, dash(in.Members[c]))
	}
	return strings.Join(ms, ",")
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
