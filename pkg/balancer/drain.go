package balancer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
)

// StateOptions configure Drain and Ready.
type StateOptions struct {
	Inventory *inventory.Inventory
	Runtime   Connector  // nil: RuntimeFor(Inventory, LXD)
	LXD       lxd.Client // needed for a remote daemon
	Name      string     // the inner balancer
	// Force drains even when another inner balancer is not UP and ready.
	Force bool
	// Wait, for Drain, waits up to this long for sessions and queue to
	// reach 0.
	Wait time.Duration
}

// Drain takes inner balancer Name out of lb0's rotation in every backend:
// its sessions finish, new ones go to the other inner balancers. It
// refuses when another one is not UP and ready, unless Force.
func Drain(ctx context.Context, opts StateOptions) (InnerStatus, error) {
	return setInnerState(ctx, opts, "drain")
}

// Ready puts inner balancer Name back into lb0's rotation.
func Ready(ctx context.Context, opts StateOptions) (InnerStatus, error) {
	return setInnerState(ctx, opts, "ready")
}

func setInnerState(ctx context.Context, opts StateOptions, state string) (InnerStatus, error) {
	inv := opts.Inventory
	if !slices.Contains(inv.Balancers.Inner, opts.Name) {
		return InnerStatus{}, fmt.Errorf("%q is not an inner balancer of %s (balancers.inner: %v)", opts.Name, inv.Path, inv.Balancers.Inner)
	}
	rt := ReloadOptions{Runtime: opts.Runtime, LXD: opts.LXD}.runtime(inv)
	outerName := inv.Balancers.Outer.Name
	outer := rt(outerName)
	if err := reachable(ctx, outer, outerName, false); err != nil {
		return InnerStatus{}, err
	}
	servers, err := outer.Servers(ctx)
	if err != nil {
		return InnerStatus{}, fmt.Errorf("reading %s's servers: %w", outerName, err)
	}
	bes := serverBackends(servers, opts.Name)
	if len(bes) == 0 {
		return InnerStatus{}, fmt.Errorf("%s has no server called %s in any backend; is its configuration current (karana up)?", outerName, opts.Name)
	}
	if state == "drain" && !opts.Force {
		if _, err := othersUp(servers, opts.Name, inv.Balancers.Inner); err != nil {
			return InnerStatus{}, fmt.Errorf("%w (--force drains anyway)", err)
		}
	}
	r := &Roll{Outer: outer, DrainTimeout: opts.Wait, Poll: 200 * time.Millisecond}
	if err := r.setState(ctx, bes, opts.Name, state); err != nil {
		return InnerStatus{}, err
	}
	if state == "drain" && opts.Wait > 0 {
		if _, err := r.waitDrained(ctx, opts.Name); err != nil {
			return InnerStatus{}, err
		}
	}
	if servers, err = outer.Servers(ctx); err != nil {
		return InnerStatus{}, err
	}
	return innerStatus(opts.Name, servers), nil
}
