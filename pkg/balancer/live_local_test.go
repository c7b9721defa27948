package balancer_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/balancer/balancertest"
	"github.com/karana-project/karana/pkg/tlsgen"
)

// loadTests: the load proofs take 20 s or more each, so a plain
// `go test ./...` skips them; `make test` (and anyone who sets
// KARANA_LOAD_TESTS=1) runs them. -short skips them always.
func loadTests(t *testing.T) {
	t.Helper()
	if testing.Short() || os.Getenv("KARANA_LOAD_TESTS") == "" {
		t.Skip("load proof: set KARANA_LOAD_TESTS=1 (make test does) to run it")
	}
}

// apply changes the inner balancers to tenants with live changes allowed.
func (lb *loopback) apply(t *testing.T, tenants []string, live, force bool) *balancer.ReloadReport {
	t.Helper()
	r := lb.roll(0, "", "")
	r.Live, r.Force = live, force
	for _, n := range []string{"lb1", "lb2"} {
		r.Files[n] = innerFiles(lb.inner[n], lb.backend, tenants, "")
	}
	rep, err := r.Run(context.Background())
	if err != nil {
		t.Fatalf("applying tenants %v: %v", tenants, err)
	}
	return rep
}

// get asks lb0's HTTPS port for host with SNI and returns the status and
// the first name of the certificate served.
func (lb *loopback) get(t *testing.T, host string) (int, string) {
	t.Helper()
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: host, InsecureSkipVerify: true}, //nolint:gosec // test certificates
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", lb.lb0Port2))
		},
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + host + "/")
	if err != nil {
		t.Fatalf("GET https://%s/: %v", host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.TLS.PeerCertificates[0].DNSNames[0]
}

func (lb *loopback) pids(t *testing.T) map[string]int64 {
	t.Helper()
	_, pids := lb.snapshot(t)
	return pids
}

// checkRoutes: every host of tenants answers 200 through lb0 with its own
// certificate, and gone answers 404 with the default one.
func (lb *loopback) checkRoutes(t *testing.T, what string, tenants []string, gone ...string) {
	t.Helper()
	// lb0 balances by round robin: a few requests reach both balancers.
	for i := 0; i < 4; i++ {
		for _, tn := range tenants {
			if code, name := lb.get(t, tn+".test"); code != 200 || name != tn+".test" {
				t.Errorf("%s: %s.test answered %d with certificate %s, want 200 with its own", what, tn, code, name)
			}
		}
		for _, tn := range gone {
			if code, name := lb.get(t, tn+".test"); code != 404 || name != "default.invalid" {
				t.Errorf("%s: %s.test answered %d with certificate %s, want 404 with the default", what, tn, code, name)
			}
		}
	}
}

// TestLiveRoutes: tenants added and removed through the runtime API of
// real haproxy processes, without a reload; the files are written too, so
// a reload afterwards serves the same routes.
func TestLiveRoutes(t *testing.T) {
	lb := startLoopback(t, appServer(t))
	liveCycles(t, lb, 3)
}

// TestLiveRoutesUnderLoad: the same with keep-alive and new-connection
// load through lb0 on HTTP and HTTPS: no request fails.
func TestLiveRoutesUnderLoad(t *testing.T) {
	loadTests(t)
	lb := startLoopback(t, appServer(t))
	ctx := context.Background()
	httpLoad := &balancertest.Load{URL: fmt.Sprintf("http://127.0.0.1:%d/", lb.lb0Port), Host: "app.test",
		KeepAlive: 3, NewConns: 2, Rate: 100, MaxTotal: 200_000, MaxTime: 3 * time.Minute}
	httpsLoad := &balancertest.Load{URL: fmt.Sprintf("https://127.0.0.1:%d/", lb.lb0Port2), Host: "app.test", Insecure: true,
		KeepAlive: 2, NewConns: 1, Rate: 50, MaxTotal: 200_000, MaxTime: 3 * time.Minute}
	httpLoad.Start(ctx)
	httpsLoad.Start(ctx)
	time.Sleep(time.Second)
	from := time.Now()
	liveCycles(t, lb, 10)
	windows := []balancertest.Window{{From: from, To: time.Now()}}
	time.Sleep(time.Second)
	for _, l := range []struct {
		name string
		load *balancertest.Load
	}{{"http", httpLoad}, {"https", httpsLoad}} {
		during, steady := balancertest.Split(l.load.Stop(), 200, windows)
		t.Logf("%s steady state:        %s", l.name, steady)
		t.Logf("%s during live changes: %s", l.name, during)
		if during.Failed+during.Unexpected+steady.Failed+steady.Unexpected != 0 {
			t.Errorf("%s: requests lost: %s / %s; first errors %q", l.name, during, steady, during.Errors)
		}
		if during.Sent < 100 {
			t.Errorf("%s: only %d requests during the changes: too little load to prove anything", l.name, during.Sent)
		}
	}
}

func liveCycles(t *testing.T, lb *loopback, cycles int) {
	ctx := context.Background()
	lb.apply(t, []string{"keep"}, true, false)
	pids := lb.pids(t)
	for c := 1; c <= cycles; c++ {
		tn := fmt.Sprintf("live%d", c)
		start := time.Now()
		rep := lb.apply(t, []string{"keep", tn}, true, false)
		added := time.Since(start)
		for _, b := range rep.Balancers {
			if b.Action != balancer.ActionLive || len(b.Live) == 0 {
				t.Fatalf("cycle %d: %s %s (%s), want changed live", c, b.Name, b.Action, b.Reason)
			}
		}
		lb.checkRoutes(t, fmt.Sprintf("cycle %d, added", c), []string{"keep", tn})
		start = time.Now()
		lb.apply(t, []string{"keep"}, true, false)
		t.Logf("cycle %d: %s added live in %s, removed in %s", c, tn, added.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		lb.checkRoutes(t, fmt.Sprintf("cycle %d, removed", c), []string{"keep"}, tn)
	}
	if now := lb.pids(t); fmt.Sprint(now) != fmt.Sprint(pids) {
		t.Errorf("workers changed during live changes: %v -> %v", pids, now)
	}
	// Live state and files agree: status says so, and a reload from the
	// files serves the same routes.
	for name, in := range lb.inner {
		st, err := balancer.LiveStatus(ctx, in.runtime, in.node, nil)
		if err != nil || !st.Matches() {
			t.Errorf("%s: live state vs files: %+v, %v", name, st, err)
		}
	}
	last := fmt.Sprintf("live%d", cycles)
	lb.apply(t, []string{"keep", last}, true, false)
	rep := lb.apply(t, []string{"keep", last}, false, true)
	for _, b := range rep.Balancers {
		if b.Action != balancer.ActionReloaded {
			t.Errorf("forced reload: %s %s", b.Name, b.Action)
		}
	}
	lb.checkRoutes(t, "after a reload from the files", []string{"keep", last}, "live1")
	if strings.Contains(t.Name(), "UnderLoad") {
		return
	}
	// A live state that drifted from the files (a route added by hand) is
	// reported.
	in := lb.inner["lb1"]
	if _, err := in.runtime.Command(ctx, "add map karana/hosts.map stray.test app"); err != nil {
		t.Fatal(err)
	}
	st, err := balancer.LiveStatus(ctx, in.runtime, in.node, nil)
	if err != nil || st.Matches() || !strings.Contains(strings.Join(st.Drift, " "), "stray.test") {
		t.Errorf("a stray live route is not reported: %+v, %v", st, err)
	}
	// So is a certificate replaced live by hand, and only that one.
	in = lb.inner["lb2"]
	other, err := tlsgen.SelfSigned([]string{"*.keep.test"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := balancer.UpdateCert(ctx, in.runtime, "karana/certs/keep.test.pem", other); err != nil {
		t.Fatal(err)
	}
	st, err = balancer.LiveStatus(ctx, in.runtime, in.node, nil)
	if err != nil || len(st.Drift) != 1 || !strings.Contains(st.Drift[0], "certificate karana/certs/keep.test.pem: SHA-1 ") {
		t.Errorf("a certificate replaced live is not reported alone: %+v, %v", st, err)
	} else {
		t.Log(st.Drift[0])
	}
}
