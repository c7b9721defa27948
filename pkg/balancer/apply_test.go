package balancer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/balancer/balancerfake"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/render"
	"github.com/karana-project/karana/pkg/tlsgen"
)

// fixture is an inventory in a temporary folder and lb0, lb1, lb2 in
// memory.
type fixture struct {
	t    *testing.T
	inv  *inventory.Inventory
	fake *balancerfake.Balancers
}

func newFixture(t *testing.T, tenants ...string) *fixture {
	t.Helper()
	dir := t.TempDir()
	inv, err := inventory.Parse(filepath.Join(dir, "inv.yaml"), []byte("lxd: {project: unit, network: {ipv4: 10.0.14.1/24}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, inv: inv, fake: balancerfake.New("lb0", "lb1", "lb2")}
	for _, n := range tenants {
		f.add(n)
	}
	return f
}

func (f *fixture) add(name string) {
	slot := len(f.inv.Tenants)
	f.inv.Tenants = append(f.inv.Tenants, inventory.Tenant{Name: name, Domain: name + ".test", Slot: &slot})
}

func (f *fixture) remove(name string) {
	var keep []inventory.Tenant
	for _, t := range f.inv.Tenants {
		if t.Name != name {
			keep = append(keep, t)
		}
	}
	f.inv.Tenants = keep
}

func (f *fixture) files() balancer.Files {
	f.t.Helper()
	out, err := render.Render(f.inv, render.Options{GenerateCerts: true})
	if err != nil {
		f.t.Fatal(err)
	}
	return balancer.Files(out.Inner())
}

// converged gives both inner balancers the files of the inventory now.
func (f *fixture) converged() {
	fs := f.files()
	for _, n := range f.fake.Nodes {
		n.Files = fs
	}
}

func (f *fixture) apply(live bool) (*balancer.ReloadReport, error) {
	f.fake.Log = nil
	return balancer.Apply(context.Background(), balancer.ReloadOptions{
		Inventory: f.inv, Files: f.files(), Live: live, Runtime: f.fake.Connector(), Targets: f.fake.Target,
		ReloadTimeout: time.Second, Lock: func() (func(), error) { return func() {}, nil },
	})
}

func (f *fixture) wantLog(want ...string) {
	f.t.Helper()
	if got := f.fake.Logged(); !reflect.DeepEqual(got, want) {
		f.t.Errorf("log:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func (f *fixture) wantFiles(names ...string) {
	f.t.Helper()
	want := f.files()
	for _, n := range names {
		if d := f.fake.Nodes[n].Files.Diff(want); len(d) > 0 {
			f.t.Errorf("%s's files differ from the inventory's in %v", n, d)
		}
	}
}

func actions(rep *balancer.ReloadReport) string {
	var s []string
	for _, b := range rep.Balancers {
		s = append(s, b.Name+" "+b.Action)
	}
	return strings.Join(s, ", ")
}

func ready(lb string) []string {
	return []string{"lb0: set server be_http/" + lb + " state ready", "lb0: set server be_https/" + lb + " state ready"}
}

func drain(lb string) []string {
	return []string{"lb0: set server be_http/" + lb + " state drain", "lb0: set server be_https/" + lb + " state drain"}
}

func seq(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v)
		case []string:
			out = append(out, v...)
		}
	}
	return out
}

// First run: the inner balancers run Debian's configuration, lb0 sees
// them DOWN. Both are staged and checked before either is changed, then
// each is reloaded (restarted) without a drain: they carry no traffic.
func TestApplyFirstRun(t *testing.T) {
	f := newFixture(t, "acme")
	f.fake.Stop("lb1")
	f.fake.Stop("lb2")
	rep, err := f.apply(true)
	if err != nil {
		t.Fatal(err)
	}
	f.wantLog(seq("lb1: stage", "lb1: haproxy -c", "lb2: stage", "lb2: haproxy -c",
		"lb1: commit", "lb1: reload", ready("lb1"), "lb2: commit", "lb2: reload", ready("lb2"))...)
	f.wantFiles("lb1", "lb2")
	if got := actions(rep); got != "lb1 reloaded, lb2 reloaded" {
		t.Errorf("actions: %s", got)
	}
	// A second run changes nothing.
	if rep, err = f.apply(true); err != nil || actions(rep) != "lb1 unchanged, lb2 unchanged" {
		t.Errorf("second run: %v, %s", err, actions(rep))
	}
	f.wantLog()
}

// A tenant added and removed changes both balancers live: no drain, no
// reload; the host map entries come last on add and first on remove.
func TestApplyTenantLive(t *testing.T) {
	f := newFixture(t, "acme")
	f.converged()
	f.add("beta")
	rep, err := f.apply(true)
	if err != nil {
		t.Fatal(err)
	}
	var add []string
	for _, r := range []string{"api", "grafana", "influx"} {
		add = append(add, "add server be_tenants/beta-"+r+" "+fmt.Sprint(serverLine(t, f, "beta-"+r)),
			"enable health be_tenants/beta-"+r, "set server be_tenants/beta-"+r+" health up", "set server be_tenants/beta-"+r+" state ready")
	}
	add = append(add, "new ssl cert karana/certs/beta.test.pem", "set ssl cert karana/certs/beta.test.pem",
		"commit ssl cert karana/certs/beta.test.pem", "add ssl crt-list karana/crt-list.txt",
		"add map karana/hosts.map api.beta.test beta-api", "add map karana/hosts.map grafana.beta.test beta-grafana",
		"add map karana/hosts.map influx.beta.test beta-influx")
	var want []string
	for _, lb := range []string{"lb1", "lb2"} {
		want = append(want, lb+": stage")
		for _, c := range add {
			want = append(want, lb+": "+c)
		}
		want = append(want, lb+": commit")
	}
	f.wantLog(want...)
	f.wantFiles("lb1", "lb2")
	if got := actions(rep); got != "lb1 changed live, lb2 changed live" {
		t.Errorf("actions: %s", got)
	}

	f.remove("beta")
	if rep, err = f.apply(true); err != nil || actions(rep) != "lb1 changed live, lb2 changed live" {
		t.Fatalf("remove: %v %s", err, actions(rep))
	}
	log := f.fake.Logged()
	first, last := indexOf(log, "lb1: del map karana/hosts.map api.beta.test"), indexOf(log, "lb1: del server be_tenants/beta-influx")
	if first < 0 || last < first || indexOf(log, "lb1: del ssl cert karana/certs/beta.test.pem") < first {
		t.Errorf("remove: routes not taken out map first, servers last:\n%s", strings.Join(log, "\n"))
	}
	f.wantFiles("lb1", "lb2")
	for _, l := range log {
		if strings.Contains(l, "reload") || strings.Contains(l, "drain") {
			t.Errorf("a live change did %q", l)
		}
	}
}

func serverLine(t *testing.T, f *fixture, name string) string {
	cfg := string(f.files()[render.ConfigPath])
	for _, l := range strings.Split(cfg, "\n") {
		if strings.HasPrefix(l, "    server "+name+" ") {
			return strings.TrimPrefix(l, "    server "+name+" ")
		}
	}
	t.Fatalf("no server %s in the rendered configuration", name)
	return ""
}

func indexOf(log []string, s string) int {
	for i, l := range log {
		if l == s {
			return i
		}
	}
	return -1
}

// One inner balancer down while a tenant is added: the one that serves is
// changed live, the down one is staged, checked and restarted from the new
// files, first, without a drain.
func TestApplyDegradedTenant(t *testing.T) {
	f := newFixture(t, "acme")
	f.converged()
	f.fake.Stop("lb2")
	f.add("beta")
	rep, err := f.apply(true)
	if err != nil {
		t.Fatal(err)
	}
	log := f.fake.Logged()
	if got := actions(rep); got != "lb1 changed live, lb2 reloaded" {
		t.Errorf("actions: %s\n%s", got, strings.Join(log, "\n"))
	}
	if i, j := indexOf(log, "lb2: reload"), indexOf(log, "lb1: commit"); i < 0 || j < i || indexOf(log, "lb2: haproxy -c") > indexOf(log, "lb1: add server be_tenants/beta-api "+serverLine(t, f, "beta-api")) {
		t.Errorf("lb2 (down) must be checked before any change and reloaded before lb1 is changed:\n%s", strings.Join(log, "\n"))
	}
	for _, l := range log {
		if strings.Contains(l, "drain") {
			t.Errorf("degraded: %q", l)
		}
	}
	f.wantFiles("lb1", "lb2")
}

// One inner balancer down while the configuration itself changes: the
// down one is reloaded first and must come UP; only then is the other
// drained and reloaded, so both are never out at once.
func TestApplyDegradedReload(t *testing.T) {
	f := newFixture(t, "acme")
	f.converged()
	f.fake.Stop("lb2")
	f.inv.Balancers.HardStopAfter = "45s"
	rep, err := f.apply(true)
	if err != nil {
		t.Fatal(err)
	}
	f.wantLog(seq("lb1: stage", "lb1: haproxy -c", "lb2: stage", "lb2: haproxy -c",
		"lb2: commit", "lb2: reload", ready("lb2"),
		drain("lb1"), "lb1: commit", "lb1: reload", ready("lb1"))...)
	if got := actions(rep); got != "lb1 reloaded, lb2 reloaded" {
		t.Errorf("actions: %s", got)
	}
	f.wantFiles("lb1", "lb2")
}

// A tenant certificate whose key does not match its chain is refused
// before any balancer changes, live or by reload.
func TestApplyBrokenCertChangesNothing(t *testing.T) {
	f := newFixture(t, "acme")
	f.converged()
	a, _ := tlsgen.SelfSigned([]string{"beta.test"}, time.Now())
	b, _ := tlsgen.SelfSigned([]string{"other.test"}, time.Now())
	broken := string(a)[:strings.Index(string(a), "-----END CERTIFICATE-----")+26] + string(b)[strings.Index(string(b), "-----END CERTIFICATE-----")+26:]
	p := filepath.Join(f.inv.Dir(), "beta.pem")
	if err := os.WriteFile(p, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	f.add("beta")
	f.inv.Tenants[len(f.inv.Tenants)-1].Cert = p
	_, err := f.apply(true)
	if err == nil || !strings.Contains(err.Error(), "beta.test.pem") || !strings.Contains(err.Error(), "private key does not match") {
		t.Fatalf("err = %v", err)
	}
	for _, l := range f.fake.Logged() {
		if !strings.HasSuffix(l, ": stage") {
			t.Errorf("a refused certificate still did %q", l)
		}
	}
}

// A live change that HAProxy refuses half-way is undone on that balancer
// and its files stay as they were; the balancer before it keeps the new
// state with its new files. Live state and files agree on both, and a
// rerun finishes the job.
func TestApplyLiveFailureUndone(t *testing.T) {
	f := newFixture(t, "acme")
	f.converged()
	before := f.files()
	f.add("beta")
	f.fake.Nodes["lb2"].FailCommand = "add map"
	_, err := f.apply(true)
	if err == nil || !strings.Contains(err.Error(), "lb2") || !strings.Contains(err.Error(), "undone") {
		t.Fatalf("err = %v", err)
	}
	if d := f.fake.Nodes["lb2"].Files.Diff(before); len(d) > 0 {
		t.Errorf("lb2's files changed although its live change was undone: %v", d)
	}
	f.wantFiles("lb1")
	log := strings.Join(f.fake.Logged(), "\n")
	for _, undo := range []string{"lb2: del ssl crt-list karana/crt-list.txt karana/certs/beta.test.pem", "lb2: del server be_tenants/beta-api"} {
		if !strings.Contains(log, undo) {
			t.Errorf("undo lacks %q:\n%s", undo, log)
		}
	}
	f.fake.Nodes["lb2"].FailCommand = ""
	f.fake.Nodes["lb2"].Live = nil
	rep, err := f.apply(true)
	if err != nil || actions(rep) != "lb1 unchanged, lb2 changed live" {
		t.Fatalf("rerun: %v %s", err, actions(rep))
	}
	f.wantFiles("lb1", "lb2")
}
