package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const full = `listen: ":8000"
data_dir: /var/lib/karana-api
log_level: info
cors_origins: ["http://localhost:3000"]
jwt: {secret: "0123456789abcdef0123456789abcdef", lifetime: 12h}
password_min_length: 10
tenant: {id: SMNTYQIUB4YTC, customer: "Bintumani e.V.", login_resource: users, login_field: credentials}
influxdb: {url: "http://10.0.12.10:8086", user: admin, password: "influxpw"}
grafana: {url: "http://10.0.12.11:3000", user: admin, password: "grafanapw"}
git: {remote: ""}
resources:
  - name: sensors
    owner: owner
    unique: [serial]
    fields:
      - {name: serial, type: string, required: true, pattern: "^[A-Z0-9]+$"}
      - {name: owner, type: uuid, required: true, ref: users}
      - {name: kind, type: string, enum: [temp, volt], default: temp}
`

func TestLoadFull(t *testing.T) {
	c, err := Load(write(t, "api.yaml", full))
	if err != nil {
		t.Fatal(err)
	}
	if c.JWT.Lifetime != 12*time.Hour || c.PasswordMinLength != 10 || !c.MinLengthSet || c.Tenant.Customer != "Bintumani e.V." || !c.SyncConfigured() {
		t.Errorf("values not read: %+v", c)
	}
	defs, err := c.BuildResources()
	if err != nil || len(defs) != 3 || defs[2].Lookup("serial") == nil {
		t.Fatalf("resources: %v %v", defs, err)
	}
	if f := defs[0].Lookup("credentials.password"); f.MinLen != 10 {
		t.Errorf("password_min_length not applied: %d", f.MinLen)
	}
}

