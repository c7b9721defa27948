// Package metrics implements `karana metrics`.
package metrics

import (
	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmd/metrics/scrapeconfig"
	"github.com/karana-project/karana/pkg/cmdutil"
)

// NewCmdMetrics returns `karana metrics`.
func NewCmdMetrics(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "metrics <command>",
		Short: "Where the balancers' and APIs' Prometheus metrics are scraped",
	}
	cmd.AddCommand(scrapeconfig.NewCmdScrapeConfig(f, nil))
	return cmd
}
