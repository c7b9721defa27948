package balancer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/render"
)

// ReloadOptions configure Reload. `tenant add` and `tenant remove` use it
// to apply their routing changes.
type ReloadOptions struct {
	Inventory    *inventory.Inventory
	LXD          lxd.Client
	DrainTimeout time.Duration // 30s when zero
	DryRun       bool
	Progress     *cmdutil.Progress // may be nil

	// Runtime returns the runtime client of balancer name; nil means
	// RuntimeFor (the host socket, or through LXD for a remote daemon).
	Runtime Connector
	// ReloadTimeout caps how long one reload may take (60s when zero).
	ReloadTimeout time.Duration
}

// Commands run in the balancer containers (Debian's haproxy.service runs
// haproxy -Ws: a reload starts a new worker and lets the old one finish).
var (
	LXDReloadCmd = []string{"systemctl", "reload", "haproxy"}
	LXDLogCmd    = []string{"journalctl", "-u", "haproxy", "-n", "20", "--no-pager", "-o", "cat"}
)

// Reload renders the inventory, checks the inner balancers' new
// configuration inside each container, and rolls it out one balancer at a
// time through lb0's runtime socket. Balancers whose configuration
// already matches are skipped.
func Reload(ctx context.Context, opts ReloadOptions) (*ReloadReport, error) {
	inv := opts.Inventory
	out, err := renderInner(inv, opts.DryRun)
	if err != nil {
		return nil, err
	}
	rt := opts.runtime(inv)
	outer := inv.Balancers.Outer.Name
	if err := reachable(ctx, rt(outer), outer); err != nil {
		return nil, err
	}
	if !opts.DryRun {
		unlock, err := lockRoll(inv)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	roll := &Roll{
		Outer: rt(outer), Inner: map[string]Runtime{}, Files: map[string]Files{},
		DrainTimeout: opts.DrainTimeout, ReloadTimeout: opts.ReloadTimeout,
		DryRun: opts.DryRun, Progress: opts.Progress,
	}
	for _, name := range inv.Balancers.Inner {
		roll.Targets = append(roll.Targets, LXDNode(opts.LXD, name))
		roll.Inner[name] = rt(name)
		roll.Files[name] = out
	}
	return roll.Run(ctx)
}

// LXDNode is the inner balancer name in its container.
func LXDNode(c lxd.Client, name string) *Node {
	return &Node{NodeName: name, Host: LXDHost{Client: c, Container: name}, Dir: render.ConfigDir,
		ReloadCmd: LXDReloadCmd, LogCmd: LXDLogCmd, FileMode: render.FileMode}
}

// renderInner renders the inner balancers' files. Missing certificates
// are generated, except in a dry run, which changes nothing.
func renderInner(inv *inventory.Inventory, dryRun bool) (Files, error) {
	out, err := render.Render(inv, render.Options{GenerateCerts: !dryRun})
	if err != nil {
		return nil, cmdutil.WithCode(cmdutil.ExitInvalid, fmt.Errorf("rendering the balancers' configuration: %w", err))
	}
	if len(out.Missing) > 0 {
		return nil, cmdutil.WithCode(cmdutil.ExitInvalid, fmt.Errorf("certificates missing: %s (a run without --dry-run generates them self-signed)", strings.Join(out.Missing, ", ")))
	}
	return Files(out.Inner()), nil
}

func (o ReloadOptions) runtime(inv *inventory.Inventory) Connector {
	if o.Runtime != nil {
		return o.Runtime
	}
	return RuntimeFor(inv, o.LXD)
}

// reachable fails with ExitUnavailable when the runtime socket of
// balancer name does not answer.
func reachable(ctx context.Context, rt Runtime, name string) error {
	if _, err := rt.Info(ctx); err != nil {
		hint := "is it running (karana up)?"
		if nr, ok := rt.(*NativeRuntime); ok && nr.via == "" {
			hint = fmt.Sprintf("is %s running, with its %s device making %s (karana up)?", name, SocketDeviceName, nr.Socket)
		}
		return cmdutil.WithCode(cmdutil.ExitUnavailable, fmt.Errorf("%s's runtime API: %w; %s", name, err, hint))
	}
	return nil
}
