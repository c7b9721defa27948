package inventory

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
)

func (inv *Inventory) applyDefaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	defInt := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	l := &inv.LXD
	def(&l.Endpoint, "unix")
	def(&l.Project, "karana")
	def(&l.Profile, "karana")
	def(&l.Storage.Pool, "karana")
	def(&l.Network.Name, "karanabr0")
	def(&l.Network.IPv4, "10.0.12.1/24")
	def(&inv.Images.Balancer, "karana/balancer")
	def(&inv.Images.InfluxDB, "karana/influxdb")
	def(&inv.Images.Grafana, "karana/grafana")
	def(&inv.Images.API, "karana/api")
	b := &inv.Balancers
	def(&b.Outer.Name, "lb0")
	defInt(&b.Outer.HTTPPort, 80)
	defInt(&b.Outer.HTTPSPort, 443)
	if len(b.Inner) == 0 {
		b.Inner = []string{"lb1", "lb2"}
	}
	def(&b.HardStopAfter, "30s")
	def(&inv.TLS.CertDir, "certs")
	def(&inv.Backups.Folder, "backups")
	defInt(&inv.Backups.Keep, 7)
	def(&inv.Backups.Schedule, "hourly")
	s := &inv.Services
	def(&s.Grafana.Host, "grafana")
	defInt(&s.Grafana.Port, 3000)
	def(&s.API.Host, "api")
	defInt(&s.API.Port, 8000)
	def(&s.InfluxDB.Host, "influx")
	defInt(&s.InfluxDB.Port, 8086)
}

// sizeRe is an LXD size: a number and a binary or decimal unit.
var sizeRe = regexp.MustCompile(`^[1-9][0-9]*(B|kB|MB|GB|TB|KiB|MiB|GiB|TiB)$`)

