package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/tlsgen"
)

// pebble is Debian's ACME test server on loopback, with pebble-challtestsrv
// as its DNS server answering every name with lb0's address: the CA's
// HTTP-01 requests go to lb0:80 and from there to lb1/lb2.
type pebble struct {
	directory, caFile string
	root              *x509.CertPool
	challMgmt         string // pebble-challtestsrv's management API
}

func freeLoopback(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startPebble(t *testing.T, dir string) *pebble {
	t.Helper()
	for _, b := range []string{"pebble", "pebble-challtestsrv"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Fatalf("%s is not installed (e2e/setup.sh installs pebble)", b)
		}
	}
	pd := filepath.Join(dir, "pebble")
	os.MkdirAll(pd, 0o700)
	// pebble's own HTTPS certificate, trusted by karana through tls.acme.ca_file.
	both, err := tlsgen.SelfSigned([]string{"localhost"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var certPEM, keyPEM []byte
	for rest := both; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			certPEM = append(certPEM, pem.EncodeToMemory(blk)...)
		} else {
			keyPEM = append(keyPEM, pem.EncodeToMemory(blk)...)
		}
	}
	caFile := filepath.Join(pd, "pebble-https.pem")
	os.WriteFile(caFile, certPEM, 0o644)
	os.WriteFile(filepath.Join(pd, "key.pem"), keyPEM, 0o600)
	listen, mgmt, dns, chMgmt := freeLoopback(t), freeLoopback(t), freeLoopback(t), freeLoopback(t)
	cfg := fmt.Sprintf(`{"pebble": {"listenAddress": %q, "managementListenAddress": %q, "certificate": %q, "privateKey": %q,
  "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": false}}`,
		listen, mgmt, caFile, filepath.Join(pd, "key.pem"))
	os.WriteFile(filepath.Join(pd, "pebble.json"), []byte(cfg), 0o644)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	t.Cleanup(cancel)
	run := func(name string, env []string, args ...string) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), env...)
		logf, _ := os.Create(filepath.Join(pd, name+".log"))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cancel()
			cmd.Wait()
			logf.Close()
			if t.Failed() {
				b, _ := os.ReadFile(logf.Name())
				t.Logf("%s log:\n%s", name, b)
			}
		})
	}
	run("pebble-challtestsrv", nil, "-defaultIPv4", lb0, "-defaultIPv6", "", "-dns01", dns,
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-management", chMgmt)
	// No random sleeps or nonce rejections; every order validates afresh.
	run("pebble", []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0"},
		"-config", filepath.Join(pd, "pebble.json"), "-dnsserver", dns)

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	_, port, _ := net.SplitHostPort(listen)
	_, mport, _ := net.SplitHostPort(mgmt)
	p := &pebble{directory: "https://localhost:" + port + "/dir", caFile: caFile, challMgmt: "http://" + chMgmt}
	var rootPEM []byte
	waitFor(t, "pebble's directory and root", 30*time.Second, func() bool {
		resp, err := hc.Get(p.directory)
		if err != nil {
			return false
		}
		resp.Body.Close()
		r2, err := hc.Get("https://localhost:" + mport + "/roots/0")
		if err != nil {
			return false
		}
		defer r2.Body.Close()
		rootPEM, _ = io.ReadAll(r2.Body)
		return r2.StatusCode == 200
	})
	p.root = x509.NewCertPool()
	if !p.root.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("pebble's root is not PEM: %q", rootPEM)
	}
	os.WriteFile(filepath.Join(pd, "root.pem"), rootPEM, 0o644)
	return p
}

// challtest posts to pebble-challtestsrv's management API.
func (p *pebble) challtest(t *testing.T, path string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(p.challMgmt+path, "application/json", bytes.NewReader(b))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("challtestsrv %s: %v %v", path, resp, err)
	}
	resp.Body.Close()
}

// servedCert is the certificate lb0 serves for host, verified against roots
// (nil: not verified).
func servedCert(host string, roots *x509.CertPool) (*x509.Certificate, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", lb0+":443",
		&tls.Config{ServerName: host, RootCAs: roots, InsecureSkipVerify: roots == nil})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// verifiedGet is GET https://host+path through lb0, the certificate
// verified against roots (no -k).
func verifiedClient(roots *x509.CertPool, keepAlive bool) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		DisableKeepAlives: !keepAlive,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 3 * time.Second}).DialContext(ctx, network, lb0+":443")
		},
	}}
}

// workerPid is the pid of the haproxy worker answering balancer name's
// runtime socket on the host.
func workerPid(t *testing.T, name string) string {
	t.Helper()
	c, err := net.Dial("unix", "/run/karana/"+project+"-"+name+".sock")
	if err != nil {
		t.Fatalf("runtime socket of %s: %v", name, err)
	}
	defer c.Close()
	fmt.Fprintln(c, "show info")
	b, _ := io.ReadAll(c)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Pid: ") {
			return strings.TrimPrefix(l, "Pid: ")
		}
	}
	t.Fatalf("show info on %s: no Pid in %q", name, b)
	return ""
}

