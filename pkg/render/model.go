package render

import (
	"fmt"
	"sort"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
)

// View-models: the only things the templates see.

type outerView struct {
	HardStopAfter, Socket, HealthURI string
	HealthPort, HTTPPort, HTTPSPort  int
	HTTPBackend, HTTPSBackend        string
	Backends                         []outerBackend
}

type outerBackend struct {
	Name, Balance string
	Servers       []server
}

type server struct {
	Name, Addr string
	Port       int
}

type innerView struct {
	HardStopAfter, Socket, HealthURI string
	HealthPort                       int
	CrtList, HostMap, UnknownBackend string
	Backends                         []server // backend and its one server share the container's name
}

type mapEntry struct{ Host, Backend string }

type crtEntry struct {
	File string
	SNI  []string
}

// tenantCert is where one certificate comes from and goes to.
type tenantCert struct {
	Src    string   // file in the cert folder or the tenant's cert:
	Dst    string   // output path, karana/certs/<domain>.pem
	Names  []string // for a generated certificate
	Custom bool     // from the tenant's cert: key, never generated
	Owner  string   // for messages
}

type model struct {
	outer outerView
	inner innerView
	hosts []mapEntry
	crts  []crtEntry
	certs []tenantCert // default first
}

// buildModel turns inv into view-models, refusing any value that could
// change the meaning of the configuration it lands in.
func buildModel(inv *inventory.Inventory) (*model, error) {
	hsa, err := haproxyDuration(inv.Balancers.HardStopAfter)
	if err != nil {
		return nil, fmt.Errorf("balancers.hard_stop_after: %w", err)
	}
	c := &checker{}
	m := &model{}
	m.outer = outerView{
		HardStopAfter: hsa, Socket: SocketPath, HealthURI: HealthURI, HealthPort: HealthPort,
		HTTPPort: port(c, "balancers.outer.http_port", inv.Balancers.Outer.HTTPPort), HTTPSPort: port(c, "balancers.outer.https_port", inv.Balancers.Outer.HTTPSPort),
		HTTPBackend: OuterHTTPBackend, HTTPSBackend: OuterHTTPSBackend,
	}
	inner := append([]string(nil), inv.Balancers.Inner...)
	sort.Strings(inner)
	for _, b := range []struct {
		name, balance string
		port          int
	}{{OuterHTTPBackend, "roundrobin", 80}, {OuterHTTPSBackend, "leastconn", 443}} {
		be := outerBackend{Name: b.name, Balance: b.balance}
		for _, n := range inner {
			c.name("balancers.inner", n)
			addr := inv.InnerAddr(n)
			if !addr.IsValid() {
				return nil, fmt.Errorf("balancers.inner: no address for balancer %q", n)
			}
			be.Servers = append(be.Servers, server{Name: n, Addr: addr.String(), Port: b.port})
		}
		m.outer.Backends = append(m.outer.Backends, be)
	}
	m.inner = innerView{
		HardStopAfter: hsa, Socket: SocketPath, HealthURI: HealthURI, HealthPort: HealthPort,
		CrtList: CrtList, HostMap: MapFile, UnknownBackend: UnknownBackend,
	}
	addTenants(c, inv, m)
	if c.err != nil {
		return nil, c.err
	}
	return m, nil
}

func port(c *checker, what string, p int) int {
	if p < 1 || p > 65535 {
		c.fail(what, fmt.Sprint(p), "is not a TCP port")
	}
	return p
}

// addTenants fills the routing part of m, sorted by tenant name and host so
// that the output does not depend on the inventory's order.
func addTenants(c *checker, inv *inventory.Inventory, m *model) {
	ts := make([]*inventory.Tenant, len(inv.Tenants))
	for i := range inv.Tenants {
		ts[i] = &inv.Tenants[i]
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })

	svcs := []struct {
		role inventory.Role
		svc  inventory.Service
		key  string
	}{
		{inventory.RoleInfluxDB, inv.Services.InfluxDB, "influxdb"},
		{inventory.RoleGrafana, inv.Services.Grafana, "grafana"},
		{inventory.RoleAPI, inv.Services.API, "api"},
	}
	for _, s := range svcs {
		c.name("services."+s.key+".host", s.svc.Host)
		port(c, "services."+s.key+".port", s.svc.Port)
	}
	m.inner.Backends = make([]server, 0, len(ts)*len(svcs))
	m.hosts = make([]mapEntry, 0, len(ts)*len(svcs))
	m.crts = make([]crtEntry, 0, len(ts)+1)
	m.certs = make([]tenantCert, 0, len(ts)+1)
	m.crts = append(m.crts, crtEntry{File: CertsDir + "/" + DefaultPEM})
	m.certs = append(m.certs, tenantCert{
		Src: certDirPath(inv, DefaultPEM), Dst: CertsDir + "/" + DefaultPEM, Names: []string{defaultCertName},
		Owner: "default certificate",
	})
	for _, t := range ts {
		where := fmt.Sprintf("tenant %q", t.Name)
		c.name(where+": name", t.Name)
		c.domain(where+": domain", t.Domain)
		for _, s := range svcs {
			name := t.ContainerName(s.role)
			m.inner.Backends = append(m.inner.Backends, server{Name: name, Addr: inv.TenantAddr(*t, s.role).String(), Port: s.svc.Port})
			m.hosts = append(m.hosts, mapEntry{Host: s.svc.Host + "." + t.Domain, Backend: name})
		}
		file := t.Domain + ".pem"
		dst := CertsDir + "/" + file
		m.crts = append(m.crts, crtEntry{File: dst, SNI: []string{t.Domain, "*." + t.Domain}})
		tc := tenantCert{Src: certDirPath(inv, file), Dst: dst, Names: []string{t.Domain, "*." + t.Domain}, Owner: where}
		if t.Cert != "" {
			tc.Src, tc.Custom = inv.Resolve(t.Cert), true
		}
		m.certs = append(m.certs, tc)
	}
	sort.Slice(m.inner.Backends, func(i, j int) bool { return m.inner.Backends[i].Name < m.inner.Backends[j].Name })
	// By backend, so a tenant's entries stay together and adding one is a
	// single block in a diff; HAProxy indexes the map, order is free.
	sort.Slice(m.hosts, func(i, j int) bool {
		if m.hosts[i].Backend != m.hosts[j].Backend {
			return m.hosts[i].Backend < m.hosts[j].Backend
		}
		return m.hosts[i].Host < m.hosts[j].Host
	})
	// crt-list: default first, then by domain.
	rest := m.crts[1:]
	sort.Slice(rest, func(i, j int) bool { return rest[i].File < rest[j].File })
}

// haproxyDuration writes a Go duration the way HAProxy reads it: one number
// and one unit ("1h30m" is not HAProxy syntax).
func haproxyDuration(s string) (string, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return "", fmt.Errorf("%q is not a positive duration", s)
	}
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second), nil
	}
	return fmt.Sprintf("%dms", d.Milliseconds()), nil
}
