package balancer

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/karana-project/karana/pkg/render"
)

// Routes is the tenant part of an inner balancer's files, the part the
// runtime API can change without a reload: the servers of the tenants'
// backend, the host map, the crt-list and the certificates. Skeleton is
// the rest of haproxy.cfg; when it differs, only a reload applies it.
type Routes struct {
	Skeleton []byte
	Servers  map[string]string // server name -> "addr:port params..."
	Hosts    map[string]string // host -> server name
	CrtList  map[string]string // certificate path -> its crt-list line
	Certs    map[string]string // certificate path -> digest
	Other    map[string]string // any other managed file -> digest
}

// serverPrefix starts a tenant server line in the tenants' backend, which
// the template writes last in haproxy.cfg.
const serverPrefix = "    server "

// parseRoutes splits the files of a balancer whose configuration folder
// is dir. cfg, hosts and crts are haproxy.cfg, the host map and the
// crt-list (nil when absent); sums digests every file.
func parseRoutes(dir string, cfg, hosts, crts []byte, sums Sums) (*Routes, error) {
	r := &Routes{Servers: map[string]string{}, Hosts: map[string]string{}, CrtList: map[string]string{},
		Certs: map[string]string{}, Other: map[string]string{}}
	marker := []byte("\nbackend " + render.TenantsBackend + "\n")
	i := bytes.Index(cfg, marker)
	if i < 0 {
		r.Skeleton = cfg
	} else {
		start := i + len(marker)
		j := bytes.Index(cfg[start:], []byte("\n"+serverPrefix))
		end := len(cfg)
		if j >= 0 {
			end = start + j + 1
		}
		r.Skeleton = cfg[:end]
		for _, l := range strings.Split(string(cfg[end:]), "\n") {
			if l == "" {
				continue
			}
			if !strings.HasPrefix(l, serverPrefix) {
				return nil, fmt.Errorf("haproxy.cfg: %q after the tenant servers: the backend %s must come last", l, render.TenantsBackend)
			}
			name, rest, _ := strings.Cut(strings.TrimPrefix(l, serverPrefix), " ")
			r.Servers[name] = rest
		}
	}
	for _, l := range strings.Split(string(hosts), "\n") {
		if f := strings.Fields(l); len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			r.Hosts[f[0]] = f[1]
		}
	}
	for _, l := range strings.Split(string(crts), "\n") {
		if f := strings.Fields(l); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			r.CrtList[f[0]] = strings.Join(f, " ")
		}
	}
	certs := path.Join(dir, render.CertsDir) + "/"
	for p, h := range sums {
		switch {
		case strings.HasPrefix(p, certs):
			r.Certs[render.CertsDir+"/"+strings.TrimPrefix(p, certs)] = h
		case p == path.Join(dir, cfgName), p == path.Join(dir, render.MapFile), p == path.Join(dir, render.CrtList):
		default:
			r.Other[p] = h
		}
	}
	return r, nil
}

// liveOp is one runtime API change and the command that undoes it.
type liveOp struct {
	what string // for the report: "add server be_tenants/acme-api"
	do   func(rt Runtime) error
	undo func(rt Runtime) error
}

// livePlan is what turns one balancer's routes into another's through
// the runtime API, or why it cannot.
type livePlan struct {
	ops    []liveOp
	reason string // non-empty: a reload is needed, and why
	certs  []string
}

// planLive compares routes; pems gives the new certificates' bytes and
// old the replaced ones' (read from the balancer).
func planLive(cur, want *Routes, pems func(string) []byte, old func(string) ([]byte, error)) *livePlan {
	p := &livePlan{}
	switch {
	case !bytes.Equal(cur.Skeleton, want.Skeleton):
		p.reason = "haproxy.cfg changes outside the tenant servers"
		return p
	case !sameMap(cur.Other, want.Other):
		p.reason = "files other than routes and certificates change"
		return p
	}
	for name, line := range want.Servers {
		if have, ok := cur.Servers[name]; ok && have != line {
			p.reason = "server " + name + " changes (" + have + " -> " + line + ")"
			return p
		}
	}
	for c, line := range want.CrtList {
		if have, ok := cur.CrtList[c]; ok && have != line {
			p.reason = "crt-list line of " + c + " changes"
			return p
		}
	}
	// Additions first, the host map last: a route appears once its
	// server and certificate exist.
	for _, name := range sortedKeys(want.Servers) {
		if _, ok := cur.Servers[name]; !ok {
			p.ops = append(p.ops, addServerOp(name, want.Servers[name]))
		}
	}
	for _, c := range sortedKeys(want.Certs) {
		if cur.Certs[c] == want.Certs[c] {
			continue
		}
		p.certs = append(p.certs, c)
		p.ops = append(p.ops, certOp(c, pems(c), sniOf(want.CrtList[c]), cur.Certs[c] != "", old))
	}
	for _, h := range sortedKeys(want.Hosts) {
		if have, ok := cur.Hosts[h]; !ok || have != want.Hosts[h] {
			p.ops = append(p.ops, mapOp(h, want.Hosts[h], have, ok))
		}
	}
	for _, h := range sortedKeys(cur.Hosts) {
		if _, ok := want.Hosts[h]; !ok {
			p.ops = append(p.ops, delMapOp(h, cur.Hosts[h]))
		}
	}
	for _, c := range sortedKeys(cur.Certs) {
		if _, ok := want.Certs[c]; !ok {
			p.ops = append(p.ops, delCertOp(c, sniOf(cur.CrtList[c]), old))
		}
	}
	for _, name := range sortedKeys(cur.Servers) {
		if _, ok := want.Servers[name]; !ok {
			p.ops = append(p.ops, delServerOp(name, cur.Servers[name]))
		}
	}
	return p
}

func sniOf(line string) []string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return nil
	}
	return f[1:]
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