// checkACME: with tls.acme pointing at pebble, a new tenant is served with
// a pebble certificate through lb0; a forced renewal under load replaces it
// without a reload or a failed request; a failed challenge keeps it.
func checkACME(t *testing.T, dir, inv string) {
	p := startPebble(t, dir)
	b, err := os.ReadFile(inv)
	if err != nil || bytes.Contains(b, []byte("\ntls:")) {
		t.Fatalf("inventory already has tls: (%v)", err)
	}
	b = append(b, fmt.Sprintf("tls:\n  acme:\n    directory: %s\n    email: ops@e2e.test\n    ca_file: %s\n    tenants: [delta]\n", p.directory, p.caFile)...)
	os.WriteFile(inv, b, 0o644)
	host := "api.delta.e2e.test"

	mustKarana(t, inv, "tenant", "add", "delta", "--domain", "delta.e2e.test")
	first, err := servedCert(host, p.root)
	if err != nil {
		t.Fatalf("%s through lb0 with pebble's root: %v", host, err)
	}
	for _, h := range []string{"grafana.delta.e2e.test", "influx.delta.e2e.test"} {
		if _, err := servedCert(h, p.root); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	if resp, err := verifiedClient(p.root, false).Get("https://" + host + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("GET https://%s/healthz verified: %v %v", host, resp, err)
	} else {
		resp.Body.Close()
	}
	if c, err := servedCert("api.alpha.e2e.test", p.root); err == nil {
		t.Errorf("alpha (not in tls.acme.tenants) has a pebble certificate: %v", c.Issuer)
	}
	var st []struct {
		Tenant, Issuer string
		ACME, Due      bool
		NotAfter       time.Time `json:"not_after"`
	}
	r := mustKarana(t, inv, "certs", "status", "-o", "json")
	json.Unmarshal([]byte(r.stdout), &st)
	found := false
	for _, c := range st {
		if c.Tenant == "delta" {
			found = true
			if !c.ACME || c.Due || !strings.Contains(c.Issuer, "Pebble") || !c.NotAfter.Equal(first.NotAfter) {
				t.Errorf("certs status of delta: %+v (served until %v)", c, first.NotAfter)
			}
		}
	}
	if !found {
		t.Errorf("certs status lacks delta: %s", r)
	}
	if r := mustKarana(t, inv, "certs", "renew", "-o", "json"); !strings.Contains(r.stdout, `"action": "not due"`) {
		t.Errorf("a fresh certificate is renewed without --force: %s", r)
	}

	// Forced renewal under load: no reload, no failed request.
	pids := []string{workerPid(t, "lb1"), workerPid(t, "lb2")}
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(keepAlive bool) {
			defer wg.Done()
			c := verifiedClient(p.root, keepAlive)
			for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get("https://" + host + "/healthz")
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					ok.Add(1)
				}
			}
		}(i%2 == 0)
	}
	time.Sleep(time.Second)
	r = mustKarana(t, inv, "certs", "renew", "delta", "--force")
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	t.Logf("forced renewal under load: %d requests, %d failed (%v), renew took %s", ok.Load()+failed.Load(), failed.Load(), firstErr.Load(), r.took)
	if failed.Load() > 0 || ok.Load() == 0 {
		t.Errorf("during the renewal: %d ok, %d failed (first: %v)", ok.Load(), failed.Load(), firstErr.Load())
	}
	second, err := servedCert(host, p.root)
	if err != nil || second.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Errorf("after the forced renewal lb0 serves serial %v (%v), before %v", second.SerialNumber, err, first.SerialNumber)
	}
	if now := []string{workerPid(t, "lb1"), workerPid(t, "lb2")}; now[0] != pids[0] || now[1] != pids[1] {
		t.Errorf("the renewal reloaded a balancer: workers %v, before %v", now, pids)
	}

	// A failed challenge: the CA resolves one hostname to lb1 directly,
	// whose port 80 wants the PROXY protocol, so its validation fails.
	keyStore := filepath.Join(dir, "certs", "delta.e2e.test.pem")
	before, _ := os.ReadFile(keyStore)
	p.challtest(t, "/add-a", map[string]any{"host": "influx.delta.e2e.test", "addresses": []string{testenvAddr(3)}})
	r = karana(t, inv, "certs", "renew", "delta", "--force", "-o", "json")
	p.challtest(t, "/clear-a", map[string]any{"host": "influx.delta.e2e.test"})
	if r.code != 1 || !strings.Contains(r.stdout, `"action": "failed"`) || !strings.Contains(r.stdout, `"host": "influx.delta.e2e.test"`) {
		t.Errorf("renewal with a failing challenge: %s", r)
	}
	if after, _ := os.ReadFile(keyStore); !bytes.Equal(before, after) {
		t.Error("the failed renewal changed the key store")
	}
	if third, err := servedCert(host, p.root); err != nil || third.SerialNumber.Cmp(second.SerialNumber) != 0 {
		t.Errorf("after the failed renewal lb0 serves %v (%v), want the previous %v", third.SerialNumber, err, second.SerialNumber)
	}
	// What ACME wrote agrees with the rest: up finds nothing to do (its
	// certificates step included) and the rendered tree matches.
	if r := mustKarana(t, inv, "up"); !strings.Contains(r.stdout, "Nothing changed") {
		t.Errorf("up after the ACME steps changed something: %s", r)
	}
	mustKarana(t, inv, "balancer", "render", "--check")
}
