package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/karana-project/karana/pkg/api/resource"
)

// Validate checks every value; the error names the key at fault.
func (c *Config) Validate() error {
	for _, check := range []func() error{c.checkBasics, c.checkJWT, c.checkEndpoints, c.checkProxies, c.checkAdmin} {
		if err := check(); err != nil {
			if c.Source != "" {
				return fmt.Errorf("config %s: %w", c.Source, err)
			}
			return err
		}
	}
	return nil
}

func (c *Config) checkBasics() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen: %q is not host:port (e.g. \":8000\")", c.Listen)
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return fmt.Errorf("metrics_listen: %q is not host:port (e.g. \"10.0.12.18:9100\")", c.MetricsListen)
		}
		if c.MetricsListen == c.Listen {
			return fmt.Errorf("metrics_listen: %q is the API's own listen address; metrics need an address of their own", c.MetricsListen)
		}
	}
	if c.DataDir == "" {
		return fmt.Errorf("data_dir: must not be empty")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	for i, o := range c.CORSOrigins {
		u, err := url.Parse(o)
		if o != "*" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "") {
			return fmt.Errorf("cors_origins[%d]: %q is not an origin like http://localhost:3000", i, o)
		}
	}
	if c.PasswordMinLength < 1 || c.PasswordMinLength > 128 {
		return fmt.Errorf("password_min_length: %d is not between 1 and 128", c.PasswordMinLength)
	}
	if c.Tenant.LoginResource == "" || c.Tenant.LoginField == "" {
		return fmt.Errorf("tenant: login_resource and login_field must not be empty")
	}
	if c.Sync.ReconcileInterval < 0 || c.Sync.ReconcileInterval > 0 && c.Sync.ReconcileInterval < time.Second {
		return fmt.Errorf("sync.reconcile_interval: %s is not 0 (off) or at least 1s", c.Sync.ReconcileInterval)
	}
	if c.Limits.JSONFieldBytes < 2 || c.Limits.JSONFieldBytes > 16<<20 {
		return fmt.Errorf("limits.json_field_bytes: %d is not between 2 and 16777216", c.Limits.JSONFieldBytes)
	}
	if c.Limits.ClientBytes < c.Limits.JSONFieldBytes || c.Limits.ClientBytes > 1<<30 {
		return fmt.Errorf("limits.client_bytes: %d is not between limits.json_field_bytes (%d) and 1073741824", c.Limits.ClientBytes, c.Limits.JSONFieldBytes)
	}
	return nil
}

func (c *Config) checkJWT() error {
	if c.JWT.Lifetime <= 0 {
		return fmt.Errorf("jwt.lifetime: must be a positive duration such as 24h")
	}
	if c.JWT.Secret != "" && c.JWT.SecretFile != "" {
		return fmt.Errorf("jwt: give secret or secret_file, not both")
	}
	if c.JWT.Secret != "" && len(c.JWT.Secret) < 32 {
		return fmt.Errorf("jwt.secret: needs at least 32 characters")
	}
	return nil
}

func (c *Config) checkEndpoints() error {
	for _, e := range []struct {
		key string
		ep  Endpoint
	}{{"influxdb", c.InfluxDB}, {"grafana", c.Grafana}} {
		if e.ep.URL == "" {
			continue
		}
		u, err := url.Parse(e.ep.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s.url: %q is not an http(s) URL", e.key, e.ep.URL)
		}
		if e.ep.User == "" {
			return fmt.Errorf("%s.user: needed with %s.url", e.key, e.key)
		}
	}
	return nil
}

func (c *Config) checkAdmin() error {
	a := c.Admin
	if a == (Admin{}) {
		return nil
	}
	if a.Login == "" {
		return fmt.Errorf("admin.login: needed with the other admin keys")
	}
	if a.Password != "" && a.PasswordFile != "" {
		return fmt.Errorf("admin: give password or password_file, not both")
	}
	if a.Password == "" && a.PasswordFile == "" {
		return fmt.Errorf("admin: password or password_file is needed with admin.login")
	}
	if a.Password != "" && len(a.Password) < c.PasswordMinLength {
		return fmt.Errorf("admin.password: needs at least %d characters (password_min_length)", c.PasswordMinLength)
	}
	if a.Email == "" && !strings.Contains(a.Login, "@") {
		return fmt.Errorf("admin.email: needed when admin.login (%q) is not an email address", a.Login)
	}
	return nil
}

func (c *Config) checkProxies() error {
	for i, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil {
			return fmt.Errorf("trusted_proxies[%d]: %q is not a CIDR such as 10.0.12.0/24", i, p)
		}
	}
	return nil
}

// BuildResources returns the built-in resources plus the declared ones,
// initialised, and checks the tenant's login resource and field.
func (c *Config) BuildResources() ([]*resource.Resource, error) {
	users, karanas := resource.Users(), resource.Karanas()
	defs := []*resource.Resource{&users, &karanas}
	for i := range c.Resources {
		r := c.Resources[i]
		if r.Name == "users" || r.Name == "karanas" {
			return nil, c.wrap(fmt.Errorf("resources[%d].name: %q is built in", i, r.Name))
		}
		defs = append(defs, &r)
	}
	seen := map[string]bool{}
	for i, r := range defs {
		if err := r.Init(c.PasswordMinLength); err != nil {
			return nil, c.wrap(fmt.Errorf("resources[%d]: %w", i-2, err))
		}
		r.LimitJSON(c.Limits.JSONFieldBytes)
		if seen[r.Name] {
			return nil, c.wrap(fmt.Errorf("resources[%d].name: %q declared twice", i-2, r.Name))
		}
		seen[r.Name] = true
	}
	for _, r := range defs {
		if r.Name == c.Tenant.LoginResource {
			if r.Login != c.Tenant.LoginField {
				return nil, c.wrap(fmt.Errorf("tenant.login_field: resource %s logs in with %q, not %q", r.Name, r.Login, c.Tenant.LoginField))
			}
			return defs, nil
		}
	}
	return nil, c.wrap(fmt.Errorf("tenant.login_resource: %q is not a resource (%s)", c.Tenant.LoginResource, names(defs)))
}

// Wrap prefixes err with the configuration's file, when it came from one.
func (c *Config) Wrap(err error) error { return c.wrap(err) }

func (c *Config) wrap(err error) error {
	if c.Source != "" {
		return fmt.Errorf("config %s: %w", c.Source, err)
	}
	return err
}

func names(defs []*resource.Resource) string {
	var n []string
	for _, d := range defs {
		n = append(n, d.Name)
	}
	return strings.Join(n, ", ")
}
