// Package tenant implements `karana tenant`: add, remove, list, credentials.
package tenant

import (
	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmd/tenant/add"
	"github.com/karana-project/karana/pkg/cmd/tenant/credentials"
	"github.com/karana-project/karana/pkg/cmd/tenant/list"
	"github.com/karana-project/karana/pkg/cmd/tenant/remove"
	"github.com/karana-project/karana/pkg/cmd/tenant/restore"
	"github.com/karana-project/karana/pkg/cmdutil"
)

// NewCmdTenant returns `karana tenant`.
func NewCmdTenant(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenant <command>",
		Short: "Add, remove, restore and list tenants (InfluxDB, Grafana and API containers)",
	}
	cmd.AddCommand(
		add.NewCmdAdd(f, nil),
		credentials.NewCmdCredentials(f, nil),
		list.NewCmdList(f, nil),
		remove.NewCmdRemove(f, nil),
		restore.NewCmdRestore(f, nil),
	)
	return cmd
}
