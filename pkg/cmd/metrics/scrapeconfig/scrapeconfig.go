// Package scrapeconfig implements `karana metrics scrape-config`.
package scrapeconfig

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/scrape"
)

// Options of `karana metrics scrape-config`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)

	Interval time.Duration
}

// NewCmdScrapeConfig returns `karana metrics scrape-config`.
func NewCmdScrapeConfig(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory}
	cmd := &cobra.Command{
		Use:   "scrape-config",
		Short: "Print the Prometheus configuration that scrapes this back end",
		Long: cmdutil.Dedent(`
			Print a prometheus.yml that scrapes HAProxy's exporter on lb0, lb1 and lb2
			(http://<balancer>:8405/metrics, job karana-haproxy, with a tenant label
			taken from the backend names) and every tenant's management API
			(http://<tenant>-api:9100/metrics, job karana-api). Both are served on
			the bridge only, never through lb0: run Prometheus on the LXD host or on
			a machine routed to the bridge (docs/metrics.md).`),
		Example: cmdutil.Dedent(`
			$ karana metrics scrape-config > /etc/prometheus/prometheus.yml
			$ karana metrics scrape-config --interval 30s`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Interval < time.Second {
				return cmdutil.UsageError(fmt.Errorf("--interval %s: must be at least 1s", opts.Interval))
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return run(opts)
		},
	}
	cmd.Flags().DurationVar(&opts.Interval, "interval", 15*time.Second, "scrape_interval of the configuration (at least 1s)")
	return cmd
}

func run(opts *Options) error {
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	b, err := scrape.Config(inv, opts.Interval)
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitInvalid, err)
	}
	_, err = opts.IO.Out.Write(b)
	return err
}
