// Package certs implements `karana certs`.
package certs

import (
	"github.com/spf13/cobra"

	renewcmd "github.com/karana-project/karana/pkg/cmd/certs/renew"
	statuscmd "github.com/karana-project/karana/pkg/cmd/certs/status"
	"github.com/karana-project/karana/pkg/cmdutil"
)

// NewCmdCerts returns `karana certs`.
func NewCmdCerts(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs <command>",
		Short: "The tenants' certificates: status and ACME renewal",
	}
	cmd.AddCommand(
		statuscmd.NewCmdStatus(f, nil),
		renewcmd.NewCmdRenew(f, nil),
	)
	return cmd
}
