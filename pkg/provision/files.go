// Package provision knows what each tenant role needs inside its container
// (configuration files, systemd units, packages on a plain image) and
// brings a running container there through the LXD exec and file API.
// The files are built here, deterministically, so they can be checked by
// tests and compared byte for byte with what a container holds.
package provision

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/secrets"
)

// Paths inside the tenant containers.
const (
	InfluxConfPath  = "/etc/influxdb/influxdb.conf"
	GrafanaIniPath  = "/etc/grafana/grafana.ini"
	APIBinaryPath   = "/usr/local/bin/karana"
	APIConfigPath   = "/etc/karana/api.yaml"
	APIUnitPath     = "/etc/systemd/system/karana-api.service"
	APIDataDir      = "/var/lib/karana-api"
	InfluxUnit      = "influxdb.service"
	GrafanaUnit     = "grafana-server.service"
	APIUnit         = "karana-api.service"
	largeFileDigest = 1 << 20 // files above this are compared by sha256 in the container
)

// File is one file a role needs.
type File struct {
	Path  string
	Data  []byte
	Mode  os.FileMode
	Group string // chgrp after pushing, when the group exists ("" = root)
}

// Role is what one tenant container must hold and run.
type Role struct {
	Role     inventory.Role
	Files    []File
	Unit     string   // enabled, running; restarted when a file changed
	Reload   bool     // reload instead of restart when a file changed
	Prune    string   // files under this folder that Files does not list are removed
	Packages []string // installed with apt-get when the image is a plain one
	Probe    Probe    // answers once the service is up
	// State is a file the service creates when it first runs: an image
	// that holds it is not configured before its first boot (Preload).
	State string
}

// Probe is the HTTP request that tells a role's service is healthy.
type Probe struct {
	Port   int
	Path   string
	Status int
}

// Tenant is what the role builders need to know about one tenant.
type Tenant struct {
	Inv     *inventory.Inventory
	T       inventory.Tenant
	Secrets *secrets.Tenant
	Binary  []byte // the karana binary for the API container
	NoGit   bool   // the API container has no git: history disabled
}

func (t Tenant) url(r inventory.Role, port int) string {
	return fmt.Sprintf("http://%s:%d", t.Inv.TenantAddr(t.T, r), port)
}

// Influx is the InfluxDB container: HTTP with authentication on the
// service port. The admin user is bootstrapped over HTTP (BootstrapInflux).
func Influx(t Tenant) Role {
	port := t.Inv.Services.InfluxDB.Port
	conf := fmt.Sprintf(`# Written by karana for tenant %s; changes are overwritten.
reporting-disabled = true
bind-address = "127.0.0.1:8088"

[meta]
  dir = "/var/lib/influxdb/meta"

[data]
  dir = "/var/lib/influxdb/data"
  wal-dir = "/var/lib/influxdb/wal"

[http]
  enabled = true
  bind-address = ":%d"
  auth-enabled = true
  log-enabled = false
`, t.T.Name, port)
	return Role{
		Role:     inventory.RoleInfluxDB,
		Files:    []File{{Path: InfluxConfPath, Data: []byte(conf), Mode: 0o644}},
		Unit:     InfluxUnit,
		Packages: []string{"influxdb"},
		Probe:    Probe{Port: port, Path: "/ping", Status: 204},
		State:    "/var/lib/influxdb/meta/meta.db",
	}
}

// Grafana is the Grafana container: admin password and the tenant's
// canonical URL. admin_password only counts on Grafana's first start.
func Grafana(t Tenant) Role {
	s := t.Inv.Services.Grafana
	host := s.Host + "." + t.T.Domain
	ini := fmt.Sprintf(GrafanaHeader+` for tenant %s; changes are overwritten.
[server]
http_port = %d
domain = %s
root_url = https://%s/

[security]
admin_user = %s
admin_password = %s

[analytics]
reporting_enabled = false
check_for_updates = false
`, t.T.Name, s.Port, host, host, t.Secrets.Grafana.User, t.Secrets.Grafana.Password)
	return Role{
		Role:     inventory.RoleGrafana,
		Files:    []File{{Path: GrafanaIniPath, Data: []byte(ini), Mode: 0o640, Group: "grafana"}},
		Unit:     GrafanaUnit,
		Packages: []string{"grafana"},
		Probe:    Probe{Port: s.Port, Path: "/api/health", Status: 200},
		State:    GrafanaDB,
	}
}

// GrafanaDB is the database Grafana creates on its first start.
const GrafanaDB = "/var/lib/grafana/grafana.db"

// GrafanaHeader starts every grafana.ini karana writes.
const GrafanaHeader = "; Written by karana"

