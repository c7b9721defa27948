// Package renew implements `karana certs renew`.
package renew

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/acme"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
)

// Options of `karana certs renew`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	Connect   func(ctx context.Context, inv *inventory.Inventory) (lxd.Client, error)
	// Renewer builds what renews; tests replace it.
	Renewer func(inv *inventory.Inventory, c lxd.Client, io *iostreams.IOStreams) renewer

	Tenants []string
	Force   bool
	Output  string
}

type renewer interface {
	Renew(ctx context.Context, force bool, names []string) ([]acme.Result, error)
}

// NewCmdRenew returns `karana certs renew`.
func NewCmdRenew(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Connect: lxd.ConnectInventory, Renewer: newRenewer}
	cmd := &cobra.Command{
		Use:   "renew [TENANT...]",
		Short: "Obtain or renew the due certificates from the ACME CA, loaded live into lb1 and lb2",
		Long: cmdutil.Dedent(`
			For every tenant tls.acme covers (or those named), obtain a certificate
			for its hostnames (api., grafana., influx.<domain>) when it is due:
			missing, self-signed, not covering them, or expiring within
			tls.acme.renew_before (30 days by default); --force renews every one.

			The CA's HTTP-01 challenge is answered by lb1 and lb2 themselves (a map
			filled through their runtime API), so nothing else must be reachable. A new
			certificate is written into both inner balancers and loaded through their
			runtime API, without a reload, then into the key store (0600). A tenant
			that fails keeps its current certificate and is reported per hostname;
			the command then exits 1. karana up runs it on the backup schedule.`),
		Example: cmdutil.Dedent(`
			$ karana certs renew
			$ karana certs renew acme --force -o json`),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			opts.Tenants = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "renew every covered certificate, due or not")
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

func newRenewer(inv *inventory.Inventory, c lxd.Client, io *iostreams.IOStreams) renewer {
	return acme.New(inv, c, func(tenant, msg string) { fmt.Fprintf(io.ErrOut, "==> %s: %s\n", tenant, msg) })
}

func run(ctx context.Context, opts *Options) error {
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	if inv.TLS.ACME == nil {
		return cmdutil.WithCode(cmdutil.ExitInvalid, acme.ErrNotConfigured)
	}
	for _, n := range opts.Tenants {
		if _, ok := inv.Tenant(n); !ok {
			return cmdutil.WithCode(cmdutil.ExitInvalid, fmt.Errorf("tenant %q is not in %s", n, inv.Path))
		}
	}
	// The balancers' files and certificates are the project's: one writer
	// at a time (up, tenant add/remove, backup hold the same lock).
	lock, err := cmdutil.LockProject(ctx, opts.IO, inv)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	c, err := opts.Connect(ctx, inv)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUnavailable, err)
	}
	results, rerr := opts.Renewer(inv, c, opts.IO).Renew(ctx, opts.Force, opts.Tenants)
	if results == nil {
		results = []acme.Result{}
	}
	if opts.Output == "json" {
		if err := cmdutil.WriteJSON(opts.IO.Out, results); err != nil {
			return err
		}
	} else {
		var rows [][]string
		for _, r := range results {
			detail := r.Reason
			if !r.NotAfter.IsZero() {
				detail = strings.TrimSpace(detail + " expires " + r.NotAfter.UTC().Format("2006-01-02"))
			}
			rows = append(rows, []string{r.Tenant, r.Action, detail})
			for _, f := range r.Failures {
				rows = append(rows, []string{"", "  " + f.Host, f.Error})
			}
		}
		if err := cmdutil.WriteTable(opts.IO.Out, opts.IO.IsStdoutTTY(), []string{"TENANT", "ACTION", "DETAIL"}, rows); err != nil {
			return err
		}
	}
	if rerr != nil {
		if errors.Is(rerr, acme.ErrNotConfigured) {
			return cmdutil.WithCode(cmdutil.ExitInvalid, rerr)
		}
		return rerr
	}
	return nil
}
