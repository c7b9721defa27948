package balancer_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/balancer/balancertest"
	"github.com/karana-project/karana/pkg/tlsgen"
)

// loopback is lb0 in front of lb1 and lb2, real haproxy processes on
// loopback, in front of a Go back end: karana's two tiers without LXD.
type loopback struct {
	lb0Port, lb0Port2 int
	backend           string
	outer             *balancer.NativeRuntime
	procs             map[string]*balancertest.Proc
	inner             map[string]inner
}

type inner struct {
	dir                             string
	httpPort, httpsPort, healthPort int
	sock                            string
	node                            *balancer.Node
	runtime                         *balancer.NativeRuntime
}

const hardStop = 3 * time.Second

// certs caches the test certificates by name, so that two renders of the
// same tenants are the same files.
var certs sync.Map

func testCert(name string) []byte {
	if b, ok := certs.Load(name); ok {
		return b.([]byte)
	}
	b, err := tlsgen.SelfSigned([]string{name, "*." + name}, time.Now())
	if err != nil {
		panic(err)
	}
	certs.Store(name, b)
	return b
}

// innerFiles is an inner balancer's configuration shaped as karana's
// template renders it: HTTP and HTTPS frontends routing by one host-map
// lookup to the servers of be_tenants, which comes last. The app is
// app.test; each tenant has a server (the same app), a host and a
// certificate. mod ("broken", "unbindable") spoils it.
func innerFiles(in inner, backend string, tenants []string, mod string) balancer.Files {
	var cfg, hosts, crts strings.Builder
	route := `    http-request set-var(txn.route) req.hdr(host),lower,word(1,:),map(karana/hosts.map)
    use_backend be_tenants if { var(txn.route) -m found }
    default_backend be_unknown
`
	fmt.Fprintf(&cfg, `global
    default-path config
    master-worker
    hard-stop-after %s
    stats socket %s mode 600 level admin expose-fd listeners
defaults
    mode http
    option idle-close-on-response
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 10s
frontend fe_health
    bind 127.0.0.1:%d
    http-request return status 200 content-type text/plain string ok if { path /karana-health }
    http-request return status 404
frontend fe_http
    bind 127.0.0.1:%d accept-proxy
%sfrontend fe_https
    bind 127.0.0.1:%d ssl crt-list karana/crt-list.txt accept-proxy
%s`, hardStop, in.sock, in.healthPort, in.httpPort, route, in.httpsPort, route)
	switch mod {
	case "broken": // refused by haproxy -c
		cfg.WriteString("backend be_broken\n    server b 127.0.0.1:9 no-such-keyword\n")
	case "unbindable": // valid, but the new worker cannot bind: the reload fails
		cfg.WriteString("frontend fe_unbindable\n    bind 192.0.2.1:18080\n")
	}
	fmt.Fprintf(&cfg, `backend be_unknown
    http-request return status 404 content-type text/plain string "unknown host"
backend be_tenants
    use-server %%[var(txn.route)] if { var(txn.route) -m found }
    server app %s weight 0 check inter 5s
`, backend)
	hosts.WriteString("app.test app\n")
	crts.WriteString("karana/certs/default.pem\n")
	files := balancer.Files{filepath.Join(in.dir, "karana", "certs", "default.pem"): testCert("default.invalid")}
	for _, tn := range tenants {
		fmt.Fprintf(&cfg, "    server %s %s weight 0 check inter 5s\n", tn, backend)
		fmt.Fprintf(&hosts, "%s.test %s\n", tn, tn)
		fmt.Fprintf(&crts, "karana/certs/%s.test.pem %s.test\n", tn, tn)
		files[filepath.Join(in.dir, "karana", "certs", tn+".test.pem")] = testCert(tn + ".test")
	}
	files[filepath.Join(in.dir, "haproxy.cfg")] = []byte(cfg.String())
	files[filepath.Join(in.dir, "karana", "hosts.map")] = []byte(hosts.String())
	files[filepath.Join(in.dir, "karana", "crt-list.txt")] = []byte(crts.String())
	return files
}

