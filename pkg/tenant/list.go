package tenant

import (
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/secrets"
)

// Info describes one tenant for `tenant list` and `tenant add -o json`.
type Info struct {
	Name       string            `json:"name"`
	Domain     string            `json:"domain"`
	Customer   string            `json:"customer,omitempty"`
	ID         string            `json:"id,omitempty"`
	Slot       int               `json:"slot"`
	Target     string            `json:"target,omitempty"`
	Containers map[string]string `json:"containers"` // name -> address
	// Members maps container names to the LXD cluster member each runs
	// on, when LXD is clustered and answered (tenant list).
	Members map[string]string `json:"members,omitempty"`
	Hosts   []string          `json:"hosts"`
	Secrets *secrets.Tenant   `json:"secrets,omitempty"`
}

// Describe is t as Info.
func Describe(inv *inventory.Inventory, t inventory.Tenant) Info {
	in := Info{Name: t.Name, Domain: t.Domain, Customer: t.Customer, ID: t.ID, Target: t.Target,
		Containers: map[string]string{}}
	if t.Slot != nil {
		in.Slot = *t.Slot
	}
	for _, r := range inventory.Roles {
		in.Containers[t.ContainerName(r)] = inv.TenantAddr(t, r).String()
	}
	s := inv.Services
	for _, h := range []string{s.API.Host, s.Grafana.Host, s.InfluxDB.Host} {
		in.Hosts = append(in.Hosts, h+"."+t.Domain)
	}
	return in
}

// ContainerNames are the tenant's containers in role order.
func (in Info) ContainerNames() []string {
	var out []string
	for _, r := range inventory.Roles {
		out = append(out, in.Name+"-"+string(r))
	}
	return out
}
