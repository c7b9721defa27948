// Package status implements `karana balancer status`.
package status

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
)

// Options of `karana balancer status`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	LXD       func(context.Context, *inventory.Inventory) (lxd.Client, error)
	Runtime   balancer.Connector // nil: the host sockets

	Output string
}

// NewCmdStatus returns `karana balancer status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, LXD: lxd.ConnectInventory}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each inner balancer's state on lb0, its sessions, and whether its configuration is current",
		Long: cmdutil.Dedent(`
			For every inner balancer: its admin state on lb0 (ready, drain, maint), its
			health as lb0's checks see it, its current sessions and queue, its worker,
			whether its configuration matches what the inventory renders, and whether
			what it runs (routes changed live through its runtime API: host map, tenant
			servers, crt-list) matches its files, so that a reload would change nothing.

			Exit codes: 0 every inner balancer is UP and ready with a matching
			configuration and live state, 4 a configuration or live state differs or
			a balancer is not ready,
			5 lb0's runtime socket (or LXD) does not answer.`),
		Example: cmdutil.Dedent(`
			$ karana balancer status
			$ karana balancer status -o json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

func statusRun(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	so := balancer.StatusOptions{Inventory: inv, Runtime: opts.Runtime}
	c, lxdErr := opts.LXD(ctx, inv)
	if lxdErr == nil {
		so.LXD = c
	}
	rep, err := balancer.Status(ctx, so)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		err = cmdutil.WriteJSON(opts.IO.Out, rep)
	} else {
		err = writeText(opts.IO.Out, rep)
	}
	if err != nil {
		return err
	}
	switch {
	case !rep.Outer.Reachable:
		return cmdutil.WithCode(cmdutil.ExitUnavailable, fmt.Errorf("%s's runtime API does not answer at %s: %s", rep.Outer.Name, rep.Outer.Socket, rep.Outer.Error))
	case lxdErr != nil:
		return cmdutil.WithCode(cmdutil.ExitUnavailable, fmt.Errorf("configurations not compared: %w", lxdErr))
	case !rep.Healthy():
		return &cmdutil.SilentError{Code: cmdutil.ExitDrift}
	}
	return nil
}

func writeText(w io.Writer, rep *balancer.StatusReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "BALANCER\tADMIN\tHEALTH\tSESSIONS\tQUEUE\tWORKER\tCONFIG\tLIVE\n")
	outer := "unreachable"
	if rep.Outer.Reachable {
		outer = "reachable"
	}
	fmt.Fprintf(tw, "%s\t-\t%s\t-\t-\t%s\t-\t-\n", rep.Outer.Name, outer, worker(rep.Outer.Worker))
	for _, in := range rep.Inner {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", in.Name, orUnknown(in.Admin), orUnknown(strings.ToUpper(in.Health)),
			in.Sessions, in.Queue, worker(in.Worker), config(in), live(in.Live))
	}
	return tw.Flush()
}

func worker(in *balancer.Info) string {
	if in == nil {
		return "-"
	}
	return fmt.Sprintf("pid %d, up %ds", in.Pid, in.Uptime)
}

func config(in balancer.InnerStatus) string {
	switch {
	case in.ConfigMatches == nil && in.Error != "":
		return "unknown: " + in.Error
	case in.ConfigMatches == nil:
		return "unknown"
	case *in.ConfigMatches:
		return "matches"
	default:
		return "differs: " + strings.Join(in.Drift, " ")
	}
}

func live(l *balancer.LiveState) string {
	switch {
	case l == nil:
		return "unknown"
	case l.Matches():
		return "matches files"
	default:
		return "differs: " + strings.Join(l.Drift, "; ")
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
