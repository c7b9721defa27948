// Package credentials implements `karana tenant credentials`.
package credentials

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/secrets"
	"github.com/karana-project/karana/pkg/tenant"
)

// Options of `karana tenant credentials`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)

	Name   string
	Output string
}

// NewCmdCredentials returns `karana tenant credentials`.
func NewCmdCredentials(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory}
	cmd := &cobra.Command{
		Use:     "credentials NAME",
		Aliases: []string{"creds"},
		Short:   "Print a tenant's URLs, logins and passwords (API admin, Grafana, InfluxDB)",
		Long: cmdutil.Dedent(`
			Print the URLs, logins and passwords of tenant NAME, read from its secrets
			file (secrets/<project>/NAME.yaml beside the inventory):

			  api       the first admin of the management API (log in with
			            POST /v1/users/login {"user": LOGIN, "password": PASSWORD});
			            created by the API when absent, never reset, so a password
			            changed through the API is not shown here
			  grafana   Grafana's server admin
			  influxdb  InfluxDB's admin

			The URLs go through lb0: https://api., grafana. and influx.DOMAIN.`),
		Example: cmdutil.Dedent(`
			$ karana tenant credentials acme
			$ karana tenant credentials acme -o json | jq -r .api.password`),
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
			return credentialsRun(opts)
		},
	}
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

func credentialsRun(opts *Options) error {
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	t, ok := inv.Tenant(opts.Name)
	if !ok {
		return fmt.Errorf("tenant %q is not in %s (see `karana tenant list`)", opts.Name, inv.Path)
	}
	store := secrets.Store{Dir: inv.SecretsDir()}
	c, err := tenant.CredentialsOf(inv, *t, store)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("tenant %s has no credentials in %s yet: run `karana tenant add %s --domain %s` to create them", t.Name, store.Path(t.Name), t.Name, t.Domain)
	}
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		return cmdutil.WriteJSON(opts.IO.Out, c)
	}
	rows := [][]string{
		{"api", c.API.URL, c.API.Login, c.API.Password},
		{"grafana", c.Grafana.URL, c.Grafana.Login, c.Grafana.Password},
		{"influxdb", c.InfluxDB.URL, c.InfluxDB.Login, c.InfluxDB.Password},
	}
	return cmdutil.WriteTable(opts.IO.Out, opts.IO.IsStdoutTTY(), []string{"SERVICE", "URL", "LOGIN", "PASSWORD"}, rows)
}