func TestBadValuesNameTheKey(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "listen: \":8000\"\ncolour: red\n", `line 2: unknown key "colour"`},
		{"unknown nested key", "jwt: {secrett: x}\n", `unknown key "secrett"`},
		{"listen", "listen: 8000\n", "listen:"},
		{"log level", "log_level: loud\n", "log_level:"},
		{"cors", "cors_origins: [localhost]\n", "cors_origins[0]:"},
		{"lifetime", "jwt: {lifetime: -1h}\n", "jwt.lifetime:"},
		{"lifetime type", "jwt: {lifetime: forever}\n", "line 1"},
		{"short secret", "jwt: {secret: abc}\n", "jwt.secret:"},
		{"min length", "password_min_length: 0\n", "password_min_length:"},
		{"influx url", "influxdb: {url: \"ftp://x\", user: a}\n", "influxdb.url:"},
		{"grafana user", "grafana: {url: \"http://x:3000\"}\n", "grafana.user:"},
		{"proxies", "trusted_proxies: [10.0.0.1]\n", "trusted_proxies[0]:"},
		{"admin without login", "admin: {password: abcdefghij}\n", "admin.login:"},
		{"admin without password", "admin: {login: a@b.org}\n", "admin: password or password_file"},
		{"admin both passwords", "admin: {login: a@b.org, password: abcdefghij, password_file: /x}\n", "not both"},
		{"admin short password", "admin: {login: a@b.org, password: abc}\n", "admin.password: needs at least 8"},
		{"admin login not an address", "admin: {login: admin, password: abcdefghij}\n", "admin.email:"},
		{"admin unknown key", "admin: {login: a@b.org, pasword: abcdefghij}\n", `unknown key "pasword"`},
		{"reconcile interval", "sync: {reconcile_interval: -5m}\n", "sync.reconcile_interval:"},
		{"reconcile interval too short", "sync: {reconcile_interval: 10ms}\n", "sync.reconcile_interval:"},
		{"json limit", "limits: {json_field_bytes: 1}\n", "limits.json_field_bytes:"},
		{"client limit", "limits: {client_bytes: 100}\n", "limits.client_bytes:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(write(t, "api.yaml", tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestBadResources(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"built in", "resources: [{name: users, fields: [{name: a, type: string}]}]", `resources[0].name: "users" is built in`},
		{"bad type", "resources: [{name: things, fields: [{name: a, type: colour}]}]", `unknown type "colour"`},
		{"unique not a field", "resources: [{name: things, unique: [b], fields: [{name: a, type: string}]}]", `unique: "b"`},
		{"bad pattern", "resources: [{name: things, fields: [{name: a, type: string, pattern: \"(\"}]}]", "a: pattern:"},
		{"login resource", "tenant: {login_resource: things, login_field: credentials}", `tenant.login_resource: "things"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(write(t, "api.yaml", tt.yaml))
			if err == nil {
				_, err = c.BuildResources()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// The seed's Listing 1.
const seedINI = `[influxdb]
host = 10.0.12.101
port = 8083
user = admin
pass = influxpw
[grafana]
host = 10.0.12.102
port = 3000
user = karanaadmin
pass = karanapasswort
[test]
host = localhost
port = 8000
user = test
pass = test
`

func TestSeedINI(t *testing.T) {
	c, err := Load(write(t, "config.ini", seedINI))
	if err != nil {
		t.Fatal(err)
	}
	want := Endpoint{URL: "http://10.0.12.101:8083", User: "admin", Password: "influxpw"}
	if c.InfluxDB != want || c.Grafana.URL != "http://10.0.12.102:3000" || c.Grafana.Password != "karanapasswort" {
		t.Errorf("got %+v %+v", c.InfluxDB, c.Grafana)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.ini"), []byte(seedINI), 0o600)
	os.WriteFile(filepath.Join(dir, "api.yaml"), []byte("legacy_ini: config.ini\ntenant: {id: T1}\n"), 0o600)
	if c, err = Load(filepath.Join(dir, "api.yaml")); err != nil || c.Grafana.User != "karanaadmin" {
		t.Errorf("legacy_ini from YAML: %+v %v", c, err)
	}
	bad := strings.Replace(seedINI, "port = 8083", "port = eighty", 1)
	if _, err := Load(write(t, "config.ini", bad)); err == nil || !strings.Contains(err.Error(), "[influxdb] port") {
		t.Errorf("bad port: %v", err)
	}
}

func TestSyncAndLimitKeys(t *testing.T) {
	c, err := Load(write(t, "api.yaml", "sync: {reconcile_interval: 2m}\nlimits: {json_field_bytes: 1000, client_bytes: 5000}\n"))
	if err != nil || c.Sync.ReconcileInterval != 2*time.Minute || c.Limits.JSONFieldBytes != 1000 || c.Limits.ClientBytes != 5000 {
		t.Fatalf("got %+v %+v %v", c.Sync, c.Limits, err)
	}
	d := Default()
	if d.Sync.ReconcileInterval != 30*time.Minute || d.Limits.JSONFieldBytes != 64<<10 || d.Limits.ClientBytes != 4<<20 {
		t.Errorf("defaults: %+v %+v", d.Sync, d.Limits)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load("")
	if err != nil || c.Listen != ":8000" || c.CORSOrigins[0] != "http://localhost:3000" || c.PasswordMinLength != 8 || c.SyncConfigured() || c.MinLengthSet {
		t.Errorf("defaults: %+v %v", c, err)
	}
}

func TestAdminPassword(t *testing.T) {
	pw := write(t, "pw", "  0123456789abcdef\n")
	c, err := Load(write(t, "api.yaml", "admin: {login: admin, email: admin@acme.test, password_file: "+pw+"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.AdminPassword(); err != nil || got != "0123456789abcdef" {
		t.Errorf("AdminPassword = %q, %v", got, err)
	}
	c.Admin.PasswordFile = write(t, "short", "abc\n")
	if _, err := c.AdminPassword(); err == nil || !strings.Contains(err.Error(), "admin.password_file") {
		t.Errorf("short password file: %v", err)
	}
	c.Admin = Admin{Login: "admin", Password: "inline-password"}
	if got, _ := c.AdminPassword(); got != "inline-password" {
		t.Errorf("inline password = %q", got)
	}
}
