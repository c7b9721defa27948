// Package inventory reads, validates and writes the YAML file that describes
// one karana back end: its LXD host, balancers, images, TLS and tenants.
package inventory

import (
	"net/netip"
	"path/filepath"
	"strings"
)

// Env names the environment variable that sets the inventory path.
const Env = "KARANA_INVENTORY"

// DefaultPath is used when neither --inventory nor KARANA_INVENTORY is given.
const DefaultPath = "inventories/local.yaml"

// Inventory is one back end. Its YAML keys are documented in docs/inventory.md.
type Inventory struct {
	LXD       LXD       `yaml:"lxd"`
	Images    Images    `yaml:"images"`
	Balancers Balancers `yaml:"balancers"`
	TLS       TLS       `yaml:"tls"`
	Services  Services  `yaml:"services"`
	Limits    Limits    `yaml:"limits,omitempty"` // default limits for tenant containers
	Backups   Backups   `yaml:"backups,omitempty"`
	Tenants   []Tenant  `yaml:"tenants"`

	// Path is the file the inventory was loaded from; relative paths in it
	// are resolved against its folder.
	Path string `yaml:"-"`
}

// LXD says how to reach the LXD daemon and what to create in it.
type LXD struct {
	// Endpoint is "unix" or "unix:///path/to/unix.socket" for the local
	// daemon, or "https://host:8443" for a remote one.
	Endpoint   string  `yaml:"endpoint"`
	ClientCert string  `yaml:"client_cert,omitempty"` // PEM file, for https
	ClientKey  string  `yaml:"client_key,omitempty"`  // PEM file, for https
	ServerCert string  `yaml:"server_cert,omitempty"` // PEM file; empty means the system roots
	Project    string  `yaml:"project"`
	Profile    string  `yaml:"profile"`
	Storage    Storage `yaml:"storage"`
	Network    Network `yaml:"network"`
}

// Remote tells whether the daemon is reached over the network (https):
// karana then reaches the containers only through the LXD API (runtime
// sockets and health checks by exec), never through the host's
// filesystem or the bridge.
func (l LXD) Remote() bool { return strings.HasPrefix(l.Endpoint, "https://") }

// Storage is the LXD storage pool the containers live on.
type Storage struct {
	Pool string `yaml:"pool"`
	// Driver of a pool `up` creates: btrfs when empty (on a loop file
	// unless Source names a device), or dir, zfs, lvm. An existing pool is
	// used with whatever driver it has unless Driver is set and differs.
	Driver string `yaml:"driver"`
	Source string `yaml:"source,omitempty"` // block device or path for a new pool; "" = a loop file
	Size   string `yaml:"size,omitempty"`   // size of a new loop file, e.g. 20GiB
}

// Network is the LXD bridge the containers are attached to.
type Network struct {
	Name string `yaml:"name"`
	// IPv4 is the bridge's own address with the subnet's prefix length,
	// as LXD's ipv4.address takes it (for example 10.0.12.1/24).
	IPv4 string `yaml:"ipv4"`
}

// Images names the LXD image (alias) used for each role.
type Images struct {
	Balancer string `yaml:"balancer"`
	InfluxDB string `yaml:"influxdb"`
	Grafana  string `yaml:"grafana"`
	API      string `yaml:"api"`
}

// Balancers describes the outer balancer and the inner, routing ones.
type Balancers struct {
	Outer Outer    `yaml:"outer"`
	Inner []string `yaml:"inner"`
	// HardStopAfter caps how long an old haproxy worker may keep serving
	// its connections after a reload (a Go duration, e.g. 30s).
	HardStopAfter string `yaml:"hard_stop_after"`
}

// Outer is lb0, the static TCP balancer in front of the inner ones.
type Outer struct {
	Name      string `yaml:"name"`
	HTTPPort  int    `yaml:"http_port"`
	HTTPSPort int    `yaml:"https_port"`
	// Publish makes the host's own HTTPPort/HTTPSPort forward to lb0
	// (LXD proxy devices). Without it lb0 is reached at its bridge address.
	Publish bool `yaml:"publish"`
}

// TLS configures certificates of the inner balancers.
type TLS struct {
	// CertDir holds one PEM (certificate chain and key) per tenant domain,
	// named <domain>.pem. Missing ones are generated self-signed.
	CertDir string `yaml:"cert_dir"`
	// ACME, when set, obtains and renews the tenants' certificates (acme.go).
	ACME *ACME `yaml:"acme,omitempty"`
}

