package balancer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/render"
)

// ReloadOptions configure Apply (and Reload). `up`, `tenant add` and
// `tenant remove` apply their routing changes through Apply.
type ReloadOptions struct {
	Inventory *inventory.Inventory
	LXD       lxd.Client
	// DrainTimeout is how long a drained balancer's sessions are waited
	// for before its reload; zero does not wait: the old worker closes
	// each keep-alive connection after its next response.
	DrainTimeout time.Duration
	DryRun       bool
	Progress     Reporter // may be nil
	// Files are the inner balancers' rendered files; nil renders the
	// inventory.
	Files Files
	// Live changes balancers whose routes alone change through their
	// runtime API, without a reload (Roll.Live).
	Live bool
	// Force reloads balancers whose files already match.
	Force bool
	// Targets returns the Target of inner balancer name; nil means its
	// LXD container.
	Targets func(name string) Target
	// Lock takes the project's lock; nil means the flock in HostSocketDir.
	Lock func() (unlock func(), err error)

	// Runtime returns the runtime client of balancer name; nil means
	// RuntimeFor (the host socket, or through LXD for a remote daemon).
	Runtime Connector
	// ReloadTimeout caps how long one reload may take (60s when zero).
	ReloadTimeout time.Duration
}

// Commands run in the balancer containers (Debian's haproxy.service runs
// haproxy -Ws: a reload starts a new worker and lets the old one finish).
var (
	LXDReloadCmd = []string{"systemctl", "reload-or-restart", "haproxy"}
	LXDLogCmd    = []string{"journalctl", "-u", "haproxy", "-n", "20", "--no-pager", "-o", "cat"}
)

// Reload is Apply without live changes: every balancer whose files
// differ is reloaded (`karana balancer reload`).
func Reload(ctx context.Context, opts ReloadOptions) (*ReloadReport, error) {
	opts.Live = false
	return Apply(ctx, opts)
}

// Apply is the one way a configuration reaches the inner balancers, from
// `up`, `tenant add|remove` and `balancer reload`: render (unless Files
// are given), then under the project's lock compare every inner balancer,
// check its new files (staged, `haproxy -c` inside it; certificates of a
// live change in Go) before changing any, and change them one at a time:
// live through the runtime API when only routes change and Live is set,
// else by the rolling reload (drain on lb0 unless it carries no traffic,
// reload, wait for the new worker and lb0's checks, ready; roll back on
// failure). Balancers whose files already match are skipped.
func Apply(ctx context.Context, opts ReloadOptions) (*ReloadReport, error) {
	inv := opts.Inventory
	out := opts.Files
	if out == nil {
		var err error
		if out, err = renderInner(inv, opts.DryRun); err != nil {
			return nil, err
		}
	}
	rt := opts.runtime(inv)
	outer := inv.Balancers.Outer.Name
	if err := reachable(ctx, rt(outer), outer, !opts.DryRun); err != nil {
		return nil, err
	}
	if !opts.DryRun {
		lock := opts.Lock
		if lock == nil {
			lock = func() (func(), error) { return lockRoll(inv) }
		}
		unlock, err := lock()
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	roll := &Roll{
		Outer: rt(outer), Inner: map[string]Runtime{}, Files: map[string]Files{},
		DrainTimeout: opts.DrainTimeout, ReloadTimeout: opts.ReloadTimeout,
		DryRun: opts.DryRun, Progress: opts.Progress, Live: opts.Live, Force: opts.Force,
	}
	for _, name := range inv.Balancers.Inner {
		if opts.Targets != nil {
			roll.Targets = append(roll.Targets, opts.Targets(name))
		} else {
			roll.Targets = append(roll.Targets, LXDNode(opts.LXD, name))
		}
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
		return nil, fmt.Errorf("%w: rendering the balancers' configuration: %w", ErrRefused, err)
	}
	if len(out.Missing) > 0 {
		return nil, fmt.Errorf("%w: certificates missing: %s (a run without --dry-run generates them self-signed)", ErrRefused, strings.Join(out.Missing, ", "))
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
// balancer name does not answer; with wait it is given a few seconds (a
// balancer `up` has just configured opens its socket as it starts).
func reachable(ctx context.Context, rt Runtime, name string, wait bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := rt.Info(ctx)
		if err == nil {
			return nil
		}
		if !wait || time.Now().After(deadline) {
			hint := "is it running (karana up)?"
			if nr, ok := rt.(*NativeRuntime); ok && nr.via == "" {
				hint = fmt.Sprintf("is %s running, with its %s device making %s (karana up)?", name, SocketDeviceName, nr.Socket)
			}
			return &UnreachableError{Balancer: name, Err: fmt.Errorf("%w; %s", err, hint)}
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// ErrRefused marks a configuration refused before any balancer changed:
// rendering failed, `haproxy -c` refused it in a balancer, or a
// certificate of a live change is unusable (cmdutil maps it to exit 3).
var ErrRefused = errors.New("configuration refused")

// UnreachableError is a balancer whose runtime API does not answer
// (cmdutil maps it to exit 5).
type UnreachableError struct {
	Balancer string
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s's runtime API: %v", e.Balancer, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }
