package balancer

import (
	"context"
	"fmt"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
)

// StatusReport is what `karana balancer status` shows.
type StatusReport struct {
	Outer OuterStatus   `json:"outer"`
	Inner []InnerStatus `json:"inner"`
}

// OuterStatus is lb0 as its runtime socket answers.
type OuterStatus struct {
	Name      string `json:"name"`
	Socket    string `json:"socket"`
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	Worker    *Info  `json:"worker,omitempty"`
}

// InnerStatus is one inner balancer: lb0's view of it in every backend,
// its own worker, and whether its configuration is what the inventory
// renders.
type InnerStatus struct {
	Name     string   `json:"name"`
	Admin    string   `json:"admin"`  // ready, drain, maint; "mixed" when backends disagree; "" when unknown
	Health   string   `json:"health"` // up, down, stopping, mixed
	Sessions int64    `json:"sessions"`
	Queue    int64    `json:"queue"`
	Backends []Server `json:"backends"`
	Worker   *Info    `json:"worker,omitempty"`
	// ConfigMatches is nil when the configuration could not be read.
	ConfigMatches *bool    `json:"config_matches"`
	Drift         []string `json:"drift,omitempty"` // paths that differ
	// Live compares what it runs (routes, through its runtime API) with
	// its files; nil when not compared (no runtime API or files).
	Live  *LiveState `json:"live,omitempty"`
	Error string     `json:"error,omitempty"`
}

// Healthy reports whether every inner balancer is UP and ready on lb0
// with the configuration the inventory renders.
func (r *StatusReport) Healthy() bool {
	if !r.Outer.Reachable {
		return false
	}
	for _, in := range r.Inner {
		if in.Admin != "ready" || in.Health != "up" || in.ConfigMatches == nil || !*in.ConfigMatches {
			return false
		}
		if in.Live != nil && !in.Live.Matches() {
			return false
		}
	}
	return true
}

// StatusOptions configure Status.
type StatusOptions struct {
	Inventory *inventory.Inventory
	LXD       lxd.Client // nil: configurations are not compared
	Runtime   Connector
	// Targets returns the Target of inner balancer name; nil means its
	// LXD container.
	Targets func(name string) Target
}

// Status reads lb0's runtime socket, each inner balancer's socket and
// configuration. An unreachable lb0 is reported, not returned as error.
func Status(ctx context.Context, opts StatusOptions) (*StatusReport, error) {
	inv := opts.Inventory
	rt := ReloadOptions{Runtime: opts.Runtime, LXD: opts.LXD}.runtime(inv)
	outer := inv.Balancers.Outer.Name
	rep := &StatusReport{Outer: OuterStatus{Name: outer, Socket: HostSocket(inv, outer)}}
	if inv.LXD.Remote() {
		rep.Outer.Socket = ContainerSocket + " in " + outer + " (through LXD)"
	}
	var servers []Server
	if info, err := rt(outer).Info(ctx); err != nil {
		rep.Outer.Error = err.Error()
	} else if servers, err = rt(outer).Servers(ctx); err != nil {
		rep.Outer.Error = err.Error()
	} else {
		rep.Outer.Reachable, rep.Outer.Worker = true, &info
	}
	var want Files
	var renderErr error
	if opts.LXD != nil || opts.Targets != nil {
		want, renderErr = renderInner(inv, true)
	}
	for _, name := range inv.Balancers.Inner {
		in := innerStatus(name, servers)
		if info, err := rt(name).Info(ctx); err == nil {
			in.Worker = &info
		}
		var t Target
		switch {
		case opts.Targets != nil:
			t = opts.Targets(name)
		case opts.LXD != nil:
			t = LXDNode(opts.LXD, name)
		}
		if t != nil {
			compareConfig(ctx, t, want, renderErr, &in)
			if in.Worker != nil {
				if live, err := LiveStatus(ctx, rt(name), t, want); err == nil {
					in.Live = live
				} else if in.Error == "" {
					in.Error = "comparing the live state: " + err.Error()
				}
			}
		}
		rep.Inner = append(rep.Inner, in)
	}
	return rep, nil
}

func innerStatus(name string, servers []Server) InnerStatus {
	in := InnerStatus{Name: name, Backends: []Server{}}
	for _, s := range servers {
		if s.Name != name {
			continue
		}
		in.Backends = append(in.Backends, s)
		in.Sessions += s.Sessions
		in.Queue += s.Queue
		in.Admin = merge(in.Admin, s.Admin, len(in.Backends) == 1)
		in.Health = merge(in.Health, s.Health, len(in.Backends) == 1)
	}
	return in
}

func merge(have, next string, first bool) string {
	if first || have == next {
		return next
	}
	return "mixed"
}

func compareConfig(ctx context.Context, t Target, want Files, renderErr error, in *InnerStatus) {
	if renderErr != nil {
		in.Error = fmt.Sprintf("rendering the inventory: %v", renderErr)
		return
	}
	cur, err := t.Sums(ctx)
	if err != nil {
		in.Error = err.Error()
		return
	}
	in.Drift = want.Sums().Diff(cur)
	ok := len(in.Drift) == 0
	in.ConfigMatches = &ok
}
