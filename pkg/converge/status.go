package converge

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/provision"
	"github.com/karana-project/karana/pkg/secrets"
)

// Status of one container, as `karana status` shows it.
type Status struct {
	Group     string `json:"group"` // "balancers", a tenant name, or "unknown"
	Container string `json:"container"`
	Role      string `json:"role"`
	State     string `json:"state"` // LXD's status, or "missing"
	Address   string `json:"address"`
	Want      string `json:"want_address"`
	Health    string `json:"health"` // healthy, or what failed
	// Location is the LXD cluster member the container runs on, "" when
	// the daemon is not clustered.
	Location string `json:"location,omitempty"`
}

// OK tells whether the container runs as the inventory says and answers.
func (s Status) OK() bool {
	return s.State == "Running" && s.Health == "healthy" && s.Group != "unknown"
}

// Probe returns every container's status: the inventory's balancers and
// tenants, then containers marked as karana's that the inventory does not
// know. Health checks run in parallel.
func Probe(ctx context.Context, e *Engine) ([]Status, error) {
	lctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	all, err := e.LXD.ListInstances(lctx)
	if err != nil {
		return nil, withDownMembers(ctx, e, err)
	}
	// A member that is down is named as such; LXD shows its containers
	// in state Error.
	down := map[string]string{}
	if ms, err := lxd.Members(lctx, e.LXD); err == nil {
		for _, m := range ms {
			if m.Status != "Online" {
				down[m.Name] = m.Status
			}
		}
	}
	byName := map[string]int{}
	for i, in := range all {
		byName[in.Name] = i
	}
	var out []Status
	var checks []func(ctx context.Context) error
	add := func(group, name, role, want string, check func(ctx context.Context) error) {
		s := Status{Group: group, Container: name, Role: role, State: "missing", Want: want}
		if i, ok := byName[name]; ok {
			s.State, s.Address, s.Location = all[i].Status, all[i].IPv4, location(all[i])
			if st, ok := down[s.Location]; ok {
				s.State = "member " + strings.ToLower(st)
			}
			delete(byName, name)
		}
		out = append(out, s)
		checks = append(checks, check)
	}
	for i, name := range BalancerNames(e.Inv) {
		add("balancers", name, RoleBalancer, e.Inv.BalancerAddr(i).String(),
			func(ctx context.Context) error { return e.BalancerHealth(ctx, i) })
	}
	for _, t := range e.Inv.Tenants {
		for _, r := range inventory.Roles {
			probe := provision.ForRole(provision.Tenant{Inv: e.Inv, T: t, Secrets: &secrets.Tenant{}}, r).Probe
			addr := e.Inv.TenantAddr(t, r)
			add(t.Name, t.ContainerName(r), string(r), addr.String(),
				func(ctx context.Context) error { return provision.Check(ctx, addr, probe) })
		}
	}
	var rest []string
	for name, i := range byName {
		if all[i].Config[KeyRole] != "" {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	for _, name := range rest {
		in := all[byName[name]]
		out = append(out, Status{Group: "unknown", Container: name, Role: in.Config[KeyRole], Location: location(in),
			State: in.Status, Address: in.IPv4, Health: "not in the inventory (tenant " + in.Config[KeyTenant] + ")"})
		checks = append(checks, nil)
	}
	var wg sync.WaitGroup
	for i := range out {
		if checks[i] == nil {
			continue
		}
		if out[i].State != "Running" {
			out[i].Health = "-"
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := checks[i](ctx); err != nil {
				out[i].Health = err.Error()
			} else {
				out[i].Health = "healthy"
			}
		}()
	}
	wg.Wait()
	return out, nil
}

// listTimeout bounds asking LXD for the containers: a cluster member that
// does not answer must not make status hang.
const listTimeout = 30 * time.Second

// location is the member in's container runs on; LXD says "none" when it
// is not clustered.
func location(in lxd.Instance) string {
	if in.Location == "none" {
		return ""
	}
	return in.Location
}

// withDownMembers names the cluster members that are not online when
// listing the containers failed: a member that stopped answering makes
// LXD wait for it until the cluster marks it offline.
func withDownMembers(ctx context.Context, e *Engine, err error) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ms, merr := lxd.Members(ctx, e.LXD)
	if merr != nil {
		return err
	}
	var down []string
	for _, m := range ms {
		if m.Status != "Online" {
			down = append(down, m.Name+" ("+m.Status+")")
		}
	}
	if len(down) == 0 {
		return err
	}
	return fmt.Errorf("%w; cluster members not online: %s", err, strings.Join(down, ", "))
}
