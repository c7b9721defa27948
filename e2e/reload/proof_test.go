package reload

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/balancer/balancertest"
)

// TestRollingReloadDropsNothing is the proof: load through lb0 on
// keep-alive and new connections, HTTP and HTTPS, during ten rolling
// reloads, then during ten tenants added and removed live (runtime API,
// no reload).
func TestRollingReloadDropsNothing(t *testing.T) {
	s := setup(t)
	s.waitHealthy(t)
	ctx := context.Background()
	// The inner balancers answer /karana-health on :80 themselves and 404
	// an unknown host on :443: both are stable whatever tenants come and go.
	httpLoad := &balancertest.Load{URL: "http://" + s.lb0 + "/karana-health", Host: "load.e2e.test",
		KeepAlive: 3, NewConns: 2, Rate: 100, MaxTotal: 400_000, MaxTime: 15 * time.Minute}
	httpsLoad := &balancertest.Load{URL: "https://" + s.lb0 + "/", Host: "unknown.e2e.test", Insecure: true,
		KeepAlive: 2, NewConns: 1, Rate: 50, MaxTotal: 200_000, MaxTime: 15 * time.Minute}
	httpLoad.Start(ctx)
	httpsLoad.Start(ctx)
	stopped := false
	stop := func() ([]balancertest.Sample, []balancertest.Sample) {
		stopped = true
		return httpLoad.Stop(), httpsLoad.Stop()
	}
	defer func() {
		if !stopped {
			stop()
		}
	}()
	time.Sleep(5 * time.Second) // steady state

	var windows []balancertest.Window
	tenants := []int{}
	for c := 1; c <= cycles; c++ {
		if c <= cycles/2 {
			tenants = append(tenants, c)
		} else {
			tenants = tenants[1:]
		}
		s.writeInventory(tenants, "")
		w := balancertest.Window{From: time.Now()}
		out, stderr := s.karana(t, 0, "balancer", "reload", "-o", "json")
		w.To = time.Now()
		windows = append(windows, w)
		var rep balancer.ReloadReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("cycle %d: %v\n%s", c, err, out)
		}
		for _, b := range rep.Balancers {
			if b.Action != balancer.ActionReloaded {
				t.Fatalf("cycle %d (tenants %v): %s %s\n%s", c, tenants, b.Name, b.Action, stderr)
			}
		}
		t.Logf("cycle %2d: tenants %v, reloaded in %s", c, tenants, w.To.Sub(w.From).Round(100*time.Millisecond))
	}
	// Ten tenants added one by one and removed again, live.
	var liveWindows []balancertest.Window
	pids := s.status(t)
	for c := 1; c <= 2*cycles; c++ {
		if c <= cycles {
			tenants = append(tenants, 10+c)
		} else {
			tenants = tenants[1:]
		}
		s.writeInventory(tenants, "")
		w := balancertest.Window{From: time.Now()}
		out, stderr := s.karana(t, 0, "balancer", "reload", "--live", "-o", "json")
		w.To = time.Now()
		liveWindows = append(liveWindows, w)
		var rep balancer.ReloadReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("live %d: %v\n%s", c, err, out)
		}
		for _, b := range rep.Balancers {
			if b.Action != balancer.ActionLive {
				t.Fatalf("live %d (tenants %v): %s %s (%s)\n%s", c, tenants, b.Name, b.Action, b.Reason, stderr)
			}
		}
		t.Logf("live %2d: tenants %v, changed live in %s", c, tenants, w.To.Sub(w.From).Round(100*time.Millisecond))
	}
	after := s.status(t)
	for i, in := range after.Inner {
		if in.Worker == nil || pids.Inner[i].Worker == nil || in.Worker.Pid != pids.Inner[i].Worker.Pid {
			t.Errorf("%s reloaded during live changes: %+v -> %+v", in.Name, pids.Inner[i].Worker, in.Worker)
		}
		if in.Live == nil || !in.Live.Matches() {
			t.Errorf("%s: live state vs files after live changes: %+v", in.Name, in.Live)
		}
	}
	// The render folder records what the balancers were given.
	s.karana(t, 0, "balancer", "render", "--check")
	checkBrokenRefused(t, s, tenants)
	time.Sleep(3 * time.Second)
	httpSamples, httpsSamples := stop()

	report(t, "http  (:80, 200 from the inner balancer)", httpSamples, 200, windows, "reloads")
	report(t, "https (:443, TLS at the inner balancer, 404 unknown host)", httpsSamples, 404, windows, "reloads")
	report(t, "http  (:80), tenants changed live", httpSamples, 200, liveWindows, "live changes")
	report(t, "https (:443), tenants changed live", httpsSamples, 404, liveWindows, "live changes")

	// Done when: both inner balancers UP with matching configurations.
	out, _ := s.karana(t, 0, "balancer", "status")
	t.Logf("karana balancer status:\n%s", out)
	time.Sleep(hardStop + 2*time.Second)
	for _, n := range []string{"lb1", "lb2"} {
		if pids := s.haproxyPids(t, n); len(pids) != 2 {
			t.Errorf("%s: haproxy processes %v after hard-stop-after, want the master and one worker", n, pids)
		}
	}
}

