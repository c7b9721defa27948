// Package secrets keeps the credentials karana generates for each tenant:
// one YAML file per tenant, 0600, in the inventory's secrets folder (0700),
// written atomically. Generated once, then reused, so that a rerun of
// `tenant add` converges to the same passwords.
package secrets

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/karana-project/karana/pkg/fsutil"
	"gopkg.in/yaml.v3"
)

// Credential is one user and password.
type Credential struct {
	User     string `yaml:"user" json:"user"`
	Password string `yaml:"password" json:"password"`
}

// Tenant is everything secret about one tenant. Files written before the
// API admin existed have no api key; Ensure adds it.
type Tenant struct {
	InfluxDB  Credential `yaml:"influxdb" json:"influxdb"`
	Grafana   Credential `yaml:"grafana" json:"grafana"`
	JWTSecret string     `yaml:"jwt_secret" json:"jwt_secret"`
	// API is the first admin of the tenant's management API; User is the
	// login its login endpoint takes.
	API Credential `yaml:"api" json:"api"`
}

// APIAdminLogin is the login of a tenant's first API admin: an address
// in its domain. Not "admin": the sync refuses to manage an API user whose
// login is Grafana's admin's.
func APIAdminLogin(domain string) string { return "admin@" + domain }

// Store is the folder holding the tenants' secret files.
type Store struct{ Dir string }

// Path is the file of tenant name.
func (s Store) Path(name string) string { return filepath.Join(s.Dir, name+".yaml") }

// Load reads tenant name's secrets; the error wraps fs.ErrNotExist when
// none were generated yet.
func (s Store) Load(name string) (*Tenant, error) {
	data, err := os.ReadFile(s.Path(name))
	if err != nil {
		return nil, fmt.Errorf("reading secrets of tenant %q: %w", name, err)
	}
	var t Tenant
	if err := yaml.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Path(name), err)
	}
	if t.InfluxDB.Password == "" || t.Grafana.Password == "" || t.JWTSecret == "" {
		return nil, fmt.Errorf("%s: incomplete secrets (influxdb, grafana and jwt_secret are needed); delete the file to generate new ones", s.Path(name))
	}
	return &t, nil
}

// Ensure returns tenant name's secrets, generating and storing them when
// missing, and adding what an older file lacks (the API admin, with login
// apiLogin). created tells whether anything was generated now; what exists
// is never changed.
func (s Store) Ensure(name, apiLogin string) (t *Tenant, created bool, err error) {
	t, err = s.Load(name)
	switch {
	case err == nil && t.API.Password != "":
		return t, false, nil
	case err == nil:
		t.API = Credential{User: apiLogin, Password: Random(24)}
	case errors.Is(err, fs.ErrNotExist):
		t = &Tenant{
			InfluxDB:  Credential{User: "admin", Password: Random(24)},
			Grafana:   Credential{User: "admin", Password: Random(24)},
			JWTSecret: Random(48),
			API:       Credential{User: apiLogin, Password: Random(24)},
		}
	default:
		return nil, false, err
	}
	if err := s.save(name, t); err != nil {
		return nil, false, err
	}
	return t, true, nil
}

func (s Store) save(name string, t *Tenant) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("creating secrets folder: %w", err)
	}
	// MkdirAll keeps the mode of a folder that already exists.
	if err := os.Chmod(s.Dir, 0o700); err != nil {
		return fmt.Errorf("securing secrets folder: %w", err)
	}
	data, err := yaml.Marshal(t)
	if err != nil {
		return err
	}
	return fsutil.WriteFile(s.Path(name), data, 0o600)
}

// Remove deletes tenant name's secrets; a missing file is not an error.
func (s Store) Remove(name string) error {
	if err := os.Remove(s.Path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing secrets of tenant %q: %w", name, err)
	}
	return nil
}

const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// Random returns n characters from an unambiguous alphanumeric alphabet,
// safe in YAML, INI, URLs and InfluxQL strings without quoting.
func Random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	for i := range b {
		// 256 % 57 bias is negligible for passwords of this length.
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

const base32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// TenantID returns a new tenant id shaped like the seed's (SMNTYQIUB4YTC):
// 13 uppercase base32 characters.
func TenantID() string {
	b := make([]byte, 13)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = base32Upper[b[i]&31]
	}
	return string(b)
}
