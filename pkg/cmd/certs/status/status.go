// Package status implements `karana certs status`.
package status

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/acme"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
)

// Options of `karana certs status`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	Now       func() time.Time
	Output    string
}

// NewCmdStatus returns `karana certs status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List every tenant's certificate: issuer, names, expiry, whether renewal is due",
		Long: cmdutil.Dedent(`
			List each tenant's certificate in the key store (tls.cert_dir/<domain>.pem,
			or the tenant's cert:) with its issuer, names and expiry, whether tls.acme
			manages it, and whether karana certs renew would renew it now (missing,
			self-signed, not covering the tenant's hostnames, or expiring within
			tls.acme.renew_before, 30 days by default).`),
		Example: cmdutil.Dedent(`
			$ karana certs status
			$ karana certs status -o json | jq '.[] | select(.due)'`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(opts)
		},
	}
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

func run(opts *Options) error {
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	certs := acme.Status(inv, opts.Now())
	if certs == nil {
		certs = []acme.Cert{}
	}
	if opts.Output == "json" {
		return cmdutil.WriteJSON(opts.IO.Out, certs)
	}
	var rows [][]string
	for _, c := range certs {
		expires, names, issuer := "-", "-", "-"
		if !c.NotAfter.IsZero() {
			expires = c.NotAfter.UTC().Format("2006-01-02 15:04")
			names, issuer = join(c.Names), c.Issuer
		}
		managed, due := "no", "no"
		if c.ACME {
			managed = "acme"
		}
		if c.Due {
			due = "yes: " + c.Reason
		}
		rows = append(rows, []string{c.Tenant, names, issuer, expires, managed, due})
	}
	return cmdutil.WriteTable(opts.IO.Out, opts.IO.IsStdoutTTY(), []string{"TENANT", "NAMES", "ISSUER", "EXPIRES", "MANAGED", "DUE"}, rows)
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}
