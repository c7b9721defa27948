// Package status implements `karana status`.
package status

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/traffic"
)

// Options of `karana status`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	Connect   func(ctx context.Context, inv *inventory.Inventory) (lxd.Client, error)
	Traffic   Traffic // the inner balancers' last minute (traffic.go)
	Output    string
}

// NewCmdStatus returns `karana status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Connect: lxd.ConnectInventory, Traffic: BalancerTraffic(nil)}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every container's state, address and health",
		Long: cmdutil.Dedent(`
			List the balancers and every tenant's containers with their LXD state,
			address and the health of their service (InfluxDB /ping, Grafana
			/api/health, API /healthz, the inner balancers' health frontend, lb0's
			HTTP port), plus containers marked as karana's that the inventory does not
			know. For each tenant service: requests and 5xx answers per second and the
			99th percentile response time over the last minute on lb1 and lb2 (their
			request rings, docs/metrics.md), and the tenant certificate's expiry.
			Exits with 4 when anything is missing, stopped or unhealthy.`),
		Example: cmdutil.Dedent(`
			$ karana status
			$ karana status -o json | jq '.[] | select(.health != "healthy")'`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

func statusRun(ctx context.Context, opts *Options) error {
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	c, err := opts.Connect(ctx, inv)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUnavailable, err)
	}
	ctx = lxd.NetworkContext(ctx, inv, c)
	st, err := converge.Probe(ctx, converge.NewEngine(c, inv, nil))
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUnavailable, err)
	}
	var tr map[string]traffic.Stats
	if opts.Traffic != nil {
		var terr error
		if tr, terr = opts.Traffic(ctx, inv, c); terr != nil {
			fmt.Fprintf(opts.IO.ErrOut, "warning: no traffic figures: %v\n", terr)
		}
	}
	rs := rows(inv, st, tr)
	bad := 0
	for _, s := range st {
		if !s.OK() {
			bad++
		}
	}
	if opts.Output == "json" {
		err = cmdutil.WriteJSON(opts.IO.Out, rs)
	} else {
		clustered := false
		for _, r := range rs {
			clustered = clustered || r.Location != ""
		}
		var table [][]string
		for _, r := range rs {
			addr := r.Address
			if addr == "" {
				addr = "(" + r.Want + ")"
			}
			row := []string{r.Group, r.Container, r.State, addr}
			if clustered {
				loc := r.Location
				if loc == "" {
					loc = "-"
				}
				row = append(row, loc)
			}
			table = append(table, append(append(row, r.Health), r.cells()...))
		}
		header := []string{"GROUP", "CONTAINER", "STATE", "ADDRESS", "HEALTH", "REQ/S", "5XX/S", "P99", "CERT EXPIRES"}
		if clustered {
			header = append([]string{"GROUP", "CONTAINER", "STATE", "ADDRESS", "MEMBER"}, header[4:]...)
		}
		err = cmdutil.WriteTable(opts.IO.Out, opts.IO.IsStdoutTTY(), header, table)
	}
	if err != nil {
		return err
	}
	if bad > 0 {
		return &cmdutil.SilentError{Code: cmdutil.ExitDrift}
	}
	return nil
}
