package render

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/haproxy"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/traffic"
)

// TestInnerRoutesLive runs the rendered inner configuration in a real
// haproxy, on loopback: the tenant's containers are listeners on
// 127.0.0.x, as a 127.0.0.1/24 "bridge" places them. Only the listening
// ports, the runtime socket and the user switch are changed for the test.
func TestInnerRoutesLive(t *testing.T) {
	bin, err := haproxy.Find()
	if err != nil {
		t.Skip(err)
	}
	grafana := backendServer(t, "127.0.0.11", "grafana")
	api := backendServer(t, "127.0.0.12", "api")
	yaml := fmt.Sprintf("lxd:\n  network:\n    ipv4: 127.0.0.1/24\nservices:\n  grafana: {host: grafana, port: %d}\n  api: {host: api, port: %d}\n"+
		"tenants:\n  - {name: acme, domain: acme.example.org, slot: 0}\n", grafana, api)
	dir := t.TempDir()
	inv, err := inventory.Parse(filepath.Join(dir, "inv.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	out := mustRender(t, inv, Options{GenerateCerts: true})
	health, plain, secure, metrics := freePort(t), freePort(t), freePort(t), freePort(t)
	cfg := strings.NewReplacer(
		fmt.Sprintf("bind :%d\n", HealthPort), fmt.Sprintf("bind 127.0.0.1:%d\n", health),
		fmt.Sprintf("bind :%d\n", inventory.BalancerMetricsPort), fmt.Sprintf("bind 127.0.0.1:%d\n", metrics),
		"bind :80 ", fmt.Sprintf("bind 127.0.0.1:%d ", plain),
		"bind :443 ", fmt.Sprintf("bind 127.0.0.1:%d ", secure),
		SocketPath, filepath.Join(dir, "admin.sock"),
		"    user haproxy\n    group haproxy\n", "",
	).Replace(string(out.Files[InnerFile]))
	out.Files[InnerFile] = []byte(cfg)
	rendered := filepath.Join(dir, "rendered")
	if err := Write(rendered, out); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-db", "-f", filepath.Join(rendered, InnerFile))
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	waitHealthy(t, fmt.Sprintf("http://127.0.0.1:%d%s", health, HealthURI), &logs)

	c := proxyClient()
	https := fmt.Sprintf("https://127.0.0.1:%d/", secure)
	for _, tc := range []struct {
		host, want string
		status     int
	}{
		{"grafana.acme.example.org", "grafana xff=203.0.113.7 proto=https", 200},
		{"GRAFANA.acme.example.org:443", "grafana xff=203.0.113.7 proto=https", 200},
		{"api.acme.example.org", "api xff=203.0.113.7 proto=https", 200},
		{"grafana.other.example.org", "unknown host", 404},
	} {
		status, body, cert := get(t, c, https, tc.host)
		if status != tc.status || body != tc.want {
			t.Errorf("Host %s: %d %q, want %d %q", tc.host, status, body, tc.status, tc.want)
		}
		if tc.status == 200 && cert.VerifyHostname("grafana.acme.example.org") != nil {
			t.Errorf("Host %s: served the certificate for %v", tc.host, cert.DNSNames)
		}
	}
	status, _, _ := get(t, c, fmt.Sprintf("http://127.0.0.1:%d/x", plain), "grafana.acme.example.org")
	if status != http.StatusMovedPermanently {
		t.Errorf("plain http: %d, want a 301 redirect to https", status)
	}
	// The exporter counts what was just routed, per tenant backend.
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics))
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `haproxy_server_http_responses_total{proxy="be_tenants",server="acme-grafana",code="2xx"} 2`; !strings.Contains(string(b), want) {
		t.Errorf("/metrics lacks %s:\n%.2000s", want, b)
	}
	// The request ring holds what karana status reads: each routed request.
	// HAProxy writes a request's line when its stream ends, a moment after
	// the client has the response, so the ring is read until it holds all
	// four lines, for at most two seconds. HAProxy 2.6 now and then loses a
	// ring line all the same (about one run in fifty under load, in CI too;
	// docs/metrics.md): one missing line is allowed, never a wrong one.
	want := map[string]int{"acme-grafana": 2, "acme-api": 1, "be_unknown": 1}
	var got map[string]traffic.Stats
	var events []byte
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		conn, err := net.Dial("unix", filepath.Join(dir, "admin.sock"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "show events %s\n", traffic.Ring)
		events, _ = io.ReadAll(conn)
		conn.Close()
		got = traffic.Combine(traffic.Parse(string(events), time.Now(), time.Minute))
		if ringLines(got) >= 4 || time.Now().After(deadline) {
			break
		}
	}
	missing := 0
	for backend, n := range want {
		missing += n - got[backend].Requests
		if got[backend].Requests > n || n-got[backend].Requests > 1 {
			t.Errorf("request ring: %d lines for %s, want %d", got[backend].Requests, backend, n)
		}
	}
	if missing > 1 || ringLines(got) != 4-missing || got["acme-grafana"].P99Millis < 0 {
		t.Errorf("request ring: %+v from\n%s", got, events)
	}
}

// ringLines is the number of request lines read from the ring.
func ringLines(stats map[string]traffic.Stats) int {
	n := 0
	for _, s := range stats {
		n += s.Requests
	}
	return n
}

func backendServer(t *testing.T, addr, name string) int {
	t.Helper()
	l, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s xff=%s proto=%s", name, r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto"))
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitHealthy(t *testing.T, url string, logs fmt.Stringer) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatalf("haproxy did not become healthy:\n%s", logs)
}

// proxyClient speaks the PROXY protocol first, as lb0 does, for a client
// at 203.0.113.7.
func proxyClient() *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		_, port, _ := net.SplitHostPort(addr)
		_, err = fmt.Fprintf(conn, "PROXY TCP4 203.0.113.7 127.0.0.1 40000 %s\r\n", port)
		return conn, err
	}
	return &http.Client{
		Transport:     &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

func get(t *testing.T, c *http.Client, url, host string) (int, string, *x509.Certificate) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Host = host
	if strings.HasPrefix(url, "https") {
		sni := strings.ToLower(strings.Split(host, ":")[0])
		c.Transport.(*http.Transport).TLSClientConfig.ServerName = sni
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s (Host %s): %v", url, host, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(bufio.NewReader(resp.Body))
	var cert *x509.Certificate
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		cert = resp.TLS.PeerCertificates[0]
	}
	return resp.StatusCode, strings.TrimSpace(string(b)), cert
}
