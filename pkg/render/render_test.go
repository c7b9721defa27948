package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/haproxy"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/tlsgen"
	"github.com/karana-project/karana/pkg/traffic"
)

const baseYAML = `lxd:
  network:
    ipv4: 10.0.0.1/16
tls:
  cert_dir: certs
`

// testInventory loads a minimal inventory from a temp folder and adds n
// tenants in memory, in reverse name order.
func testInventory(t testing.TB, n int) *inventory.Inventory {
	t.Helper()
	dir := t.TempDir()
	inv, err := inventory.Parse(filepath.Join(dir, "inv.yaml"), []byte(baseYAML))
	if err != nil {
		t.Fatal(err)
	}
	for i := n - 1; i >= 0; i-- {
		slot := i
		inv.Tenants = append(inv.Tenants, inventory.Tenant{
			Name: fmt.Sprintf("t%05d", i), Domain: fmt.Sprintf("t%05d.example.org", i), Slot: &slot,
		})
	}
	return inv
}

func mustRender(t testing.TB, inv *inventory.Inventory, opts Options) *Output {
	t.Helper()
	out, err := Render(inv, opts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRenderDeterministic(t *testing.T) {
	inv := testInventory(t, 20)
	a := mustRender(t, inv, Options{GenerateCerts: true})
	if len(a.Generated) != 21 {
		t.Errorf("generated %d certificates, want 21 (20 tenants and the default)", len(a.Generated))
	}
	// Same inventory with tenants and inner balancers in another order.
	for i, j := 0, len(inv.Tenants)-1; i < j; i, j = i+1, j-1 {
		inv.Tenants[i], inv.Tenants[j] = inv.Tenants[j], inv.Tenants[i]
	}
	b := mustRender(t, inv, Options{})
	if len(b.Generated) != 0 || len(b.Missing) != 0 {
		t.Errorf("second render generated %v, missing %v", b.Generated, b.Missing)
	}
	if len(a.Files) != len(b.Files) {
		t.Fatalf("%d files, then %d", len(a.Files), len(b.Files))
	}
	for name, want := range a.Files {
		if string(b.Files[name]) != string(want) {
			t.Errorf("%s differs between two renders of the same inventory", name)
		}
	}
}

func TestRenderRoutes(t *testing.T) {
	inv := testInventory(t, 2)
	out := mustRender(t, inv, Options{GenerateCerts: true})
	hosts := string(out.Files[MapFile])
	for _, want := range []string{
		"grafana.t00001.example.org t00001-grafana\n",
		"api.t00000.example.org t00000-api\n",
		"influx.t00000.example.org t00000-influx\n",
	} {
		if !strings.Contains(hosts, want) {
			t.Errorf("host map lacks %q:\n%s", want, hosts)
		}
	}
	inner := string(out.Files[InnerFile])
	slot1 := inv.TenantAddr(inv.Tenants[0], inventory.RoleGrafana).String() // t00001 is first
	if !strings.Contains(inner, "backend "+TenantsBackend+"\n") || !strings.Contains(inner, "server t00001-grafana "+slot1+":3000 weight 0 check inter 5s") {
		t.Errorf("inner.cfg lacks t00001's grafana server at %s:\n%s", slot1, inner)
	}
	// Routing is one lookup per request however many tenants; the other
	// map answers ACME challenges on plain HTTP only.
	if n := strings.Count(inner, "map("+MapFile+")"); n != 1 || strings.Count(inner, "map(") != 2 {
		t.Errorf("inner.cfg has %d host map lookups, want exactly one (and the ACME map's)", n)
	}
	outer := string(out.Files[OuterFile])
	for _, b := range inv.Balancers.Inner {
		want := fmt.Sprintf("server %s %s:443", b, inv.InnerAddr(b))
		if !strings.Contains(outer, want) {
			t.Errorf("outer.cfg lacks %q", want)
		}
	}
	crt := strings.Split(strings.TrimSpace(string(out.Files[CrtList])), "\n")
	if crt[1] != CertsDir+"/"+DefaultPEM {
		t.Errorf("crt-list does not start with the default certificate: %q", crt[1])
	}
}

func TestOutputContainerPaths(t *testing.T) {
	out := mustRender(t, testInventory(t, 1), Options{GenerateCerts: true})
	o := out.Outer()
	if len(o) != 1 || string(o[ConfigPath]) != string(out.Files[OuterFile]) {
		t.Errorf("Outer() = %d files, want only %s = outer.cfg", len(o), ConfigPath)
	}
	in := out.Inner()
	for _, p := range []string{ConfigPath, "/etc/haproxy/karana/hosts.map", "/etc/haproxy/karana/crt-list.txt",
		"/etc/haproxy/karana/certs/default.pem", "/etc/haproxy/karana/certs/t00000.example.org.pem"} {
		if in[p] == nil {
			t.Errorf("Inner() lacks %s", p)
		}
	}
	if string(in[ConfigPath]) != string(out.Files[InnerFile]) {
		t.Error("Inner()'s haproxy.cfg is not inner.cfg")
	}
	if FileMode("karana/certs/x.pem") != 0o600 || FileMode(MapFile) != 0o644 {
		t.Error("certificates must be 0600, other files 0644")
	}
}

func TestInjectionRefused(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(inv *inventory.Inventory)
		want   string
	}{
		{"newline in domain", func(inv *inventory.Inventory) {
			inv.Tenants[0].Domain = "a.example.org\n  server evil 1.2.3.4:80"
		}, `domain: "a.example.org\n  server evil 1.2.3.4:80" contains a line break`},
		{"space in domain", func(inv *inventory.Inventory) { inv.Tenants[0].Domain = "a.example.org evil" }, "contains whitespace"},
		{"comment in domain", func(inv *inventory.Inventory) { inv.Tenants[0].Domain = "a.example.org#x" }, `contains '#'`},
		{"uppercase domain", func(inv *inventory.Inventory) { inv.Tenants[0].Domain = "A.example.org" }, "not a valid DNS name"},
		{"tab in tenant name", func(inv *inventory.Inventory) { inv.Tenants[0].Name = "a\tb" }, `tenant "a\tb": name`},
		{"brace in tenant name", func(inv *inventory.Inventory) { inv.Tenants[0].Name = "a%[src]" }, "contains '%'"},
		{"quote in service host", func(inv *inventory.Inventory) { inv.Services.API.Host = `api"` }, "services.api.host"},
		{"newline in balancer", func(inv *inventory.Inventory) { inv.Balancers.Inner[0] = "lb1\nglobal" }, "balancers.inner"},
		{"bad port", func(inv *inventory.Inventory) { inv.Services.Grafana.Port = 70000 }, "services.grafana.port"},
		{"hard stop injection", func(inv *inventory.Inventory) { inv.Balancers.HardStopAfter = "30s\n    daemon" }, "hard_stop_after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := testInventory(t, 1)
			tt.mutate(inv)
			_, err := Render(inv, Options{GenerateCerts: true})
			if err == nil {
				t.Fatal("unsafe value rendered")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\n does not contain %q", err, tt.want)
			}
			// Nothing was generated for a refused inventory.
			if _, err := os.Stat(CertDir(inv)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("cert folder created for a refused inventory (%v)", err)
			}
		})
	}
}

