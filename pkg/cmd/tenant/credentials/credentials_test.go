package credentials

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/secrets"
)

func TestNewCmdCredentials(t *testing.T) {
	tests := []struct {
		args     []string
		want     Options
		wantErr  string
		wantCode int
	}{
		{args: []string{"acme"}, want: Options{Name: "acme", Output: "text"}},
		{args: []string{"acme", "-o", "json"}, want: Options{Name: "acme", Output: "json"}},
		{args: nil, wantErr: "accepts 1 arg"},
		{args: []string{"a", "b"}, wantErr: "accepts 1 arg"},
		{args: []string{"Bad_Name"}, wantErr: "tenant name:", wantCode: cmdutil.ExitUsage},
		{args: []string{"acme", "-o", "yaml"}, wantErr: `invalid --output "yaml"`, wantCode: cmdutil.ExitUsage},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if tt.wantErr != "" {
				cmdtest.WantError(t, NewCmdCredentials, tt.args, tt.wantErr, tt.wantCode)
				return
			}
			got := cmdtest.MustParse(t, NewCmdCredentials, tt.args)
			if got.Name != tt.want.Name || got.Output != tt.want.Output || got.IO == nil || got.Inventory == nil {
				t.Errorf("options = %+v, want %+v", got, tt.want)
			}
		})
	}
}

const inv = `lxd: {project: karana-unit, network: {name: unitbr0, ipv4: 10.0.99.1/24}}
balancers: {outer: {https_port: 8443}}
tenants:
  - {name: alpha, domain: alpha.example.org, slot: 0}
  - {name: beta, domain: beta.example.net, slot: 1}
  - {name: gamma, domain: gamma.example.net, slot: 2}
`

// setup writes the inventory and the secrets: alpha's as tenant add
// writes them, beta's from before the API admin, gamma none.
func setup(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "inv.yaml")
	if err := os.WriteFile(p, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	st := secrets.Store{Dir: filepath.Join(dir, "secrets", "karana-unit")}
	if _, _, err := st.Ensure("alpha", "admin@alpha.example.org"); err != nil {
		t.Fatal(err)
	}
	old := "influxdb: {user: admin, password: i}\ngrafana: {user: admin, password: g}\njwt_secret: j\n"
	if err := os.WriteFile(st.Path("beta"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, path, name, output string) (string, error) {
	t.Helper()
	ios, out, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, InventoryFlag: path}
	err := credentialsRun(&Options{IO: ios, Inventory: f.Inventory, Name: name, Output: output})
	return out.String(), err
}

func TestCredentialsJSON(t *testing.T) {
	path := setup(t)
	out, err := run(t, path, "alpha", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	s, err := secrets.Store{Dir: filepath.Join(filepath.Dir(path), "secrets", "karana-unit")}.Load("alpha")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"api":      {"url": "https://api.alpha.example.org:8443", "login": "admin@alpha.example.org", "password": s.API.Password},
		"grafana":  {"url": "https://grafana.alpha.example.org:8443", "login": "admin", "password": s.Grafana.Password},
		"influxdb": {"url": "https://influx.alpha.example.org:8443", "login": "admin", "password": s.InfluxDB.Password},
	}
	if len(got) != len(want) {
		t.Fatalf("keys %v, want api, grafana, influxdb", got)
	}
	for k, w := range want {
		for f, v := range w {
			if got[k][f] != v || len(got[k]) != 3 {
				t.Errorf("%s = %v, want %v", k, got[k], w)
			}
		}
	}
}

func TestCredentialsText(t *testing.T) {
	out, err := run(t, setup(t), "alpha", "text")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "SERVICE URL LOGIN PASSWORD" {
		t.Fatalf("output:\n%s", out)
	}
	if f := strings.Fields(lines[1]); len(f) != 4 || f[0] != "api" || f[1] != "https://api.alpha.example.org:8443" || f[2] != "admin@alpha.example.org" || len(f[3]) != 24 {
		t.Errorf("api line %q", lines[1])
	}
}

func TestCredentialsErrors(t *testing.T) {
	path := setup(t)
	tests := []struct{ name, want string }{
		{"nosuch", `tenant "nosuch" is not in ` + path},
		{"beta", "has no API admin yet: run `karana up`"},
		{"gamma", "no credentials in "},
	}
	for _, tt := range tests {
		out, err := run(t, path, tt.name, "json")
		if err == nil || !strings.Contains(err.Error(), tt.want) || out != "" {
			t.Errorf("%s: err %v, stdout %q; want %q", tt.name, err, out, tt.want)
		}
	}
}
