// Package render turns an inventory into the files of karana's HAProxy
// balancers: lb0's static TCP configuration and the inner balancers'
// routing configuration with its host map, crt-list and certificates.
//
// Everything is rendered to memory first (Render), checked with
// `haproxy -c` (Validate), and only then written (Write) or compared with
// what is on disk (Diff).
package render

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/karana-project/karana/pkg/inventory"
)

// Paths inside the balancer containers. The reload and drain code uses
// these; the rendered tree mirrors ConfigDir.
const (
	ConfigDir  = "/etc/haproxy"
	ConfigPath = ConfigDir + "/haproxy.cfg" // haproxy -f, in every balancer
	DataDir    = "karana"                   // inner data, relative to ConfigDir
	SocketPath = "/run/haproxy/admin.sock"  // runtime API, level admin
	HealthPort = 8404                       // inner balancers' health frontend
	HealthURI  = "/karana-health"           // answered 200 by a healthy inner
	MapFile    = DataDir + "/hosts.map"     // Host -> backend
	ACMEMap    = DataDir + "/acme.map"      // HTTP-01 token -> key authorization, filled at run time
	CrtList    = DataDir + "/crt-list.txt"  // certificates, default first
	CertsDir   = DataDir + "/certs"         // one <domain>.pem per tenant
	DefaultPEM = "default.pem"              // served for unknown SNI
)

// Backend names of lb0: one per port, whose servers are the inner balancers
// named as their containers (`set server be_https/lb1 state drain`).
const (
	OuterHTTPBackend  = "be_http"
	OuterHTTPSBackend = "be_https"
	// UnknownBackend answers 404 on the inner balancers for unknown hosts.
	UnknownBackend = "be_unknown"
	// TenantsBackend holds every tenant service as one server named
	// <tenant>-<role>, chosen by the host map: servers are what HAProxy
	// 2.6's runtime API can add and delete, backends are not.
	TenantsBackend = "be_tenants"
)

// Files of the render folder (Output.Files keys).
const (
	OuterFile = "outer.cfg"
	InnerFile = "inner.cfg"
)

// Options tune Render.
type Options struct {
	// GenerateCerts creates missing certificates in the inventory's cert
	// folder. Without it a missing certificate is listed in Output.Missing.
	GenerateCerts bool
}

// Output is a rendered tree, in memory.
type Output struct {
	// Files maps a render-folder-relative path (slash-separated) to its
	// bytes: outer.cfg, inner.cfg and karana/... for the inner balancers.
	Files map[string][]byte
	// Generated lists the certificates Render created in the cert folder.
	Generated []string
	// Missing lists the certificates that do not exist and were not
	// generated (Options.GenerateCerts false). Such an Output is incomplete.
	Missing []string
}

// Outer returns lb0's files by their path in the container.
func (o *Output) Outer() map[string][]byte {
	return map[string][]byte{ConfigPath: o.Files[OuterFile]}
}

// Inner returns the files of every inner balancer by their path in the
// container.
func (o *Output) Inner() map[string][]byte {
	m := map[string][]byte{ConfigPath: o.Files[InnerFile]}
	for name, b := range o.Files {
		if strings.HasPrefix(name, DataDir+"/") {
			m[path.Join(ConfigDir, name)] = b
		}
	}
	return m
}

// FileMode is the permission a rendered file is written and pushed with:
// certificates hold private keys.
func FileMode(name string) os.FileMode {
	if strings.HasSuffix(name, ".pem") {
		return 0o600
	}
	return 0o644
}

// DefaultDir is where rendered files go unless told: rendered/ beside the
// inventory.
func DefaultDir(inv *inventory.Inventory) string {
	return filepath.Join(inv.Dir(), "rendered")
}

// Render builds every file from inv. It never writes the render folder; it
// writes the cert folder only when opts.GenerateCerts creates certificates.
func Render(inv *inventory.Inventory, opts Options) (*Output, error) {
	m, err := buildModel(inv)
	if err != nil {
		return nil, err
	}
	out := &Output{Files: make(map[string][]byte, len(inv.Tenants)+8)}
	if err := loadCerts(inv, m, opts, out); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		file, tmpl string
		data       any
	}{
		{OuterFile, "outer.cfg.tmpl", m.outer},
		{InnerFile, "inner.cfg.tmpl", m.inner},
		{MapFile, "hosts.map.tmpl", m.hosts},
		{ACMEMap, "acme.map.tmpl", nil},
		{CrtList, "crt-list.txt.tmpl", m.crts},
	} {
		b, err := execute(t.tmpl, t.data)
		if err != nil {
			return nil, fmt.Errorf("rendering %s: %w", t.file, err)
		}
		out.Files[t.file] = b
	}
	return out, nil
}
