package balancer

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

type rig struct {
	log     []string
	rt      *recorder
	targets map[string]*fakeTarget
	roll    *Roll
}

func newRig(changed ...string) *rig {
	g := &rig{targets: map[string]*fakeTarget{}}
	g.rt = newRecorder(&g.log, []string{"be_http", "be_https"}, "lb1", "lb2")
	g.roll = &Roll{Outer: g.rt, Inner: map[string]Runtime{}, Files: map[string]Files{},
		DrainTimeout: time.Second, ReloadTimeout: time.Second, Poll: time.Millisecond}
	for _, n := range []string{"lb1", "lb2"} {
		t := &fakeTarget{name: n, cur: Files{"/cfg": []byte("old")}, log: &g.log, rt: g.rt}
		g.targets[n] = t
		g.roll.Targets = append(g.roll.Targets, t)
		g.roll.Inner[n] = innerRT{g.rt, n}
		g.roll.Files[n] = Files{"/cfg": []byte("old")}
	}
	for _, n := range changed {
		g.roll.Files[n] = Files{"/cfg": []byte("new"), "/karana/hosts.map": []byte("a b\n")}
	}
	return g
}

func TestRollOneAtATime(t *testing.T) {
	g := newRig("lb1", "lb2")
	rep, err := g.roll.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"lb1: stage", "lb2: stage", // every check before any drain
		"set server be_http/lb1 state drain", "set server be_https/lb1 state drain",
		"lb1: commit", "lb1: reload",
		"set server be_http/lb1 state ready", "set server be_https/lb1 state ready",
		"set server be_http/lb2 state drain", "set server be_https/lb2 state drain",
		"lb2: commit", "lb2: reload",
		"set server be_http/lb2 state ready", "set server be_https/lb2 state ready",
	}
	if !reflect.DeepEqual(g.log, want) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(g.log, "\n"), strings.Join(want, "\n"))
	}
	for _, b := range rep.Balancers {
		if b.Action != ActionReloaded || !b.Drained || b.NewPid != b.OldPid+10 {
			t.Errorf("%s: %+v", b.Name, b)
		}
		if !reflect.DeepEqual(b.Changed, []string{"/cfg", "/karana/hosts.map"}) {
			t.Errorf("%s changed %v", b.Name, b.Changed)
		}
	}
}

func TestRollSkipsMatching(t *testing.T) {
	g := newRig("lb2")
	rep, err := g.roll.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range g.log {
		if strings.Contains(l, "lb1") {
			t.Errorf("lb1 matches, yet: %s", l)
		}
	}
	if rep.Balancers[0].Action != ActionUnchanged || rep.Balancers[1].Action != ActionReloaded {
		t.Errorf("report %+v", rep.Balancers)
	}
}

func TestRollInvalidRefusedBeforeAnyDrain(t *testing.T) {
	g := newRig("lb1", "lb2")
	g.targets["lb2"].stageErr = &HAProxyError{Balancer: "lb2", Doing: "checking", Output: "[ALERT] unknown keyword 'bogus'"}
	_, err := g.roll.Run(context.Background())
	if !strings.Contains(err.Error(), "lb2") || !strings.Contains(err.Error(), "unknown keyword 'bogus'") {
		t.Errorf("error %q does not name lb2 and quote haproxy", err)
	}
	if !errors.Is(err, ErrRefused) {
		t.Errorf("error %v is not ErrRefused (exit 3)", err)
	}
	if want := []string{"lb1: stage", "lb2: stage"}; !reflect.DeepEqual(g.log, want) {
		t.Errorf("steps %q, want only the checks %q", g.log, want)
	}
}

func TestRollRefusesWhenOtherIsOut(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Server)
	}{
		{"down", func(s *Server) { s.Health = "down" }},
		{"drained", func(s *Server) { s.Admin = "drain" }},
		{"maint", func(s *Server) { s.Admin = "maint" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig("lb1")
			g.rt.set("lb2", tc.set)
			_, err := g.roll.Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), "lb2 is") || !strings.HasPrefix(err.Error(), "lb1: refusing") {
				t.Fatalf("error %v, want lb1 refused because of lb2", err)
			}
			for _, l := range g.log {
				if strings.HasPrefix(l, "set server") {
					t.Errorf("sent %q while lb2 is out", l)
				}
			}
		})
	}
}

