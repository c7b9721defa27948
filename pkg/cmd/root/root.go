// Package root assembles karana's command tree.
package root

import (
	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmd/completion"
	initcmd "github.com/karana-project/karana/pkg/cmd/init"
	invcmd "github.com/karana-project/karana/pkg/cmd/inventory"
	"github.com/karana-project/karana/pkg/cmd/version"
	"github.com/karana-project/karana/pkg/cmdutil"
)

// NewCmdRoot returns the karana command with every subcommand attached.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "karana <command>",
		Short: "Build and run the karana monitoring back end on LXD",
		Long: cmdutil.Dedent(`
			karana turns a Debian or Ubuntu host into the karana back end: LXD,
			an outer HAProxy in front of two routing HAProxies, and three containers
			(InfluxDB, Grafana, the management API) per tenant.

			Every command reads one inventory file: --inventory, else $KARANA_INVENTORY,
			else inventories/local.yaml.`),
		Example: cmdutil.Dedent(`
			$ karana up
			$ karana tenant add acme --domain acme.example.org
			$ karana balancer render --check`),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.PersistentFlags().StringVarP(&f.InventoryFlag, "inventory", "i", "", "inventory file (default $KARANA_INVENTORY or inventories/local.yaml)")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cmdutil.UsageError(err)
	})
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)

	cmd.AddCommand(
		version.NewCmdVersion(f),
		initcmd.NewCmdInit(f, nil),
		invcmd.NewCmdInventory(f),
		completion.NewCmdCompletion(f),
	)
	addCommands(cmd, f)
	return cmd
}
