package inventory

import (
	"net/mail"
	"net/url"
	"slices"
	"time"
)

// ACME makes karana obtain and renew the tenants' certificates from an
// ACME CA (docs/tls.md). Absent, certificates come from tls.cert_dir or are
// generated self-signed.
type ACME struct {
	// Directory is the CA's directory URL (https).
	Directory string `yaml:"directory"`
	// Email is the account's contact.
	Email string `yaml:"email"`
	// CAFile is a PEM bundle trusted for the ACME server's own HTTPS, for
	// test CAs such as pebble; empty: the system's roots.
	CAFile string `yaml:"ca_file,omitempty"`
	// Tenants limits ACME to these tenant names; empty: every tenant.
	Tenants []string `yaml:"tenants,omitempty"`
	// RenewBefore is how long before expiry a certificate is renewed (a Go
	// duration; default 720h, 30 days).
	RenewBefore string `yaml:"renew_before,omitempty"`
}

// DefaultRenewBefore is tls.acme.renew_before's default: 30 days.
const DefaultRenewBefore = 30 * 24 * time.Hour

// Covers reports whether tenant name gets its certificate from ACME.
func (a *ACME) Covers(name string) bool {
	return a != nil && (len(a.Tenants) == 0 || slices.Contains(a.Tenants, name))
}

// RenewWindow is renew_before as a duration (validated on load).
func (a *ACME) RenewWindow() time.Duration {
	if a == nil || a.RenewBefore == "" {
		return DefaultRenewBefore
	}
	d, err := time.ParseDuration(a.RenewBefore)
	if err != nil || d <= 0 {
		return DefaultRenewBefore
	}
	return d
}

// Hostnames are the names a tenant's certificate covers: its services'.
func (inv *Inventory) Hostnames(t Tenant) []string {
	s := inv.Services
	return []string{s.API.Host + "." + t.Domain, s.Grafana.Host + "." + t.Domain, s.InfluxDB.Host + "." + t.Domain}
}

func (v *validator) validateACME(inv *Inventory) {
	a := inv.TLS.ACME
	if a == nil {
		return
	}
	if u, err := url.Parse(a.Directory); a.Directory == "" || err != nil || u.Scheme != "https" || u.Host == "" {
		v.at("tls.acme.directory", "%q: want the CA's https directory URL (e.g. https://acme-v02.api.letsencrypt.org/directory)", a.Directory)
	}
	if _, err := mail.ParseAddress(a.Email); err != nil || a.Email == "" {
		v.at("tls.acme.email", "%q: want the account's e-mail address", a.Email)
	}
	if a.CAFile != "" && !printable(a.CAFile) {
		v.at("tls.acme.ca_file", "contains control characters")
	}
	// Names, not existing tenants: a tenant is listed here before `tenant
	// add` records it, so that it gets its certificate when added.
	for _, n := range a.Tenants {
		if err := ValidTenantName(n); err != nil {
			v.at("tls.acme.tenants", "%v", err)
		}
	}
	if a.RenewBefore != "" {
		if d, err := time.ParseDuration(a.RenewBefore); err != nil || d <= 0 {
			v.at("tls.acme.renew_before", "%q: want a positive Go duration such as 720h", a.RenewBefore)
		}
	}
}
