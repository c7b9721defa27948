// Package remote implements `karana remote`: working with a remote LXD
// daemon or cluster (lxd.endpoint: https://...).
package remote

import (
	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmd/remote/trust"
	"github.com/karana-project/karana/pkg/cmdutil"
)

// NewCmdRemote returns `karana remote`.
func NewCmdRemote(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remote <command>",
		Short: "Drive a remote LXD daemon or cluster over HTTPS",
	}
	cmd.AddCommand(trust.NewCmdTrust(f, nil))
	return cmd
}