// APIConfig is /etc/karana/api.yaml, with exactly the keys `karana api
// serve` reads.
type APIConfig struct {
	Listen            string     `yaml:"listen"`
	MetricsListen     string     `yaml:"metrics_listen"`
	DataDir           string     `yaml:"data_dir"`
	LogLevel          string     `yaml:"log_level"`
	CORSOrigins       []string   `yaml:"cors_origins"`
	JWT               APIJWT     `yaml:"jwt"`
	PasswordMinLength int        `yaml:"password_min_length"`
	Tenant            APITenant  `yaml:"tenant"`
	InfluxDB          APIService `yaml:"influxdb"`
	Grafana           APIService `yaml:"grafana"`
	Git               APIGit     `yaml:"git"`
	Admin             *APIAdmin  `yaml:"admin,omitempty"`
}

// APIAdmin is the tenant's first API admin, created by the API when absent.
type APIAdmin struct {
	Login    string `yaml:"login"`
	Email    string `yaml:"email"`
	Password string `yaml:"password"`
}

// APIGit is where the API pushes its data repository ("" = nowhere).
type APIGit struct {
	Remote string `yaml:"remote"`
	// Disabled turns the data history off: set when the API container has
	// no git (the API refuses to start without it otherwise).
	Disabled bool `yaml:"disabled,omitempty"`
}

// APIJWT signs the API's tokens.
type APIJWT struct {
	Secret   string `yaml:"secret"`
	Lifetime string `yaml:"lifetime"`
}

// APITenant is the seed's api_metadata.
type APITenant struct {
	ID            string `yaml:"id"`
	Customer      string `yaml:"customer"`
	LoginResource string `yaml:"login_resource"`
	LoginField    string `yaml:"login_field"`
}

// APIService is a back-end service the API syncs with.
type APIService struct {
	URL      string `yaml:"url"`
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// API is the management API container: the running karana binary, its
// configuration and its unit.
func API(t Tenant) Role {
	s := t.Secrets
	cfg := APIConfig{
		Listen: fmt.Sprintf(":%d", t.Inv.Services.API.Port),
		// its own port: lb1/lb2 route api.<domain> to Listen only
		MetricsListen:     fmt.Sprintf(":%d", inventory.APIMetricsPort),
		DataDir:           APIDataDir,
		LogLevel:          "info",
		CORSOrigins:       []string{"http://localhost:3000"},
		JWT:               APIJWT{Secret: s.JWTSecret, Lifetime: "24h"},
		PasswordMinLength: 8,
		Tenant:            APITenant{ID: t.T.ID, Customer: t.T.Customer, LoginResource: "users", LoginField: "credentials"},
		InfluxDB:          APIService{URL: t.url(inventory.RoleInfluxDB, t.Inv.Services.InfluxDB.Port), User: s.InfluxDB.User, Password: s.InfluxDB.Password},
		Grafana:           APIService{URL: t.url(inventory.RoleGrafana, t.Inv.Services.Grafana.Port), User: s.Grafana.User, Password: s.Grafana.Password},
		Git:               APIGit{Disabled: t.NoGit},
	}
	if s.API.Password != "" {
		cfg.Admin = &APIAdmin{Login: s.API.User, Email: AdminEmail(t.T, s.API.User), Password: s.API.Password}
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		panic(err) // plain strings always marshal
	}
	data = append([]byte("# Written by karana for tenant "+t.T.Name+"; changes are overwritten.\n"), data...)
	return Role{
		Role: inventory.RoleAPI,
		Files: []File{
			{Path: APIBinaryPath, Data: t.Binary, Mode: 0o755},
			{Path: APIConfigPath, Data: data, Mode: 0o600},
			{Path: APIUnitPath, Data: []byte(apiUnit(t.T.Name)), Mode: 0o644},
		},
		Unit:  APIUnit,
		Probe: Probe{Port: t.Inv.Services.API.Port, Path: "/healthz", Status: 200},
	}
}

// AdminEmail is the email address of tenant t's first API admin: its
// login when that is an address, else admin@<domain>.
func AdminEmail(t inventory.Tenant, login string) string {
	if strings.Contains(login, "@") {
		return login
	}
	return "admin@" + t.Domain
}

func apiUnit(tenant string) string {
	return strings.ReplaceAll(`[Unit]
Description=karana management API of tenant TENANT
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=/usr/local/bin/karana api serve --config /etc/karana/api.yaml
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
`, "TENANT", tenant)
}

// ForRole returns the builder of role r.
func ForRole(t Tenant, r inventory.Role) Role {
	switch r {
	case inventory.RoleInfluxDB:
		return Influx(t)
	case inventory.RoleGrafana:
		return Grafana(t)
	default:
		return API(t)
	}
}