func TestRollReloadFailurePutsPreviousBack(t *testing.T) {
	g := newRig("lb1", "lb2")
	g.targets["lb1"].reloadErr = &HAProxyError{Balancer: "lb1", Doing: "reloading", Output: "[ALERT] cannot bind socket"}
	rep, err := g.roll.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "lb1") || !strings.Contains(err.Error(), "cannot bind socket") {
		t.Fatalf("error %v, want lb1 named and haproxy quoted", err)
	}
	want := []string{
		"lb1: stage", "lb2: stage",
		"set server be_http/lb1 state drain", "set server be_https/lb1 state drain",
		"lb1: commit", "lb1: reload",
		"lb1: restore", "lb1: reload",
		"set server be_http/lb1 state ready", "set server be_https/lb1 state ready",
	}
	if !reflect.DeepEqual(g.log, want) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(g.log, "\n"), strings.Join(want, "\n"))
	}
	if string(g.targets["lb1"].cur["/cfg"]) != "old" {
		t.Errorf("lb1 holds %q, want the previous config", g.targets["lb1"].cur["/cfg"])
	}
	if rep.Balancers[0].Action != ActionRolledBack || rep.Balancers[1].Action != ActionPending {
		t.Errorf("report %+v", rep.Balancers)
	}
}

func TestRollDrainTimeoutGoesOn(t *testing.T) {
	g := newRig("lb1")
	g.rt.drainTicks = false // sessions never end
	g.roll.DrainTimeout = 20 * time.Millisecond
	rep, err := g.roll.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := rep.Balancers[0]
	if b.Action != ActionReloaded || b.Drained || b.SessionsLeft != 6 {
		t.Errorf("report %+v, want reloaded with 6 sessions left to the old worker", b)
	}
}

func TestRollWorkerNotReplacedIsAFailure(t *testing.T) {
	g := newRig("lb1")
	g.roll.Inner["lb1"] = innerRT{&recorder{pids: map[string]int64{"lb1": 7}}, "lb1"} // never changes
	g.roll.ReloadTimeout = 20 * time.Millisecond
	_, err := g.roll.Run(context.Background())
	var he *HAProxyError
	if !errors.As(err, &he) || he.Balancer != "lb1" || !strings.Contains(he.Doing, "worker 7 still serves") {
		t.Fatalf("error %v, want an HAProxyError about worker 7", err)
	}
	if last := g.log[len(g.log)-1]; last != "set server be_https/lb1 state ready" {
		t.Errorf("last step %q, want lb1 made ready again", last)
	}
}

func TestRollDryRunDrainsNothing(t *testing.T) {
	g := newRig("lb1", "lb2")
	g.roll.DryRun = true
	rep, err := g.roll.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"lb1: stage", "lb2: stage"}; !reflect.DeepEqual(g.log, want) {
		t.Errorf("steps %q, want %q", g.log, want)
	}
	for _, b := range rep.Balancers {
		if b.Action != ActionWould {
			t.Errorf("%s: %s, want %s", b.Name, b.Action, ActionWould)
		}
	}
}

// A balancer lb0 sees down (a new container with Debian's default config)
// carries no traffic: it is reloaded without drain, even when the other
// one is down too, as on the first `karana up`.
func TestRollDownBalancerNeedsNoDrain(t *testing.T) {
	g := newRig("lb1", "lb2")
	g.rt.set("lb1", func(s *Server) { s.Health = "down" })
	g.rt.set("lb2", func(s *Server) { s.Health = "down" })
	g.targets["lb1"].onReload = func() { g.rt.set("lb1", func(s *Server) { s.Health = "up" }) }
	g.targets["lb2"].onReload = func() { g.rt.set("lb2", func(s *Server) { s.Health = "up" }) }
	rep, err := g.roll.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range g.log {
		if strings.HasSuffix(l, "state drain") {
			t.Errorf("drained a balancer that carried no traffic: %s", l)
		}
	}
	for _, b := range rep.Balancers {
		if b.Action != ActionReloaded {
			t.Errorf("%s: %s", b.Name, b.Action)
		}
	}
}

// On a first run both inner balancers are down, and lb1 (booting) may come
// up between the choice of which goes first and its own turn while lb2 is
// still down: lb2 must then go first rather than lb1 be refused (seen in
// CI: "lb1: refusing to take it out: lb2 is down/ready").
func TestRollOrderFollowsLb0DuringTheRun(t *testing.T) {
	g := newRig("lb1", "lb2")
	g.rt.set("lb1", func(s *Server) { s.Health = "down" })
	g.rt.set("lb2", func(s *Server) { s.Health = "down" })
	g.targets["lb1"].onReload = func() { g.rt.set("lb1", func(s *Server) { s.Health = "up" }) }
	g.targets["lb2"].onReload = func() { g.rt.set("lb2", func(s *Server) { s.Health = "up" }) }
	// lb0's first answer (the choice) has both down; lb1 is up from the next.
	g.roll.Outer = &flipAfter{Runtime: g.rt, after: 1, flip: func() { g.rt.set("lb1", func(s *Server) { s.Health = "up" }) }}
	rep, err := g.roll.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var commits []string
	for _, l := range g.log {
		if strings.HasSuffix(l, ": commit") {
			commits = append(commits, strings.TrimSuffix(l, ": commit"))
		}
	}
	if !reflect.DeepEqual(commits, []string{"lb2", "lb1"}) {
		t.Errorf("committed %v, want lb2 (down) before lb1 (up by its turn); log %q", commits, g.log)
	}
	for _, b := range rep.Balancers {
		if b.Action != ActionReloaded {
			t.Errorf("%s: %s", b.Name, b.Action)
		}
	}
}

