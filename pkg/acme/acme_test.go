package acme

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/tlsgen"
)

const invYAML = `lxd: {project: unit, network: {name: unitbr0, ipv4: 10.0.99.1/24}}
tls:
  acme: {directory: "https://localhost:14000/dir", email: ops@example.org, tenants: [alpha, beta, gamma]}
tenants:
  - {name: alpha, domain: alpha.example.org, slot: 0}
  - {name: beta, domain: beta.example.org, slot: 1}
  - {name: gamma, domain: gamma.example.org, slot: 2}
  - {name: other, domain: other.example.org, slot: 3}
`

func TestStatusDue(t *testing.T) {
	dir := t.TempDir()
	inv, err := inventory.Parse(filepath.Join(dir, "inv.yaml"), []byte(invYAML))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "certs"), 0o700)
	// alpha: self-signed (what render generates); beta: none; gamma: a cert
	// signed by another key covering its names; other: not covered.
	ss, _ := tlsgen.SelfSigned([]string{"alpha.example.org", "*.alpha.example.org"}, time.Now())
	os.WriteFile(filepath.Join(dir, "certs", "alpha.example.org.pem"), ss, 0o600)
	os.WriteFile(filepath.Join(dir, "certs", "other.example.org.pem"), ss, 0o600)
	now := time.Now()
	by := map[string]Cert{}
	for _, c := range Status(inv, now) {
		by[c.Tenant] = c
	}
	if c := by["alpha"]; !c.ACME || !c.Due || c.Reason != "self-signed" || c.NotAfter.IsZero() {
		t.Errorf("alpha: %+v", c)
	}
	if c := by["beta"]; !c.Due || c.Reason != "no certificate yet" {
		t.Errorf("beta: %+v", c)
	}
	if c := by["other"]; c.ACME || c.Due {
		t.Errorf("other (not in tls.acme.tenants): %+v", c)
	}
	if got := inv.Hostnames(inv.Tenants[0]); strings.Join(got, " ") != "api.alpha.example.org grafana.alpha.example.org influx.alpha.example.org" {
		t.Errorf("hostnames %v", got)
	}
}

func TestHostFailures(t *testing.T) {
	hosts := []string{"api.a.test", "grafana.a.test", "influx.a.test"}
	err := errors.New(`challenge: one or more domains had a problem: [influx.a.test: acme: error: 403 :: urn:ietf:params:acme:error:unauthorized :: connection refused] [api.a.test: acme: error: 400 :: [bad] thing]`)
	got := hostFailures(hosts, err)
	if len(got) != 2 || got[0].Host != "influx.a.test" || !strings.Contains(got[0].Error, "connection refused") || got[1].Host != "api.a.test" || got[1].Error != "acme: error: 400 :: [bad] thing" {
		t.Errorf("per host: %+v", got)
	}
	if got := hostFailures(hosts, errors.New("the CA is down")); len(got) != 3 || got[2].Error != "the CA is down" {
		t.Errorf("unnamed error: %+v", got)
	}
}

type fakeRT struct{ cmds []string }

func (f *fakeRT) Command(_ context.Context, cmd string) (string, error) {
	f.cmds = append(f.cmds, cmd)
	if cmd == "show map" {
		return "# id (file) description\n-1 (karana/hosts.map) pattern loaded ...\n3 (/etc/haproxy/karana/acme.map) pattern loaded from file\n\n", nil
	}
	return "\n", nil
}

func TestChallengeOnEveryBalancer(t *testing.T) {
	a, b := &fakeRT{}, &fakeRT{}
	p := &balancers{rts: map[string]Runtime{"lb1": a, "lb2": b}, names: []string{"lb1", "lb2"}}
	if err := p.Present(context.Background(), "api.a.test", "tok", "tok.auth"); err != nil {
		t.Fatal(err)
	}
	if err := p.CleanUp(context.Background(), "api.a.test", "tok", "tok.auth"); err != nil {
		t.Fatal(err)
	}
	for _, rt := range []*fakeRT{a, b} {
		if got := strings.Join(rt.cmds, "|"); got != "show map|del map #3 tok|add map #3 tok tok.auth|show map|del map #3 tok" {
			t.Errorf("commands %s", got)
		}
	}
	if err := p.Present(context.Background(), "x", "to k", "v"); err == nil {
		t.Error("a token with a space is sent to the runtime API")
	}
}

func TestRenewSkipsAndNotConfigured(t *testing.T) {
	dir := t.TempDir()
	inv, err := inventory.Parse(filepath.Join(dir, "inv.yaml"), []byte(invYAML))
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&Renewer{Inv: inv}).Renew(context.Background(), false, []string{"other"})
	if err != nil || len(res) != 1 || res[0].Action != ActionSkipped {
		t.Errorf("other: %+v %v", res, err)
	}
	inv.TLS.ACME = nil
	if _, err := (&Renewer{Inv: inv}).Renew(context.Background(), false, nil); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("without tls.acme: %v", err)
	}
}
