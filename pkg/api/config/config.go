// Package config reads the management API's configuration: the YAML file
// `karana tenant add` writes to /etc/karana/api.yaml, or the seed's
// config.ini (Listing 1) for the InfluxDB and Grafana credentials.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/karana-project/karana/pkg/api/auth"
	"github.com/karana-project/karana/pkg/api/resource"
)

// DefaultPath is read when --config is not given and the file exists.
const DefaultPath = "/etc/karana/api.yaml"

// Config is the whole configuration; the yaml tags are its keys.
type Config struct {
	Listen            string              `yaml:"listen"`
	MetricsListen     string              `yaml:"metrics_listen"` // Prometheus /metrics; "" serves none
	DataDir           string              `yaml:"data_dir"`
	LogLevel          string              `yaml:"log_level"`
	CORSOrigins       []string            `yaml:"cors_origins"`
	JWT               JWT                 `yaml:"jwt"`
	PasswordMinLength int                 `yaml:"password_min_length"`
	Argon2            auth.Argon2         `yaml:"argon2"`
	Tenant            Tenant              `yaml:"tenant"`
	InfluxDB          Endpoint            `yaml:"influxdb"`
	Grafana           Endpoint            `yaml:"grafana"`
	Git               Git                 `yaml:"git"`
	Sync              Sync                `yaml:"sync"`
	Limits            Limits              `yaml:"limits"`
	Resources         []resource.Resource `yaml:"resources"`
	TrustedProxies    []string            `yaml:"trusted_proxies"` // CIDRs whose X-Forwarded-For is believed
	Admin             Admin               `yaml:"admin"`           // the first admin, created when its login is absent
	LegacyINI         string              `yaml:"legacy_ini"`      // a seed config.ini to read credentials from

	// Source is the file the configuration came from ("" for none).
	Source string `yaml:"-"`
	// MinLengthSet says the file sets password_min_length.
	MinLengthSet bool `yaml:"-"`
}

// JWT configures tokens. Secret or SecretFile; neither means a random
// secret for the life of the process.
type JWT struct {
	Secret     string        `yaml:"secret"`
	SecretFile string        `yaml:"secret_file"`
	Lifetime   time.Duration `yaml:"lifetime"`
}

// Tenant is the seed's Listing 3.
type Tenant struct {
	ID            string `yaml:"id"`
	Customer      string `yaml:"customer"`
	LoginResource string `yaml:"login_resource"`
	LoginField    string `yaml:"login_field"`
}

// Endpoint is an InfluxDB or Grafana instance; an empty URL means not configured.
type Endpoint struct {
	URL      string `yaml:"url"`
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// Admin is the tenant's first admin user. At start the server creates
// it, role admin, when no record of the login resource has its login;
// an existing one is never changed, so a password the admin changed
// through the API stays. Password or PasswordFile; none means no admin.
type Admin struct {
	Login        string `yaml:"login"`
	Email        string `yaml:"email"` // default: the login when it is an address
	Name         string `yaml:"name"`  // default: "Admin"
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// AdminPassword returns the first admin's password, reading password_file
// when given; "" means none is configured.
func (c *Config) AdminPassword() (string, error) {
	if c.Admin.PasswordFile == "" {
		return c.Admin.Password, nil
	}
	b, err := os.ReadFile(c.Admin.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("admin.password_file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) < c.PasswordMinLength {
		return "", fmt.Errorf("admin.password_file: %s: the password needs at least %d characters (password_min_length)", c.Admin.PasswordFile, c.PasswordMinLength)
	}
	return s, nil
}

// Sync configures the periodic full reconcile (POST /v1/sync/all/reconcile
// run by the server itself).
type Sync struct {
	// ReconcileInterval is the time between two full reconciles; 0 turns
	// them off. The first runs one interval after the start.
	ReconcileInterval time.Duration `yaml:"reconcile_interval"`
}

// DefaultReconcileInterval is sync.reconcile_interval's default.
const DefaultReconcileInterval = 30 * time.Minute

// Limits bound what one client can store.
type Limits struct {
	// JSONFieldBytes bounds a JSON-valued field (a karana's configuration),
	// encoded.
	JSONFieldBytes int `yaml:"json_field_bytes"`
	// ClientBytes bounds the total size of the records one client owns
	// (its karanas), encoded.
	ClientBytes int `yaml:"client_bytes"`
}

// Default limits.
const (
	DefaultJSONFieldBytes = 64 << 10
	DefaultClientBytes    = 4 << 20
)

// Git configures the dump's history.
type Git struct {
	Remote   string `yaml:"remote"`
	Disabled bool   `yaml:"disabled"`
}

// Default returns the configuration used without a file.
func Default() *Config {
	return &Config{
		Listen:            ":8000",
		DataDir:           "storage",
		LogLevel:          "info",
		CORSOrigins:       []string{"http://localhost:3000"},
		JWT:               JWT{Lifetime: 24 * time.Hour},
		PasswordMinLength: 8,
		Argon2:            auth.DefaultArgon2,
		Tenant:            Tenant{LoginResource: "users", LoginField: "credentials"},
		Sync:              Sync{ReconcileInterval: DefaultReconcileInterval},
		Limits:            Limits{JSONFieldBytes: DefaultJSONFieldBytes, ClientBytes: DefaultClientBytes},
	}
}

// Load reads path (YAML, or the seed's INI when it ends in .ini), fills in
// defaults and validates. An empty path gives the defaults.
func Load(path string) (*Config, error) {
	c := Default()
	if path == "" {
		return c, c.Validate()
	}
	c.Source = path
	if strings.HasSuffix(path, ".ini") {
		if err := c.readINI(path); err != nil {
			return nil, err
		}
		return c, c.Validate()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	if err := c.parseYAML(data); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if c.LegacyINI != "" {
		ini := c.LegacyINI
		if !filepath.IsAbs(ini) {
			ini = filepath.Join(filepath.Dir(path), ini)
		}
		if err := c.readINI(ini); err != nil {
			return nil, err
		}
	}
	return c, c.Validate()
}

var unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type \S+`)

func (c *Config) parseYAML(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(c)
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		msg := unknownField.ReplaceAllString(err.Error(), `line $1: unknown key "$2"`)
		return errors.New(strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  "))
	}
	var keys map[string]any
	if yaml.Unmarshal(data, &keys) == nil {
		_, c.MinLengthSet = keys["password_min_length"]
	}
	return nil
}

// JWTSecret returns the configured secret, reading secret_file when given;
// "" means none is configured.
func (c *Config) JWTSecret() (string, error) {
	if c.JWT.SecretFile == "" {
		return c.JWT.Secret, nil
	}
	b, err := os.ReadFile(c.JWT.SecretFile)
	if err != nil {
		return "", fmt.Errorf("jwt.secret_file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) < 32 {
		return "", fmt.Errorf("jwt.secret_file: %s: the secret needs at least 32 characters", c.JWT.SecretFile)
	}
	return s, nil
}

// SyncConfigured reports whether both InfluxDB and Grafana are configured.
func (c *Config) SyncConfigured() bool { return c.InfluxDB.URL != "" && c.Grafana.URL != "" }
