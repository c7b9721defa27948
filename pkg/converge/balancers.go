package converge

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/provision"
	"github.com/karana-project/karana/pkg/render"
)

// HAProxyUnit is the balancers' service.
const HAProxyUnit = "haproxy.service"

// InnerApplier rolls files onto the inner balancers and says what it did.
// inv is the inventory the files were rendered from (tenant remove renders
// one without the tenant).
type InnerApplier func(ctx context.Context, e *Engine, inv *inventory.Inventory, files map[string][]byte) (string, error)

// BalancerRole is what a balancer container must hold: files is
// render.Output.Outer() or Inner().
func BalancerRole(files map[string][]byte) provision.Role {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	r := provision.Role{Role: RoleBalancer, Unit: HAProxyUnit, Reload: true,
		Prune: path.Join(render.ConfigDir, render.CertsDir)}
	for _, p := range paths {
		r.Files = append(r.Files, provision.File{Path: p, Data: files[p], Mode: render.FileMode(p)})
	}
	return r
}

// Balancers converges lb0 and the inner balancers: containers with their
// fixed addresses and runtime-socket devices, then the rendered files and
// a running HAProxy in each.
func (e *Engine) Balancers(ctx context.Context, out *render.Output) error {
	if e.Inv.LXD.Remote() {
		return e.balancers(ctx, out) // no host sockets: nothing on this machine to prepare
	}
	err := e.Step("host", balancer.HostSocketDir, "host folder "+balancer.HostSocketDir, func() (string, error) {
		if _, err := os.Stat(balancer.HostSocketDir); err == nil {
			return "", nil
		}
		if e.DryRun {
			return "would create", nil
		}
		return "created", os.MkdirAll(balancer.HostSocketDir, 0o700)
	})
	if err != nil {
		return err
	}
	return e.balancers(ctx, out)
}

func (e *Engine) balancers(ctx context.Context, out *render.Output) error {
	names := BalancerNames(e.Inv)
	for i, name := range names {
		spec := BalancerSpec(e.Inv, i)
		err := e.Step("balancer", name, "container "+name, func() (string, error) {
			did, started, err := e.ensureContainer(ctx, spec)
			if err == nil && started {
				err = e.waitBooted(ctx, name)
			}
			return did, err
		})
		if err != nil {
			return err
		}
	}
	if out == nil { // dry run before certificates exist
		e.Report.Note("balancer", "configuration", "would write every balancer's files")
		return nil
	}
	err := e.Step("balancer", names[0], "configuration of "+names[0], func() (string, error) {
		if e.DryRun {
			return e.applyBalancer(ctx, names[0], out.Outer())
		}
		t := balancer.Target(balancer.LXDNode(e.LXD, names[0]))
		if e.OuterTarget != nil {
			t = e.OuterTarget(names[0])
		}
		return balancer.ApplyOuter(ctx, t, balancer.Files(out.Outer()))
	})
	if err != nil {
		return err
	}
	return e.Step("balancer", "inner", "configuration of "+strings.Join(e.Inv.Balancers.Inner, ", "), func() (string, error) {
		return e.applyInner(ctx, e.Inv, out.Inner())
	})
}

func (e *Engine) applyInner(ctx context.Context, inv *inventory.Inventory, files map[string][]byte) (string, error) {
	if e.DryRun {
		var did []string
		for _, name := range inv.Balancers.Inner {
			d, err := e.applyBalancer(ctx, name, files)
			if err != nil {
				return "", err
			}
			if d != "" {
				did = append(did, name+": "+d)
			}
		}
		return strings.Join(did, "; "), nil
	}
	if e.ApplyInner != nil {
		return e.ApplyInner(ctx, e, inv, files)
	}
	return ApplyInner(ctx, e, inv, files)
}

// ApplyInner is the one path to the inner balancers (balancer.Apply), on
// the first run and with a balancer down as always: staged and checked by
// haproxy -c in each, one at a time under the project's lock, rolled back
// on failure; a change of routes alone goes through the runtime API.
func ApplyInner(ctx context.Context, e *Engine, inv *inventory.Inventory, files map[string][]byte) (string, error) {
	rep, err := balancer.Apply(ctx, balancer.ReloadOptions{Inventory: inv, LXD: e.LXD, Files: balancer.Files(files),
		Live: true, Runtime: e.Runtime, Targets: e.InnerTargets})
	var did []string
	if rep != nil {
		for _, b := range rep.Balancers {
			if b.Action != balancer.ActionUnchanged {
				did = append(did, b.Name+" "+b.Action)
			}
		}
	}
	return strings.Join(did, ", "), err
}

// applyBalancer says what a run would change on balancer name (dry run:
// the files that differ).
func (e *Engine) applyBalancer(ctx context.Context, name string, files map[string][]byte) (string, error) {
	role := BalancerRole(files)
	d, err := provision.Diff(ctx, e.LXD, name, role)
	if errors.Is(err, lxd.ErrNotFound) || errors.Is(err, lxd.ErrNotRunning) {
		return fmt.Sprintf("would write %d files", len(role.Files)), nil
	}
	if err != nil || len(d) == 0 {
		return "", err
	}
	return fmt.Sprintf("would write %s and reload", strings.Join(d, ", ")), nil
}

// InnerProbe is the inner balancers' health check.
func InnerProbe() provision.Probe {
	return provision.Probe{Port: render.HealthPort, Path: render.HealthURI, Status: 200}
}

// BalancerHealth checks balancer i: lb0 by a TCP connection to its HTTP
// port, the inner ones by their health frontend.
func (e *Engine) BalancerHealth(ctx context.Context, i int) error {
	if i == 0 {
		return provision.DialCheck(ctx, netip.AddrPortFrom(e.Inv.OuterAddr(), uint16(e.Inv.Balancers.Outer.HTTPPort)))
	}
	return provision.Check(ctx, e.Inv.BalancerAddr(i), InnerProbe())
}

// InnerConfig rolls out to the inner balancers only: what a tenant change
// needs (lb0's configuration does not name tenants). out is rendered from inv.
func (e *Engine) InnerConfig(ctx context.Context, inv *inventory.Inventory, out *render.Output) error {
	return e.Step("balancer", "inner", "routes on "+strings.Join(inv.Balancers.Inner, ", "), func() (string, error) {
		return e.applyInner(ctx, inv, out.Inner())
	})
}

// MarkUp tells every inner balancer that the tenant servers named (their
// containers) answer, as karana has just checked (balancer.MarkUp): a
// server that a reload started, or that failed its checks while its
// container booted, would otherwise stay DOWN for up to 10 s on one inner
// balancer and not the other.
func (e *Engine) MarkUp(ctx context.Context, servers []string) error {
	if e.DryRun || len(servers) == 0 {
		return nil
	}
	rt := e.Runtime
	if rt == nil {
		rt = balancer.RuntimeFor(e.Inv, e.LXD)
	}
	for _, name := range e.Inv.Balancers.Inner {
		if err := balancer.MarkUp(ctx, rt(name), servers); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}
