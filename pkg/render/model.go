package render

import (
	"fmt"
	"sort"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/traffic"
)

// View-models: the only things the templates see. They hold ints and
// words, never plain strings: a word is made only by the checker (or from
// words), so no unchecked value can reach a template. TestViewModelsHold
// OnlyWords keeps it that way.

// word is a string checked to be a single HAProxy word (see unsafeWord).
type word string

type outerView struct {
	HardStopAfter, Socket, HealthURI word
	HealthPort, HTTPPort, HTTPSPort  int
	MetricsPort                      int
	HTTPBackend, HTTPSBackend        word
	Backends                         []outerBackend
}

type outerBackend struct {
	Name, Balance word
	Servers       []server
}

type server struct {
	Name, Addr word
	Port       int
}

type innerView struct {
	HardStopAfter, Socket, HealthURI word
	HealthPort, MetricsPort          int
	Ring                             word
	RingSize                         int
	CrtList, HostMap, UnknownBackend word
	TenantsBackend, ACMEMap          word
	Servers                          []server // one per tenant service, named as its container
}

type mapEntry struct{ Host, Backend word }

type crtEntry struct {
	File word
	SNI  []word
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
		HardStopAfter: c.word("balancers.hard_stop_after", hsa), Socket: c.word("socket", SocketPath),
		HealthURI: c.word("health URI", HealthURI), HealthPort: HealthPort, MetricsPort: inventory.BalancerMetricsPort,
		HTTPPort:    port(c, "balancers.outer.http_port", inv.Balancers.Outer.HTTPPort),
		HTTPSPort:   port(c, "balancers.outer.https_port", inv.Balancers.Outer.HTTPSPort),
		HTTPBackend: c.word("backend", OuterHTTPBackend), HTTPSBackend: c.word("backend", OuterHTTPSBackend),
	}
	inner := append([]string(nil), inv.Balancers.Inner...)
	sort.Strings(inner)
	for _, b := range []struct {
		name, balance string
		port          int
	}{{OuterHTTPBackend, "roundrobin", 80}, {OuterHTTPSBackend, "leastconn", 443}} {
		be := outerBackend{Name: c.word("backend", b.name), Balance: c.word("balance", b.balance)}
		for _, n := range inner {
			addr := inv.InnerAddr(n)
			if !addr.IsValid() {
				return nil, fmt.Errorf("balancers.inner: no address for balancer %q", n)
			}
			be.Servers = append(be.Servers, server{Name: c.name("balancers.inner", n), Addr: word(addr.String()), Port: b.port})
		}
		m.outer.Backends = append(m.outer.Backends, be)
	}
	m.inner = innerView{
		HardStopAfter: m.outer.HardStopAfter, Socket: m.outer.Socket, HealthURI: m.outer.HealthURI, HealthPort: HealthPort,
		MetricsPort: inventory.BalancerMetricsPort, Ring: c.word("ring", traffic.Ring), RingSize: traffic.RingSize,
		CrtList: c.word("crt-list", CrtList), HostMap: c.word("map", MapFile), ACMEMap: c.word("map", ACMEMap), UnknownBackend: c.word("backend", UnknownBackend),
		TenantsBackend: c.word("backend", TenantsBackend),
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

	type svc struct {
		role       inventory.Role
		host, port word
		portNum    int
	}
	var svcs []svc
	for _, s := range []struct {
		role inventory.Role
		svc  inventory.Service
		key  string
	}{
		{inventory.RoleAPI, inv.Services.API, "api"}, // sorted by role, as container names sort
		{inventory.RoleGrafana, inv.Services.Grafana, "grafana"},
		{inventory.RoleInfluxDB, inv.Services.InfluxDB, "influxdb"},
	} {
		svcs = append(svcs, svc{role: s.role, host: c.name("services."+s.key+".host", s.svc.Host),
			portNum: port(c, "services."+s.key+".port", s.svc.Port)})
	}
	m.inner.Servers = make([]server, 0, len(ts)*len(svcs))
	m.hosts = make([]mapEntry, 0, len(ts)*len(svcs))
	m.crts = make([]crtEntry, 1, len(ts)+1)
	m.certs = make([]tenantCert, 1, len(ts)+1)
	m.crts[0] = crtEntry{File: word(CertsDir + "/" + DefaultPEM)}
	m.certs[0] = tenantCert{Src: certDirPath(inv, DefaultPEM), Dst: CertsDir + "/" + DefaultPEM,
		Names: []string{defaultCertName}, Owner: "default certificate"}
	for _, t := range ts {
		where := fmt.Sprintf("tenant %q", t.Name)
		name := c.name(where+": name", t.Name)
		domain := c.domain(where+": domain", t.Domain)
		for _, s := range svcs {
			backend := name + "-" + word(s.role)
			m.inner.Servers = append(m.inner.Servers, server{Name: backend, Addr: word(inv.TenantAddr(*t, s.role).String()), Port: s.portNum})
			m.hosts = append(m.hosts, mapEntry{Host: s.host + "." + domain, Backend: backend})
		}
		dst := CertsDir + "/" + t.Domain + ".pem"
		m.crts = append(m.crts, crtEntry{File: word(dst), SNI: []word{domain, "*." + domain}})
		tc := tenantCert{Src: certDirPath(inv, t.Domain+".pem"), Dst: dst, Names: []string{t.Domain, "*." + t.Domain}, Owner: where}
		if t.Cert != "" {
			tc.Src, tc.Custom = inv.Resolve(t.Cert), true
		}
		m.certs = append(m.certs, tc)
	}
	// Tenants are sorted by name, but "a-b-api" sorts before "a-grafana":
	// sort the servers themselves. The host map follows the servers, so
	// a tenant's entries stay one block in a diff (HAProxy indexes the
	// map; its order is free).
	sort.Slice(m.inner.Servers, func(i, j int) bool { return m.inner.Servers[i].Name < m.inner.Servers[j].Name })
	sort.Slice(m.hosts, func(i, j int) bool { return m.hosts[i].Backend < m.hosts[j].Backend })
	rest := m.crts[1:] // the default stays first
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