var (
	// An LXD instance name: a DNS label that does not start with a digit.
	containerNameRe = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)
	dnsLabelRe      = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	tenantIDRe      = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	objectNameRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)
	imageRe         = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_.-]*:)?[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$`)
	cpuRe           = regexp.MustCompile(`^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$`)
	memoryRe        = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(B|kB|MB|GB|TB|KiB|MiB|GiB|TiB|%)?$`)
	diskRe          = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(B|kB|MB|GB|TB|KiB|MiB|GiB|TiB)?$`)
)

// roleSuffixLen is the longest "-<role>" suffix added to a tenant name.
const roleSuffixLen = len("-grafana")

// MaxTenantNameLen keeps every container name within LXD's 63 characters.
const MaxTenantNameLen = 63 - roleSuffixLen

// ValidTenantName reports why name cannot name a tenant, or nil.
func ValidTenantName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("is empty")
	case len(name) > MaxTenantNameLen:
		return fmt.Errorf("%q is longer than %d characters", name, MaxTenantNameLen)
	case !containerNameRe.MatchString(name):
		return fmt.Errorf("%q cannot name a container: use lowercase letters, digits and '-', starting with a letter and not ending with '-'", name)
	}
	return nil
}

// ValidDomain reports why d is not a valid DNS name, or nil.
func ValidDomain(d string) error {
	if d == "" {
		return fmt.Errorf("is empty")
	}
	if len(d) > 253-len("grafana.") {
		return fmt.Errorf("%q is too long for a DNS name once a service prefix is added", d)
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return fmt.Errorf("%q is not a fully qualified DNS name (want at least two labels, e.g. acme.example.org)", d)
	}
	for _, l := range labels {
		if len(l) > 63 || !dnsLabelRe.MatchString(l) {
			return fmt.Errorf("%q is not a valid DNS name: label %q must be 1-63 lowercase letters, digits or '-', not starting or ending with '-'", d, l)
		}
	}
	return nil
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == '\n' {
			return false
		}
	}
	return true
}

func (v *validator) validate(inv *Inventory) {
	v.validateLXD(&inv.LXD)
	v.validateImages(&inv.Images)
	v.validateBalancers(&inv.Balancers)
	v.validateServices(&inv.Services)
	if inv.TLS.CertDir != "" && !printable(inv.TLS.CertDir) {
		v.at("tls.cert_dir", "contains control characters")
	}
	v.validateLimits("limits", inv.Limits)
	v.validateBackups(&inv.Backups)
	v.validateTenants(inv)
	v.validateACME(inv)
}

// calendarRe is the characters of a systemd calendar expression
// (systemd.time(7)); systemd itself checks the meaning when the timer is
// installed.
var calendarRe = regexp.MustCompile(`^[A-Za-z0-9*.,:/~ +-]{1,100}$`)

func (v *validator) validateBackups(b *Backups) {
	if !printable(b.Folder) {
		v.at("backups.folder", "contains control characters")
	}
	if b.Keep < 1 || b.Keep > 10000 {
		v.at("backups.keep", "%d: want how many backups of each tenant to keep, 1 to 10000", b.Keep)
	}
	if !calendarRe.MatchString(b.Schedule) {
		v.at("backups.schedule", "%q: want a systemd calendar expression such as hourly, daily or \"*-*-* 03:00:00\"", b.Schedule)
	}
}

func (v *validator) validateLXD(l *LXD) {
	switch ep := l.Endpoint; {
	case ep == "unix":
	case strings.HasPrefix(ep, "unix://"):
		if !strings.HasPrefix(strings.TrimPrefix(ep, "unix://"), "/") {
			v.at("lxd.endpoint", "%q: a unix endpoint needs an absolute socket path (unix:///var/lib/lxd/unix.socket)", ep)
		}
	case strings.HasPrefix(ep, "https://"):
		u, err := url.Parse(ep)
		if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
			v.at("lxd.endpoint", "%q is not a valid https URL (want https://host:8443)", ep)
		}
		if l.ClientCert == "" || l.ClientKey == "" {
			v.at("lxd.endpoint", "an https endpoint needs lxd.client_cert and lxd.client_key")
		}
	default:
		v.at("lxd.endpoint", "%q: want \"unix\", unix:///path/to/unix.socket or https://host:8443", ep)
	}
	for _, f := range []struct{ key, val string }{{"project", l.Project}, {"profile", l.Profile}, {"storage.pool", l.Storage.Pool}} {
		if !objectNameRe.MatchString(f.val) {
			v.at("lxd."+f.key, "%q is not a valid LXD name: letters, digits, '_', '.', '-', at most 63", f.val)
		}
	}
	switch l.Storage.Driver {
	case "", "dir", "btrfs", "zfs", "lvm":
	default:
		v.at("lxd.storage.driver", "%q: want dir, btrfs, zfs or lvm (omitted: btrfs for a new pool)", l.Storage.Driver)
	}
	if s := l.Storage.Size; s != "" && !sizeRe.MatchString(s) {
		v.at("lxd.storage.size", "%q: want a size such as 20GiB", s)
	}
	if l.Storage.Size != "" && l.Storage.Source != "" {
		v.at("lxd.storage.size", "a size is for a loop file: drop it, or drop lxd.storage.source")
	}
	if n := l.Network.Name; len(n) > 15 || !containerNameRe.MatchString(n) {
		v.at("lxd.network.name", "%q is not a valid interface name: lowercase letters, digits and '-', at most 15", n)
	}
	p, err := netip.ParsePrefix(l.Network.IPv4)
	switch {
	case err != nil || !p.Addr().Is4():
		v.at("lxd.network.ipv4", "%q: want the bridge's IPv4 address with prefix length, e.g. 10.0.12.1/24", l.Network.IPv4)
	case p.Bits() > 27:
		v.at("lxd.network.ipv4", "subnet %s is too small: karana needs at least a /27", p.Masked())
	case p.Addr() == p.Masked().Addr():
		v.at("lxd.network.ipv4", "%s is the network address; give the bridge a host address such as %s", p.Addr(), nth(p, 1))
	case nth(p, balancerOffset) == p.Addr() || inBalancerOrTenantRange(p):
		v.at("lxd.network.ipv4", "the bridge address %s collides with karana's address plan; use the subnet's first address (%s)", p.Addr(), nth(p, 1))
	}
}

// inBalancerOrTenantRange reports whether the bridge's own address falls on
// an address karana assigns to a container.
func inBalancerOrTenantRange(p netip.Prefix) bool {
	return p.Addr().Compare(nth(p, balancerOffset)) >= 0
}

func (v *validator) validateImages(im *Images) {
	for _, f := range []struct{ key, val string }{{"balancer", im.Balancer}, {"influxdb", im.InfluxDB}, {"grafana", im.Grafana}, {"api", im.API}} {
		if !imageRe.MatchString(f.val) {
			v.at("images."+f.key, "%q is not an image alias (want alias or remote:alias)", f.val)
		}
	}
}

func (v *validator) validateBalancers(b *Balancers) {
	seen := map[string]string{}
	check := func(path, name string) {
		if len(name) > 63 || !containerNameRe.MatchString(name) {
			v.at(path, "%q cannot name a container: use lowercase letters, digits and '-', starting with a letter", name)
			return
		}
		if prev, ok := seen[name]; ok {
			v.at(path, "balancer %q is already named at %s", name, prev)
		}
		seen[name] = path
	}
	check("balancers.outer.name", b.Outer.Name)
	if len(b.Inner) < 2 {
		v.at("balancers.inner", "needs at least two inner balancers, so that one serves while the other reloads")
	}
	for i, n := range b.Inner {
		check(fmt.Sprintf("balancers.inner[%d]", i), n)
	}
	v.port("balancers.outer.http_port", b.Outer.HTTPPort)
	v.port("balancers.outer.https_port", b.Outer.HTTPSPort)
	if b.Outer.HTTPPort == b.Outer.HTTPSPort {
		v.at("balancers.outer.https_port", "is the same port as http_port (%d)", b.Outer.HTTPPort)
	}
	d, err := time.ParseDuration(b.HardStopAfter)
	if err != nil || d < time.Second || d > 24*time.Hour {
		v.at("balancers.hard_stop_after", "%q: want a duration between 1s and 24h, e.g. 30s", b.HardStopAfter)
	}
}

func (v *validator) port(path string, p int) {
	if p < 1 || p > 65535 {
		v.at(path, "%d is not a TCP port (1-65535)", p)
	}
}

func (v *validator) validateServices(s *Services) {
	hosts := map[string]string{}
	for _, f := range []struct {
		key string
		svc Service
	}{{"grafana", s.Grafana}, {"api", s.API}, {"influxdb", s.InfluxDB}} {
		path := "services." + f.key
		if len(f.svc.Host) > 63 || !dnsLabelRe.MatchString(f.svc.Host) {
			v.at(path+".host", "%q is not a DNS label (lowercase letters, digits, '-')", f.svc.Host)
		} else if prev, ok := hosts[f.svc.Host]; ok {
			v.at(path+".host", "prefix %q is already used by %s", f.svc.Host, prev)
		}
		hosts[f.svc.Host] = path
		v.port(path+".port", f.svc.Port)
	}
}

func (v *validator) validateLimits(path string, l Limits) {
	if l.CPU != "" && !cpuRe.MatchString(l.CPU) {
		v.at(path+".cpu", "%q: want a CPU count (2) or a CPU set (0-1,3)", l.CPU)
	}
	if l.Memory != "" && !memoryRe.MatchString(l.Memory) {
		v.at(path+".memory", "%q: want a size such as 512MiB, 2GiB or 50%%", l.Memory)
	}
	if l.Disk != "" && !diskRe.MatchString(l.Disk) {
		v.at(path+".disk", "%q: want a size such as 5GiB", l.Disk)
	}
}