// checkBrokenRefused: a tenant certificate whose key does not match
// passes rendering but not haproxy -c in the containers; the reload exits
// 3 naming the balancer, before anything is drained or reloaded.
func checkBrokenRefused(t *testing.T, s *suite, tenants []int) {
	t.Helper()
	before := s.status(t)
	s.writeInventory(tenants, writeMismatchedCert(t, s.dir))
	_, stderr := s.karana(t, 3, "balancer", "reload")
	if !strings.Contains(stderr, "lb1") || !strings.Contains(stderr, "haproxy") {
		t.Errorf("refusal does not name lb1 and quote haproxy:\n%s", stderr)
	}
	// Live, the certificate is refused before any runtime API command.
	_, liveErr := s.karana(t, 3, "balancer", "reload", "--live")
	if !strings.Contains(liveErr, "broken.e2e.test.pem") || !strings.Contains(liveErr, "private key does not match") {
		t.Errorf("live refusal does not name the certificate and the mismatch:\n%s", liveErr)
	}
	if strings.Contains(stderr+liveErr, "draining") || strings.Contains(liveErr, "changing routes live") {
		t.Errorf("a balancer was changed for a broken configuration:\n%s\n%s", stderr, liveErr)
	}
	t.Logf("broken configuration refused:\n%s", lastLines(stderr, 14))
	s.writeInventory(tenants, "")
	after := s.status(t)
	for i, in := range after.Inner {
		if in.Admin != "ready" || in.ConfigMatches == nil || !*in.ConfigMatches {
			t.Errorf("after the refusal, %s: %s, config matches %v", in.Name, in.Admin, in.ConfigMatches)
		}
		if in.Worker == nil || before.Inner[i].Worker == nil || in.Worker.Pid != before.Inner[i].Worker.Pid {
			t.Errorf("after the refusal, %s's worker changed: %+v -> %+v", in.Name, before.Inner[i].Worker, in.Worker)
		}
	}
}

func report(t *testing.T, name string, samples []balancertest.Sample, want int, windows []balancertest.Window, what string) {
	during, steady := balancertest.Split(samples, want, windows)
	msg := fmt.Sprintf("%s\n    steady state:   %s\n    during %s: %s", name, steady, what, during)
	t.Log(msg)
	fmt.Println("RESULT " + msg)
	for _, st := range []balancertest.Stats{steady, during} {
		if st.Failed+st.Unexpected != 0 {
			t.Errorf("%s: requests lost: %s; first errors %q", name, st, st.Errors)
		}
	}
	if during.Sent < 500 {
		t.Errorf("%s: only %d requests during %s: too little load to prove anything", name, during.Sent, what)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
