package balancer

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// backendsOf lists lb0's backends that have a server called name.
func (r *Roll) backendsOf(ctx context.Context, name string) ([]string, error) {
	servers, err := r.Outer.Servers(ctx)
	if err != nil {
		return nil, err
	}
	return serverBackends(servers, name), nil
}

func serverBackends(servers []Server, name string) []string {
	var bes []string
	for _, s := range servers {
		if s.Name == name {
			bes = append(bes, s.Backend)
		}
	}
	sort.Strings(bes)
	return bes
}

// checkOthersUp refuses to take name out when another inner balancer is
// not UP and ready on lb0: never two out at once. It returns name's
// backends on lb0 and whether name is in service (UP in any of them); a
// balancer out of service is not taken out by a reload, so the others
// need not be up.
func (r *Roll) checkOthersUp(ctx context.Context, name string) ([]string, bool, error) {
	servers, err := r.Outer.Servers(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("%s: reading lb0's servers: %w", name, err)
	}
	bes := serverBackends(servers, name)
	inService := false
	for _, s := range servers {
		inService = inService || (s.Name == name && s.Up())
	}
	if len(bes) > 0 && !inService {
		return bes, false, nil
	}
	peers := make([]string, len(r.Targets))
	for i, t := range r.Targets {
		peers[i] = t.Name()
	}
	bes, err = othersUp(servers, name, peers)
	return bes, true, err
}

// othersUp checks, in lb0's servers, that every peer of name is UP and
// ready, and returns name's backends.
func othersUp(servers []Server, name string, peers []string) ([]string, error) {
	bes := serverBackends(servers, name)
	if len(bes) == 0 {
		return nil, fmt.Errorf("%s: lb0 has no server called %s in any backend; is lb0's configuration current (karana up)?", name, name)
	}
	for _, other := range peers {
		if other == name {
			continue
		}
		seen := false
		for _, s := range servers {
			if s.Name != other {
				continue
			}
			seen = true
			if !s.Up() || s.Admin != "ready" {
				return nil, &peerOutError{peer: other, booting: s.Admin == "ready", msg: fmt.Sprintf("%s: refusing to take it out: %s is %s/%s on lb0 (backend %s), and both must never be out at once; bring %s back (karana balancer ready %s) and run again",
					name, other, s.Health, s.Admin, s.Backend, other, other)}
			}
		}
		if !seen {
			return nil, fmt.Errorf("%s: refusing to take it out: lb0 has no server called %s to carry the traffic", name, other)
		}
	}
	return bes, nil
}

func (r *Roll) setState(ctx context.Context, backends []string, name, state string) error {
	for _, be := range backends {
		if err := r.Outer.SetState(ctx, be, name, state); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func (r *Roll) ready(ctx context.Context, backends []string, name string) error {
	return r.setState(ctx, backends, name, "ready")
}

// waitDrained waits until name has no session and no queue on lb0, or the
// drain timeout. It returns what is left.
func (r *Roll) waitDrained(ctx context.Context, name string) (int64, error) {
	deadline := time.Now().Add(r.DrainTimeout)
	for {
		servers, err := r.Outer.Servers(ctx)
		if err != nil {
			return 0, fmt.Errorf("%s: reading sessions on lb0: %w", name, err)
		}
		var left int64
		for _, s := range servers {
			if s.Name == name {
				left += s.Sessions + s.Queue
			}
		}
		if left == 0 || !time.Now().Before(deadline) {
			return left, nil
		}
		if err := sleep(ctx, r.Poll); err != nil {
			return left, err
		}
	}
}

// pid is the pid of name's current worker, 0 when unknown.
func (r *Roll) pid(ctx context.Context, name string) int64 {
	rt := r.Inner[name]
	if rt == nil {
		return 0
	}
	in, err := rt.Info(ctx)
	if err != nil {
		return 0
	}
	return in.Pid
}

// waitNewWorker waits until t's socket is answered by a worker other than
// oldPid: the reload took. A reload that keeps the old worker failed, and
// haproxy's log says why.
func (r *Roll) waitNewWorker(ctx context.Context, t Target, oldPid int64) (int64, error) {
	rt := r.Inner[t.Name()]
	if rt == nil || oldPid == 0 {
		// No socket, or it did not answer before the reload: nothing to
		// compare with, so lb0's health check alone says it took.
		return 0, nil
	}
	deadline := time.Now().Add(r.ReloadTimeout)
	var last error
	for time.Now().Before(deadline) {
		in, err := rt.Info(ctx)
		if err == nil && in.Pid != oldPid && in.Pid != 0 {
			return in.Pid, nil
		}
		last = err
		if err := sleep(ctx, r.Poll); err != nil {
			return 0, err
		}
	}
	out := t.Log(ctx)
	if last != nil {
		out = last.Error() + "\n" + out
	}
	return 0, &HAProxyError{Balancer: t.Name(), Doing: fmt.Sprintf("reloading: worker %d still serves after %s", oldPid, r.ReloadTimeout), Output: out}
}

// waitUp waits until lb0's health checks see name UP in all its backends.
func (r *Roll) waitUp(ctx context.Context, name string) error {
	return r.waitUpFor(ctx, name, r.ReloadTimeout)
}

// waitUpFor is waitUp with its own timeout.
func (r *Roll) waitUpFor(ctx context.Context, name string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var state string
	for time.Now().Before(deadline) {
		servers, err := r.Outer.Servers(ctx)
		if err == nil {
			up, n := 0, 0
			var states []string
			for _, s := range servers {
				if s.Name == name {
					n++
					states = append(states, s.Backend+":"+s.Health+" "+s.Check)
					if s.Up() {
						up++
					}
				}
			}
			if n > 0 && up == n {
				return nil
			}
			state = strings.Join(states, ", ")
		} else {
			state = err.Error()
		}
		if err := sleep(ctx, r.Poll); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s: lb0's health checks do not see it UP after %s (%s)", name, r.ReloadTimeout, state)
}

func joinBackends(bes []string, name string) string {
	parts := make([]string, len(bes))
	for i, be := range bes {
		parts[i] = be + "/" + name
	}
	return strings.Join(parts, ", ")
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// peerOutError is othersUp's refusal: peer is out of service on lb0.
// booting is set when it is only DOWN (admin state ready): not taken out
// by an operator, but not serving yet, as a balancer just started is.
type peerOutError struct {
	peer, msg string
	booting   bool
}

func (e *peerOutError) Error() string { return e.msg }