// Services sets the hostname prefix and port of each tenant service:
// grafana.<domain>, api.<domain>, influx.<domain> by default.
type Services struct {
	Grafana  Service `yaml:"grafana"`
	API      Service `yaml:"api"`
	InfluxDB Service `yaml:"influxdb"`
}

// Service is one tenant service as routed by the inner balancers.
type Service struct {
	Host string `yaml:"host"` // hostname prefix
	Port int    `yaml:"port"` // port inside the container
}

// Limits are LXD resource limits for a tenant's containers.
type Limits struct {
	CPU    string `yaml:"cpu,omitempty"`    // limits.cpu, e.g. "1"
	Memory string `yaml:"memory,omitempty"` // limits.memory, e.g. 512MiB
	Disk   string `yaml:"disk,omitempty"`   // root disk size, e.g. 5GiB
}

// Backups says where `karana backup` writes, how many backups of each
// tenant it keeps and when the host runs it.
type Backups struct {
	// Folder holds one folder per LXD project, then per tenant; relative
	// to the inventory's folder.
	Folder string `yaml:"folder,omitempty"`
	// Keep is how many complete backups of each tenant stay; older ones
	// are deleted once a newer one is complete.
	Keep int `yaml:"keep,omitempty"`
	// Schedule is a systemd OnCalendar expression (hourly, daily,
	// *-*-* 03:00:00) for the timer `karana up` installs.
	Schedule string `yaml:"schedule,omitempty"`
}

// BackupDir is the folder of this project's backups.
func (inv *Inventory) BackupDir() string {
	return filepath.Join(inv.Resolve(inv.Backups.Folder), inv.LXD.Project)
}

// Tenant is one customer project: three containers, routed by its domain.
type Tenant struct {
	Name     string `yaml:"name"`
	Domain   string `yaml:"domain"`
	Customer string `yaml:"customer,omitempty"`
	ID       string `yaml:"id,omitempty"` // the seed's tenant_id
	// Slot fixes the tenant's addresses on the bridge; assigned on load
	// (lowest free) when absent and written by `tenant add`, so that
	// addresses never move when other tenants come and go.
	Slot   *int   `yaml:"slot,omitempty"`
	Target string `yaml:"target,omitempty"` // LXD cluster member
	Limits Limits `yaml:"limits,omitempty"`
	Cert   string `yaml:"cert,omitempty"` // PEM file overriding tls.cert_dir

	slotAssigned bool // Slot was given on load, not read from the file
}

// Role of a container.
type Role string

const (
	RoleInfluxDB Role = "influx"
	RoleGrafana  Role = "grafana"
	RoleAPI      Role = "api"
)

// Roles in creation order.
var Roles = []Role{RoleInfluxDB, RoleGrafana, RoleAPI}

// ContainerName is the LXD instance name of a tenant's role container.
func (t Tenant) ContainerName(r Role) string { return t.Name + "-" + string(r) }

// Dir is the folder the inventory lives in.
func (inv *Inventory) Dir() string {
	if inv.Path == "" {
		return "."
	}
	return filepath.Dir(inv.Path)
}

// Resolve turns a path from the inventory into one relative to the working
// directory (relative paths in the file are relative to the file).
func (inv *Inventory) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(inv.Dir(), p)
}

// SecretsDir is where generated credentials are kept, 0700, beside the inventory.
func (inv *Inventory) SecretsDir() string {
	return filepath.Join(inv.Dir(), "secrets", inv.LXD.Project)
}

// Tenant returns the tenant called name.
func (inv *Inventory) Tenant(name string) (*Tenant, bool) {
	for i := range inv.Tenants {
		if inv.Tenants[i].Name == name {
			return &inv.Tenants[i], true
		}
	}
	return nil, false
}

// Prefix is the bridge subnet; valid after Load.
func (inv *Inventory) Prefix() netip.Prefix {
	p, _ := netip.ParsePrefix(inv.LXD.Network.IPv4)
	return p
}

// LockPath is the file every changing karana command locks for this
// project, beside the inventory, so that two never act on it at once.
func (inv *Inventory) LockPath() string {
	return filepath.Join(inv.Dir(), ".karana-"+inv.LXD.Project+".lock")
}
