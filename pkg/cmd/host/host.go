// Package host implements `karana host`: check and install what the host
// needs (docs/host.md).
package host

import (
	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmd/host/check"
	"github.com/karana-project/karana/pkg/cmd/host/install"
	"github.com/karana-project/karana/pkg/cmdutil"
)

// NewCmdHost returns `karana host`.
func NewCmdHost(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "host <command>",
		Short: "Check and install the packages this host needs (LXD, HAProxy, debootstrap, ...)",
	}
	cmd.AddCommand(
		check.NewCmdCheck(f, nil),
		install.NewCmdInstall(f, nil),
	)
	return cmd
}
