// Package api implements `karana api`: the tenant's management API.
package api

import (
	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmd/api/serve"
	"github.com/karana-project/karana/pkg/cmdutil"
)

// NewCmdAPI returns `karana api`.
func NewCmdAPI(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "api <command>",
		Short: "Run the tenant management API (users, karanas, sync)",
		Long: cmdutil.Dedent(`
			The management API keeps a tenant's users and karanas and brings them into
			the tenant's InfluxDB and Grafana. It runs in each tenant's API container;
			see docs/api.md for its endpoints.`),
	}
	cmd.AddCommand(serve.NewCmdServe(f, nil))
	return cmd
}