// flipAfter runs flip once, after lb0 has answered Servers after times.
type flipAfter struct {
	Runtime
	after, calls int
	flip         func()
}

func (f *flipAfter) Servers(ctx context.Context) ([]Server, error) {
	if f.calls == f.after {
		f.flip()
	}
	f.calls++
	return f.Runtime.Servers(ctx)
}

// On a first run lb2's files may already match while its HAProxy is still
// starting (DOWN, admin ready), and lb1 (changed) may come UP just after
// lb0 was asked which goes first: lb1 then waits until lb0 sees lb2 UP
// instead of being refused (seen in CI).
func TestRollWaitsForABootingPeer(t *testing.T) {
	g := newRig("lb1")
	g.rt.set("lb1", func(s *Server) { s.Health = "down" })
	g.rt.set("lb2", func(s *Server) { s.Health = "down" })
	// lb0's first answer (the choice) has both down; lb1 is UP from the
	// second (its refusal); lb2 only after a few of the wait's polls.
	calls := 0
	g.roll.Outer = &onServers{Runtime: g.rt, f: func() {
		calls++
		switch calls {
		case 2:
			g.rt.set("lb1", func(s *Server) { s.Health = "up" })
		case 6:
			g.rt.set("lb2", func(s *Server) { s.Health = "up" })
		}
	}}
	rep, err := g.roll.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Balancers[0].Action != ActionReloaded || rep.Balancers[1].Action != ActionUnchanged {
		t.Errorf("report %+v, want lb1 reloaded, lb2 unchanged", rep.Balancers)
	}
}

// onServers calls f before each answer of lb0's Servers.
type onServers struct {
	Runtime
	f func()
}

func (o *onServers) Servers(ctx context.Context) ([]Server, error) {
	o.f()
	return o.Runtime.Servers(ctx)
}

// A peer an operator took out (drain) is not waited for: the refusal
// stands, and nothing is drained.
func TestRollDoesNotWaitForADrainedPeer(t *testing.T) {
	g := newRig("lb1")
	g.rt.set("lb2", func(s *Server) { s.Admin = "drain" })
	_, err := g.roll.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refusing to take it out") {
		t.Fatalf("err = %v, want the refusal", err)
	}
	for _, l := range g.log {
		if strings.HasSuffix(l, "state drain") {
			t.Errorf("drained: %s", l)
		}
	}
}

// On a first run each of lb0's backends checks the new balancers at its
// own pace: lb1 may be UP in be_http only and lb2 in be_https only, both
// changed. Neither is refused for good: each waits until its peer is UP
// everywhere (seen in CI: "lb1: refusing to take it out: lb2 is down").
func TestRollWaitsForPeersUpInOneBackendOnly(t *testing.T) {
	g := newRig("lb1", "lb2")
	setIn := func(backend, name, health string) {
		g.rt.mu.Lock()
		defer g.rt.mu.Unlock()
		for i := range g.rt.servers {
			if s := &g.rt.servers[i]; s.Backend == backend && s.Name == name {
				s.Health = health
			}
		}
	}
	setIn("be_https", "lb1", "down")
	setIn("be_http", "lb2", "down")
	calls := 0
	g.roll.Outer = &onServers{Runtime: g.rt, f: func() {
		if calls++; calls == 5 {
			setIn("be_https", "lb1", "up")
			setIn("be_http", "lb2", "up")
		}
	}}
	g.targets["lb1"].onReload = func() { g.rt.set("lb1", func(s *Server) { s.Health = "up" }) }
	g.targets["lb2"].onReload = func() { g.rt.set("lb2", func(s *Server) { s.Health = "up" }) }
	rep, err := g.roll.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range rep.Balancers {
		if b.Action != ActionReloaded {
			t.Errorf("%s: %s", b.Name, b.Action)
		}
	}
}
