package balancer_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/balancer/balancertest"
	"github.com/karana-project/karana/pkg/render"
	"github.com/karana-project/karana/pkg/tlsgen"
)

// tlsBalancer starts one haproxy terminating TLS from a crt-list laid out
// as karana's inner balancers have it, and returns its runtime and port.
func tlsBalancer(t *testing.T) (*balancer.NativeRuntime, int) {
	t.Helper()
	if balancertest.HAProxy() == "" {
		t.Skip("haproxy is not installed")
	}
	dir := t.TempDir()
	def, err := tlsgen.SelfSigned([]string{"default.karana.invalid"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	port := balancertest.FreePort(t)
	sock := filepath.Join(dir, "admin.sock")
	write(t, filepath.Join(dir, render.CertsDir, render.DefaultPEM), def)
	write(t, filepath.Join(dir, render.CrtList), []byte(render.CertsDir+"/"+render.DefaultPEM+"\n"))
	write(t, filepath.Join(dir, "haproxy.cfg"), []byte(fmt.Sprintf(`global
    default-path config
    stats socket %s mode 600 level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe_https
    bind 127.0.0.1:%d ssl crt-list %s
    http-request return status 200 content-type text/plain string ok
`, sock, port, render.CrtList)))
	balancertest.StartHAProxy(t, "tls", dir, sock)
	return balancer.NewRuntime(sock), port
}

// served is the first DNS name of the certificate served for sni.
func served(t *testing.T, port int, sni string) string {
	t.Helper()
	c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: sni, InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS to %s: %v", sni, err)
	}
	defer c.Close()
	leaf := c.ConnectionState().PeerCertificates[0]
	return strings.Join(leaf.DNSNames, ",") + "/" + leaf.SerialNumber.String()
}

func TestUpdateCertLive(t *testing.T) {
	rt, port := tlsBalancer(t)
	ctx := context.Background()
	path := render.CertsDir + "/acme.test.pem"
	if got := served(t, port, "acme.test"); !strings.HasPrefix(got, "default.karana.invalid/") {
		t.Fatalf("before: served %s, want the default certificate", got)
	}
	first, _ := tlsgen.SelfSigned([]string{"acme.test", "*.acme.test"}, time.Now())
	if err := balancer.UpdateCert(ctx, rt, path, first, "acme.test", "*.acme.test"); err != nil {
		t.Fatal(err)
	}
	got1 := served(t, port, "www.acme.test")
	if !strings.HasPrefix(got1, "acme.test,*.acme.test/") {
		t.Fatalf("after the first update: served %s", got1)
	}
	// A second update replaces the certificate in place: same crt-list line.
	second, _ := tlsgen.SelfSigned([]string{"acme.test", "*.acme.test"}, time.Now())
	if err := balancer.UpdateCert(ctx, rt, path, second, "acme.test", "*.acme.test"); err != nil {
		t.Fatal(err)
	}
	if got2 := served(t, port, "acme.test"); got2 == got1 || !strings.HasPrefix(got2, "acme.test,") {
		t.Fatalf("after the second update: served %s (first was %s)", got2, got1)
	}
	list, _ := rt.Command(ctx, "show ssl crt-list "+render.CrtList)
	if n := strings.Count(list, path); n != 1 {
		t.Fatalf("crt-list has %d lines for %s:\n%s", n, path, list)
	}
	// A key that does not match its chain is refused before any command.
	other, _ := tlsgen.SelfSigned([]string{"other.test"}, time.Now())
	broken := append(certPart(second), keyPart(other)...)
	err := balancer.UpdateCert(ctx, rt, path, broken, "acme.test")
	if err == nil || !strings.Contains(err.Error(), "private key does not match") {
		t.Fatalf("broken certificate: err = %v", err)
	}
	if got := served(t, port, "acme.test"); got == got1 {
		t.Fatal("the broken certificate changed what is served")
	}
	// HAProxy's own refusal (a store name it cannot take) is a RuntimeError.
	var re *balancer.RuntimeError
	if err := balancer.UpdateCert(ctx, rt, "no/such/dir.crt", second); !errors.As(err, &re) {
		t.Fatalf("refused store: err = %v, want a *RuntimeError", err)
	}
	if err := balancer.RemoveCert(ctx, rt, path); err != nil {
		t.Fatal(err)
	}
	if got := served(t, port, "acme.test"); !strings.HasPrefix(got, "default.karana.invalid/") {
		t.Fatalf("after RemoveCert: served %s", got)
	}
}

func certPart(pem []byte) []byte {
	s := string(pem)
	i := strings.Index(s, "-----BEGIN")
	j := strings.Index(s, "-----END CERTIFICATE-----")
	return []byte(s[i : j+len("-----END CERTIFICATE-----\n")])
}

func keyPart(pem []byte) []byte {
	s := string(pem)
	return []byte(s[strings.Index(s, "-----END CERTIFICATE-----\n")+len("-----END CERTIFICATE-----\n"):])
}
