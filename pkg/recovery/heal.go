package recovery

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
)

// Action is what heal did about one broken container.
type Action struct {
	Tenant    string  `json:"tenant"`
	Container string  `json:"container"`
	Problem   string  `json:"problem"` // missing, Stopped, unhealthy: ...
	Did       string  `json:"did"`     // started, restored from <backup id>, or "" when it failed
	Backup    string  `json:"backup,omitempty"`
	Down      float64 `json:"down_seconds"` // from first seen broken to healthy again
	Error     string  `json:"error,omitempty"`
}

// Healer remembers, across rounds, since when each container has been
// broken, so that it acts only on containers broken for longer than
// Threshold (missing ones at once: only a karana command creates tenant
// containers, and it holds the project lock while it does).
type Healer struct {
	Threshold time.Duration
	Now       func() time.Time
	// The parts that reach LXD and the services; unit tests replace them.
	Probe    func(ctx context.Context, e *converge.Engine) ([]converge.Status, error)
	Converge func(ctx context.Context, e *converge.Engine, t inventory.Tenant) error
	Restore  func(ctx context.Context, e *converge.Engine, d Deps, req Request) (*Result, error)
	since    map[string]time.Time
}

// NewHealer returns a healer with no history.
func NewHealer(threshold time.Duration) *Healer {
	return &Healer{Threshold: threshold, Now: time.Now, since: map[string]time.Time{},
		Probe: converge.Probe, Restore: Restore,
		Converge: func(ctx context.Context, e *converge.Engine, t inventory.Tenant) error { return e.Tenant(ctx, t) }}
}

type broken struct {
	tenant, container, problem string
	role                       inventory.Role
	since                      time.Time
	missing, stopped           bool
}

// Round looks at every tenant container once and heals those due. The
// caller holds the project lock. A healthy container is never touched.
func (h *Healer) Round(ctx context.Context, e *converge.Engine, d Deps) ([]Action, error) {
	sts, err := h.Probe(ctx, e)
	if err != nil {
		return nil, err
	}
	now := h.Now()
	seen := map[string]bool{}
	due := map[string][]broken{}
	for _, s := range sts {
		if s.Group == "balancers" || s.Group == "unknown" {
			continue
		}
		seen[s.Container] = true
		if s.State == "Running" && s.Health == "healthy" {
			delete(h.since, s.Container)
			continue
		}
		first, ok := h.since[s.Container]
		if !ok {
			first = now
			h.since[s.Container] = now
		}
		b := broken{tenant: s.Group, container: s.Container, role: inventory.Role(s.Role), since: first,
			missing: s.State == "missing", stopped: s.State != "missing" && s.State != "Running"}
		switch {
		case b.missing:
			b.problem = "missing"
		case b.stopped:
			b.problem = s.State
		default:
			b.problem = "unhealthy: " + s.Health
		}
		if b.missing || now.Sub(first) >= h.Threshold {
			due[s.Group] = append(due[s.Group], b)
		}
	}
	for c := range h.since {
		if !seen[c] {
			delete(h.since, c) // its tenant is gone from the inventory
		}
	}
	tenants := make([]string, 0, len(due))
	for t := range due {
		tenants = append(tenants, t)
	}
	sort.Strings(tenants)
	var out []Action
	var errs []error
	for _, name := range tenants {
		acts, err := h.heal(ctx, e, d, name, due[name])
		out = append(out, acts...)
		if err != nil {
			errs = append(errs, fmt.Errorf("healing tenant %s: %w", name, err))
		}
	}
	return out, errors.Join(errs...)
}

// heal brings one tenant's broken containers back: stopped ones are
// started first (their data is newer than any backup); whatever is then
// still broken is replaced and restored from the latest backup.
func (h *Healer) heal(ctx context.Context, e *converge.Engine, d Deps, name string, bs []broken) ([]Action, error) {
	t, ok := e.Inv.Tenant(name)
	if !ok {
		return nil, nil
	}
	acts := make([]Action, len(bs))
	for i, b := range bs {
		acts[i] = Action{Tenant: name, Container: b.container, Problem: b.problem}
	}
	var replace []inventory.Role
	var idx []int
	for i, b := range bs {
		if b.stopped {
			if err := h.Converge(ctx, e, *t); err == nil && h.healthy(ctx, e, b.container) {
				acts[i].Did = "started"
				acts[i].Down = h.Now().Sub(b.since).Seconds()
				delete(h.since, b.container)
				continue
			}
		}
		replace = append(replace, b.role)
		idx = append(idx, i)
	}
	if len(replace) == 0 {
		return acts, nil
	}
	res, err := h.Restore(ctx, e, d, Request{Name: name, Roles: replace, Replace: true})
	var rerr *ReconcileError
	for _, i := range idx {
		if err != nil && !errors.As(err, &rerr) {
			acts[i].Error = err.Error()
			continue
		}
		acts[i].Backup = res.Source
		acts[i].Did = "restored from " + filepath.Base(res.Source)
		if rerr != nil {
			acts[i].Did += " (reconcile failed)"
		}
		back := h.Now()
		if at, ok := res.Back[bs[i].container]; ok {
			back = at
		}
		acts[i].Down = back.Sub(bs[i].since).Seconds()
		delete(h.since, bs[i].container)
	}
	return acts, err
}

func (h *Healer) healthy(ctx context.Context, e *converge.Engine, container string) bool {
	sts, err := h.Probe(ctx, e)
	if err != nil {
		return false
	}
	for _, s := range sts {
		if s.Container == container {
			return s.State == "Running" && s.Health == "healthy"
		}
	}
	return false
}

// Summary is one line per action, for logs.
func Summary(acts []Action) string {
	var b strings.Builder
	for _, a := range acts {
		if a.Error != "" {
			fmt.Fprintf(&b, "%s %s: FAILED: %s\n", a.Container, a.Problem, a.Error)
			continue
		}
		fmt.Fprintf(&b, "%s %s: %s, down %.1fs\n", a.Container, a.Problem, a.Did, a.Down)
	}
	return b.String()
}
