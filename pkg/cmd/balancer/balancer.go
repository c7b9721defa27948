// Package balancer implements `karana balancer`: render, reload, drain, ready, status.
package balancer

import (
	"github.com/spf13/cobra"

	rendercmd "github.com/karana-project/karana/pkg/cmd/balancer/render"
	"github.com/karana-project/karana/pkg/cmdutil"
)

// NewCmdBalancer returns `karana balancer`.
func NewCmdBalancer(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "balancer <command>",
		Short: "Render, check and roll out the HAProxy configurations",
	}
	cmd.AddCommand(
		// one line per verb
		rendercmd.NewCmdRender(f, nil),
	)
	return cmd
}
