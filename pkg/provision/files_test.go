package provision

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	apiconfig "github.com/karana-project/karana/pkg/api/config"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/secrets"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func testTenant(t *testing.T) Tenant {
	t.Helper()
	inv, err := inventory.Parse("inv.yaml", []byte("tenants:\n  - {name: acme, domain: acme.example.org, customer: Acme Ltd, id: ABCDEFGHIJKLM, slot: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	return Tenant{
		Inv: inv, T: inv.Tenants[0], Binary: []byte("#!karana\n"),
		Secrets: &secrets.Tenant{
			InfluxDB:  secrets.Credential{User: "admin", Password: "influxpw"},
			Grafana:   secrets.Credential{User: "admin", Password: "grafanapw"},
			JWTSecret: "jwtsecret-0123456789-0123456789-0123456789",
			API:       secrets.Credential{User: "admin@acme.example.org", Password: "apiadminpw-0123456789"},
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func fileAt(t *testing.T, r Role, path string) File {
	t.Helper()
	for _, f := range r.Files {
		if f.Path == path {
			return f
		}
	}
	t.Fatalf("role %s has no %s", r.Role, path)
	return File{}
}

func TestInfluxConf(t *testing.T) {
	r := Influx(testTenant(t))
	f := fileAt(t, r, InfluxConfPath)
	golden(t, "influxdb.conf", f.Data)
	s := string(f.Data)
	// auth and the HTTP port must be in [http], not at the top level.
	http := s[strings.Index(s, "[http]"):]
	for _, want := range []string{"auth-enabled = true", `bind-address = ":8086"`} {
		if !strings.Contains(http, want) {
			t.Errorf("[http] lacks %s", want)
		}
	}
	if r.Probe.Path != "/ping" || r.Probe.Status != 204 {
		t.Errorf("probe %+v", r.Probe)
	}
}

func TestGrafanaIni(t *testing.T) {
	r := Grafana(testTenant(t))
	f := fileAt(t, r, GrafanaIniPath)
	golden(t, "grafana.ini", f.Data)
	for _, want := range []string{"root_url = https://grafana.acme.example.org/", "admin_password = grafanapw"} {
		if !strings.Contains(string(f.Data), want) {
			t.Errorf("grafana.ini lacks %q", want)
		}
	}
	if f.Mode&0o004 != 0 {
		t.Errorf("grafana.ini with the admin password is world-readable: %v", f.Mode)
	}
}

func TestAPIConfigKeys(t *testing.T) {
	tt := testTenant(t)
	r := API(tt)
	f := fileAt(t, r, APIConfigPath)
	golden(t, "api.yaml", f.Data)
	if f.Mode != 0o600 {
		t.Errorf("api.yaml mode %v, want 0600", f.Mode)
	}
	var m map[string]any
	if err := yaml.Unmarshal(f.Data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"listen", "data_dir", "log_level", "cors_origins", "jwt", "password_min_length", "tenant", "influxdb", "grafana", "git"} {
		if _, ok := m[k]; !ok {
			t.Errorf("api.yaml lacks key %q", k)
		}
	}
	var c APIConfig
	yaml.Unmarshal(f.Data, &c)
	// slot 2: influx .16, grafana .17 on the default 10.0.12.0/24
	if c.InfluxDB.URL != "http://10.0.12.16:8086" || c.Grafana.URL != "http://10.0.12.17:3000" {
		t.Errorf("service URLs %q %q", c.InfluxDB.URL, c.Grafana.URL)
	}
	if c.Tenant.ID != "ABCDEFGHIJKLM" || c.Tenant.Customer != "Acme Ltd" || c.JWT.Secret != "jwtsecret-0123456789-0123456789-0123456789" {
		t.Errorf("tenant block %+v jwt %+v", c.Tenant, c.JWT)
	}
	if b := fileAt(t, r, APIBinaryPath); string(b.Data) != string(tt.Binary) || b.Mode != 0o755 {
		t.Errorf("binary not pushed as the running karana: %+v", b.Mode)
	}
	golden(t, "karana-api.service", fileAt(t, r, APIUnitPath).Data)
}

// The API container's config is read by `karana api serve`: the file karana
// writes must be accepted by that reader, with the same values.
func TestAPIConfigAcceptedByAPIServe(t *testing.T) {
	for _, noGit := range []bool{false, true} {
		tt := testTenant(t)
		tt.NoGit = noGit
		f := fileAt(t, API(tt), APIConfigPath)
		p := filepath.Join(t.TempDir(), "api.yaml")
		if err := os.WriteFile(p, f.Data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := apiconfig.Load(p)
		if err != nil {
			t.Fatalf("karana api serve refuses the config karana writes: %v\n%s", err, f.Data)
		}
		if c.InfluxDB.URL != "http://10.0.12.16:8086" || c.Grafana.User == "" || c.Tenant.ID != "ABCDEFGHIJKLM" {
			t.Errorf("values lost between writer and reader: %+v", c)
		}
		if c.Git.Disabled != noGit {
			t.Errorf("git.disabled = %v, want %v", c.Git.Disabled, noGit)
		}
		if secret, err := c.JWTSecret(); err != nil || secret != "jwtsecret-0123456789-0123456789-0123456789" {
			t.Errorf("jwt secret = %q, %v", secret, err)
		}
		if pw, err := c.AdminPassword(); err != nil || pw != "apiadminpw-0123456789" || c.Admin.Login != "admin@acme.example.org" || c.Admin.Email != "admin@acme.example.org" {
			t.Errorf("admin = %+v, password %q, %v", c.Admin, pw, err)
		}
	}
}

// Secrets from before the API admin (a dry run on an old file) give a
// config without admin, which the API accepts.
func TestAPIConfigWithoutAdmin(t *testing.T) {
	tt := testTenant(t)
	tt.Secrets.API = secrets.Credential{}
	f := fileAt(t, API(tt), APIConfigPath)
	if strings.Contains(string(f.Data), "admin:") {
		t.Errorf("admin block without an admin password:\n%s", f.Data)
	}
}