// generation is the tenants of reload cycle gen: t0 .. t<gen-1>.
func generation(gen int) []string {
	var ts []string
	for i := 0; i < gen; i++ {
		ts = append(ts, fmt.Sprintf("t%d", i))
	}
	return ts
}

func outerCfg(dir string, lb *loopback) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global
    master-worker
    stats socket %s mode 600 level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout check 1s
frontend fe_http
    bind 127.0.0.1:%d
    default_backend be_http
frontend fe_http2
    bind 127.0.0.1:%d
    default_backend be_http2
`, filepath.Join(dir, "admin.sock"), lb.lb0Port, lb.lb0Port2)
	for _, be := range []string{"be_http", "be_http2"} {
		fmt.Fprintf(&b, "backend %s\n    balance roundrobin\n    option httpchk GET /karana-health\n    http-check expect status 200\n", be)
		for _, n := range []string{"lb1", "lb2"} {
			in := lb.inner[n]
			port := in.httpPort
			if be == "be_http2" {
				port = in.httpsPort
			}
			fmt.Fprintf(&b, "    server %s 127.0.0.1:%d send-proxy-v2 check port %d inter 100ms fall 2 rise 2\n", n, port, in.healthPort)
		}
	}
	return b.String()
}

func startLoopback(t *testing.T, backend string) *loopback {
	if balancertest.HAProxy() == "" {
		t.Skip("haproxy is not installed")
	}
	root := t.TempDir()
	lb := &loopback{lb0Port: balancertest.FreePort(t), lb0Port2: balancertest.FreePort(t), backend: backend,
		procs: map[string]*balancertest.Proc{}, inner: map[string]inner{}}
	for _, n := range []string{"lb1", "lb2"} {
		dir := filepath.Join(root, n)
		in := inner{dir: dir, httpPort: balancertest.FreePort(t), httpsPort: balancertest.FreePort(t),
			healthPort: balancertest.FreePort(t), sock: filepath.Join(dir, "admin.sock")}
		for p, b := range innerFiles(in, backend, nil, "") {
			write(t, p, b)
		}
		lb.procs[n] = balancertest.StartHAProxy(t, n, dir, in.sock)
		in.runtime = balancer.NewRuntime(in.sock)
		in.node = &balancer.Node{NodeName: n, Host: balancer.LocalHost{}, Dir: dir, Haproxy: balancertest.HAProxy(),
			ReloadCmd: lb.procs[n].ReloadCmd(), LogCmd: lb.procs[n].LogCmd()}
		lb.inner[n] = in
	}
	dir := filepath.Join(root, "lb0")
	write(t, filepath.Join(dir, "haproxy.cfg"), []byte(outerCfg(dir, lb)))
	lb.procs["lb0"] = balancertest.StartHAProxy(t, "lb0", dir, filepath.Join(dir, "admin.sock"))
	lb.outer = balancer.NewRuntime(filepath.Join(dir, "admin.sock"))
	waitAllUp(t, lb.outer)
	return lb
}

func write(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitAllUp(t *testing.T, rt balancer.Runtime) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		servers, err := rt.Servers(context.Background())
		up := 0
		for _, s := range servers {
			if s.Up() && s.Admin == "ready" {
				up++
			}
		}
		if err == nil && up == 4 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lb0 does not see lb1 and lb2 UP: %v %+v", err, servers)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// roll rolls generation gen out; mod ("broken", "unbindable") spoils
// the files of balancer bad.
func (lb *loopback) roll(gen int, mod, bad string) *balancer.Roll {
	r := &balancer.Roll{Outer: lb.outer, Inner: map[string]balancer.Runtime{}, Files: map[string]balancer.Files{},
		DrainTimeout: 250 * time.Millisecond, ReloadTimeout: 10 * time.Second, Poll: 25 * time.Millisecond}
	for _, n := range []string{"lb1", "lb2"} {
		in := lb.inner[n]
		r.Targets = append(r.Targets, in.node)
		r.Inner[n] = in.runtime
		m := ""
		if n == bad {
			m = mod
		}
		r.Files[n] = innerFiles(in, lb.backend, generation(gen), m)
	}
	return r
}

func appServer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok\n")
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
