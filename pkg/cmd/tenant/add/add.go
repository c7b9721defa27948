// Package add implements `karana tenant add`.
package add

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/secrets"
	"github.com/karana-project/karana/pkg/tenant"
)

// Options of `karana tenant add`.
type Options struct {
	IO            *iostreams.IOStreams
	InventoryPath func() string
	Connect       func(ctx context.Context, inv *inventory.Inventory) (lxd.Client, error)
	Binary        func() ([]byte, error)
	Deps          tenant.Deps

	Tenant      inventory.Tenant
	ShowSecrets bool
	Output      string
}

// NewCmdAdd returns `karana tenant add`.
func NewCmdAdd(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{
		IO: f.IOStreams, InventoryPath: f.InventoryPath, Connect: lxd.ConnectInventory,
		Binary: converge.ReadBinary, Deps: tenant.Deps{},
	}
	cmd := &cobra.Command{
		Use:   "add NAME --domain DOMAIN",
		Short: "Add a tenant: record it, create its three containers, route its hostnames",
		Long: cmdutil.Dedent(`
			Record the tenant in the inventory first (with the lowest free address
			slot and, unless --id is given, a new 13-character tenant id), then
			create NAME-influx, NAME-grafana and NAME-api in parallel with the
			inventory's limits, configure them (InfluxDB with authentication and its
			admin, Grafana with its admin password and root_url, the API with this
			karana binary and its credentials), route api., grafana. and influx.DOMAIN
			on the inner balancers one at a time, and check both through lb0.

			Credentials are generated once and kept, 0600, in secrets/<project>/NAME.yaml
			beside the inventory; they are printed only with --show-secrets.

			If a step fails, the error names the step and the container; run the same
			command again to resume.`),
		Example: cmdutil.Dedent(`
			$ karana tenant add acme --domain acme.example.org --customer "Acme Ltd"
			$ karana tenant add bintumani --domain bintumani.org --id SMNTYQIUB4YTC
			$ karana tenant add acme --domain acme.example.org --show-secrets -o json`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Tenant.Name = args[0]
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if err := tenant.Validate(opts.Tenant); err != nil {
				return cmdutil.UsageError(err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return addRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Tenant.Domain, "domain", "", "the tenant's DNS domain (api., grafana., influx.<domain> are routed)")
	cmd.Flags().StringVar(&opts.Tenant.Customer, "customer", "", "the customer's name, given to the API")
	cmd.Flags().StringVar(&opts.Tenant.ID, "id", "", "tenant id (default: a new 13-character id)")
	cmd.Flags().BoolVar(&opts.ShowSecrets, "show-secrets", false, "print the generated credentials")
	cmdutil.OutputFlag(cmd, &opts.Output)
	_ = cmd.MarkFlagRequired("domain")
	return cmd
}

func addRun(ctx context.Context, opts *Options) error {
	path := opts.InventoryPath()
	before, err := inventory.Load(path)
	if err != nil {
		return cmdutil.InventoryError(err)
	}
	lock, err := cmdutil.LockProject(ctx, opts.IO, before)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	inv, t, added, err := tenant.Record(path, opts.Tenant)
	if err != nil {
		return cmdutil.InventoryError(err)
	}
	p := cmdutil.NewProgress(opts.IO)
	if added {
		p.Start("recording %s in %s", t.Name, path)
		p.End(fmt.Sprintf("slot %d, id %s", *t.Slot, t.ID))
	}
	c, err := opts.Connect(ctx, inv)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUnavailable, err)
	}
	ctx = lxd.NetworkContext(ctx, inv, c)
	e := converge.NewEngine(c, inv, p)
	if added {
		e.Report.Note(t.Name, "inventory", "recorded")
	}
	if e.Binary, err = opts.Binary(); err != nil {
		return fmt.Errorf("reading the karana binary for %s: %w", t.ContainerName(inventory.RoleAPI), err)
	}
	runErr := tenant.Converge(ctx, e, opts.Deps, t)
	return report(opts, e, t, runErr)
}

func report(opts *Options, e *converge.Engine, t inventory.Tenant, runErr error) error {
	res := tenant.Describe(e.Inv, t)
	if opts.ShowSecrets && runErr == nil {
		if s, err := e.Secrets.Load(t.Name); err == nil {
			res.Secrets = s
		}
	}
	if opts.Output == "json" {
		out := struct {
			tenant.Info
			Error   string         `json:"error,omitempty"`
			Objects []converge.Row `json:"objects"`
		}{Info: res, Objects: e.Report.Rows()}
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
	return welcome(opts, e, t, res.Secrets)
}

// welcome tells the operator where the tenant's services are, with which
// logins, and how to see the passwords.
func welcome(opts *Options, e *converge.Engine, t inventory.Tenant, s *secrets.Tenant) error {
	c, err := tenant.CredentialsOf(e.Inv, t, e.Secrets)
	if err != nil {
		return err
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "\nWelcome, %s (tenant id %s). Through %s:\n", t.Name, t.ID, e.Inv.Balancers.Outer.Name)
	rows := [][]string{{"API", c.API.URL, "login " + c.API.Login}, {"Grafana", c.Grafana.URL, "login " + c.Grafana.Login}, {"InfluxDB", c.InfluxDB.URL, "login " + c.InfluxDB.Login}}
	if s != nil {
		for i, l := range []tenant.Login{c.API, c.Grafana, c.InfluxDB} {
			rows[i] = append(rows[i], "password "+l.Password)
		}
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r[1]))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-9s %-*s  %s\n", r[0], width, r[1], strings.Join(r[2:], "  "))
	}
	fmt.Fprintf(w, "Passwords: karana tenant credentials %s%s\n", t.Name, inventoryFlag(opts))
	return nil
}

// inventoryFlag repeats --inventory when it is not the default, so the
// printed command works as it is.
func inventoryFlag(opts *Options) string {
	if p := opts.InventoryPath(); p != inventory.DefaultPath && os.Getenv(inventory.Env) != p {
		return " --inventory " + p
	}
	return ""
}