func TestUnsafeWord(t *testing.T) {
	for _, v := range []string{"", "a b", "a\nb", "a\rb", "a\tb", "a#b", "a\x00", "a\x7f", "é", `a"b`, "a'b", "a\\b", "a;b", "%[src]", "${X}", "a{b}"} {
		if unsafeWord(v) == "" {
			t.Errorf("unsafeWord(%q) accepted it", v)
		}
	}
	for _, v := range []string{"lb1", "*.a.example.org", "karana/certs/a.example.org.pem", "10.0.0.3", "/karana-health", "30s", "be_http"} {
		if why := unsafeWord(v); why != "" {
			t.Errorf("unsafeWord(%q) = %q", v, why)
		}
	}
}

// TestViewModelsHoldOnlyWords keeps the templates' guarantee: every string
// they can reach is a word, made by the checker, never a plain string.
func TestViewModelsHoldOnlyWords(t *testing.T) {
	wordType := reflect.TypeOf(word(""))
	var walk func(path string, typ reflect.Type)
	walk = func(path string, typ reflect.Type) {
		switch typ.Kind() {
		case reflect.String:
			if typ != wordType {
				t.Errorf("%s is a %v: templates must only see words", path, typ)
			}
		case reflect.Slice, reflect.Array, reflect.Pointer:
			walk(path+"[]", typ.Elem())
		case reflect.Map:
			walk(path+"{key}", typ.Key())
			walk(path+"{}", typ.Elem())
		case reflect.Struct:
			for i := 0; i < typ.NumField(); i++ {
				walk(path+"."+typ.Field(i).Name, typ.Field(i).Type)
			}
		case reflect.Int, reflect.Bool:
		default:
			t.Errorf("%s has kind %v", path, typ.Kind())
		}
	}
	m, err := buildModel(testInventory(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"outer": m.outer, "inner": m.inner, "hosts": m.hosts, "crts": m.crts} {
		walk(name, reflect.TypeOf(v))
	}
}

func TestHAProxyDuration(t *testing.T) {
	for in, want := range map[string]string{"30s": "30s", "1m30s": "90s", "1h": "3600s", "1500ms": "1500ms"} {
		if got, err := haproxyDuration(in); err != nil || got != want {
			t.Errorf("haproxyDuration(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1s", "0s", "soon"} {
		if _, err := haproxyDuration(in); err == nil {
			t.Errorf("haproxyDuration(%q) passed", in)
		}
	}
}

func TestCertificates(t *testing.T) {
	inv := testInventory(t, 2)
	out := mustRender(t, inv, Options{})
	if len(out.Missing) != 3 || len(out.Generated) != 0 {
		t.Fatalf("without GenerateCerts: missing %v, generated %v", out.Missing, out.Generated)
	}
	if _, err := os.Stat(CertDir(inv)); !errors.Is(err, os.ErrNotExist) {
		t.Error("render without GenerateCerts created the cert folder")
	}
	if err := Write(t.TempDir(), out); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Write of an incomplete output: %v", err)
	}
	if err := Validate(context.Background(), out); err == nil {
		t.Error("Validate of an incomplete output passed")
	}

	out = mustRender(t, inv, Options{GenerateCerts: true})
	p := filepath.Join(CertDir(inv), "t00000.example.org.pem")
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("generated certificate %s: %v %v", p, st, err)
	}
	src, _ := os.ReadFile(p)
	if string(out.Files[CertsDir+"/t00000.example.org.pem"]) != string(src) {
		t.Error("output certificate is not the cert folder's")
	}

	// A tenant's cert: overrides the folder and is never generated.
	custom := filepath.Join(inv.Dir(), "custom.pem")
	inv.Tenants[0].Cert = "custom.pem"
	if _, err := Render(inv, Options{GenerateCerts: true}); !errors.As(err, new(*CertError)) {
		t.Errorf("missing custom certificate: got %v, want a *CertError", err)
	}
	b, err := tlsgen.SelfSigned([]string{inv.Tenants[0].Domain}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keyOnly := b[strings.Index(string(b), "-----BEGIN PRIVATE KEY"):]
	os.WriteFile(custom, keyOnly, 0o600)
	if _, err := Render(inv, Options{}); err == nil || !strings.Contains(err.Error(), "no certificate") {
		t.Errorf("key-only custom certificate: %v", err)
	}
	os.WriteFile(custom, b, 0o600)
	out = mustRender(t, inv, Options{})
	if string(out.Files[CertsDir+"/"+inv.Tenants[0].Domain+".pem"]) != string(b) {
		t.Error("custom certificate not used")
	}
}

func TestValidateQuotesHAProxy(t *testing.T) {
	if _, err := haproxy.Find(); err != nil {
		t.Skip(err)
	}
	out := mustRender(t, testInventory(t, 1), Options{GenerateCerts: true})
	if err := Validate(context.Background(), out); err != nil {
		t.Fatalf("rendered configuration refused: %v", err)
	}
	out.Files[InnerFile] = append(out.Files[InnerFile], "    bogus-keyword on\n"...)
	err := Validate(context.Background(), out)
	var ce *haproxy.CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *haproxy.CheckError", err)
	}
	for _, w := range []string{"inner.cfg", "bogus-keyword"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "karana-render-") {
		t.Errorf("error names the scratch folder: %q", err)
	}
}

func TestValidateNoTenants(t *testing.T) {
	if _, err := haproxy.Find(); err != nil {
		t.Skip(err)
	}
	out := mustRender(t, testInventory(t, 0), Options{GenerateCerts: true})
	if err := Validate(context.Background(), out); err != nil {
		t.Errorf("an inventory without tenants renders an invalid configuration: %v", err)
	}
}

func TestTenantsBackendIsTraffics(t *testing.T) {
	if TenantsBackend != traffic.TenantsBackend {
		t.Errorf("render names the tenants' backend %q, pkg/traffic reads %q", TenantsBackend, traffic.TenantsBackend)
	}
}
