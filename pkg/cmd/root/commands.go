package root

import (
	"github.com/spf13/cobra"

	apicmd "github.com/karana-project/karana/pkg/cmd/api"
	backupcmd "github.com/karana-project/karana/pkg/cmd/backup"
	"github.com/karana-project/karana/pkg/cmd/balancer"
	certscmd "github.com/karana-project/karana/pkg/cmd/certs"
	healcmd "github.com/karana-project/karana/pkg/cmd/heal"
	hostcmd "github.com/karana-project/karana/pkg/cmd/host"
	imagecmd "github.com/karana-project/karana/pkg/cmd/image"
	metricscmd "github.com/karana-project/karana/pkg/cmd/metrics"
	"github.com/karana-project/karana/pkg/cmd/remote"
	"github.com/karana-project/karana/pkg/cmd/status"
	"github.com/karana-project/karana/pkg/cmd/tenant"
	"github.com/karana-project/karana/pkg/cmd/up"
	"github.com/karana-project/karana/pkg/cmdutil"
)

// addCommands attaches the noun commands. One line per noun: keep sorted.
func addCommands(cmd *cobra.Command, f *cmdutil.Factory) {
	cmd.AddCommand(
		apicmd.NewCmdAPI(f),
		backupcmd.NewCmdBackup(f, nil),
		balancer.NewCmdBalancer(f),
		certscmd.NewCmdCerts(f),
		healcmd.NewCmdHeal(f, nil),
		hostcmd.NewCmdHost(f),
		imagecmd.NewCmdImage(f),
		metricscmd.NewCmdMetrics(f),
		remote.NewCmdRemote(f),
		status.NewCmdStatus(f, nil),
		tenant.NewCmdTenant(f),
		up.NewCmdUp(f, nil),
	)
}
