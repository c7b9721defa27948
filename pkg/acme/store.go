// Package acme obtains and renews the tenants' certificates from an ACME
// CA with lego (HTTP-01, answered by the inner balancers themselves from a
// map filled through their runtime API), loads them into the running inner
// balancers without a reload, and keeps them in the key store (tls.cert_dir).
// docs/tls.md tells the whole story.
package acme

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/render"
)

// CertFile is tenant t's certificate (chain and key) in the key store,
// as the balancers load it: <tls.cert_dir>/<domain>.pem, or its cert:.
func CertFile(inv *inventory.Inventory, t inventory.Tenant) string {
	if t.Cert != "" {
		return inv.Resolve(t.Cert)
	}
	return filepath.Join(render.CertDir(inv), t.Domain+".pem")
}

// BalancerPath is the certificate's name in the inner balancers'
// configuration (relative to /etc/haproxy), as the crt-list has it.
func BalancerPath(t inventory.Tenant) string { return render.CertsDir + "/" + t.Domain + ".pem" }

// accountDir holds the ACME account: its key and its registration.
func accountDir(inv *inventory.Inventory) string { return filepath.Join(render.CertDir(inv), "acme") }

// Cert is one tenant certificate as `karana certs status` lists it.
type Cert struct {
	Tenant   string    `json:"tenant"`
	File     string    `json:"file"`
	Names    []string  `json:"names"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
	ACME     bool      `json:"acme"` // tls.acme manages it
	Due      bool      `json:"due"`  // `certs renew` would renew it
	Reason   string    `json:"reason,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// Status lists every tenant's certificate, due or not at now.
func Status(inv *inventory.Inventory, now time.Time) []Cert {
	var out []Cert
	for _, t := range inv.Tenants {
		out = append(out, status(inv, t, now))
	}
	return out
}

func status(inv *inventory.Inventory, t inventory.Tenant, now time.Time) Cert {
	c := Cert{Tenant: t.Name, File: CertFile(inv, t), ACME: inv.TLS.ACME.Covers(t.Name) && t.Cert == ""}
	leaf, err := readLeaf(c.File)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.Error, c.Reason = "missing", "no certificate yet"
	case err != nil:
		c.Error, c.Reason = err.Error(), "unreadable"
	default:
		c.Names, c.Issuer, c.NotAfter = leaf.DNSNames, leaf.Issuer.String(), leaf.NotAfter
	}
	if !c.ACME {
		return c
	}
	switch {
	case c.Reason != "":
	case bytes.Equal(leaf.RawIssuer, leaf.RawSubject):
		c.Reason = "self-signed"
	case !covers(leaf, inv.Hostnames(t)):
		c.Reason = "does not cover " + strings.Join(inv.Hostnames(t), ", ")
	case leaf.NotAfter.Sub(now) < inv.TLS.ACME.RenewWindow():
		c.Reason = fmt.Sprintf("expires within %s", inv.TLS.ACME.RenewWindow())
	}
	c.Due = c.Reason != ""
	return c
}

func covers(leaf *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// readLeaf returns the first certificate of a PEM file.
func readLeaf(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, fmt.Errorf("%s holds no certificate", path)
		}
		if blk.Type == "CERTIFICATE" {
			return x509.ParseCertificate(blk.Bytes)
		}
	}
}
