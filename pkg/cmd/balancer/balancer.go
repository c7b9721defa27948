// Package balancer implements `karana balancer`: render, reload, drain, ready, status.
package balancer

import (
	"github.com/spf13/cobra"

	draincmd "github.com/karana-project/karana/pkg/cmd/balancer/drain"
	readycmd "github.com/karana-project/karana/pkg/cmd/balancer/ready"
	reloadcmd "github.com/karana-project/karana/pkg/cmd/balancer/reload"
	rendercmd "github.com/karana-project/karana/pkg/cmd/balancer/render"
	statuscmd "github.com/karana-project/karana/pkg/cmd/balancer/status"
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
		reloadcmd.NewCmdReload(f, nil),
		draincmd.NewCmdDrain(f, nil),
		readycmd.NewCmdReady(f, nil),
		statuscmd.NewCmdStatus(f, nil),
	)
	return cmd
}
