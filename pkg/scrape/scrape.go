// Package scrape writes the Prometheus scrape configuration an operator
// uses for a karana back end (docs/metrics.md): HAProxy's exporter on every
// balancer and the management API's metrics listener of every tenant.
package scrape

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/karana-project/karana/pkg/inventory"
)

// Job names in the generated configuration.
const (
	BalancerJob = "karana-haproxy"
	APIJob      = "karana-api"
)

type file struct {
	Global        global `yaml:"global"`
	ScrapeConfigs []job  `yaml:"scrape_configs"`
}

type global struct {
	ScrapeInterval string `yaml:"scrape_interval"`
}

type job struct {
	JobName              string    `yaml:"job_name"`
	MetricsPath          string    `yaml:"metrics_path"`
	StaticConfigs        []targets `yaml:"static_configs"`
	MetricRelabelConfigs []relabel `yaml:"metric_relabel_configs,omitempty"`
}

type targets struct {
	Targets []string          `yaml:"targets"`
	Labels  map[string]string `yaml:"labels"`
}

type relabel struct {
	SourceLabels []string `yaml:"source_labels"`
	Regex        string   `yaml:"regex"`
	TargetLabel  string   `yaml:"target_label"`
	Replacement  string   `yaml:"replacement"`
}

// Config is a whole prometheus.yml for inv, scraping every interval.
func Config(inv *inventory.Inventory, interval time.Duration) ([]byte, error) {
	if interval < time.Second {
		return nil, fmt.Errorf("scrape interval %s: must be at least 1s", interval)
	}
	project := inv.LXD.Project
	bal := job{JobName: BalancerJob, MetricsPath: "/metrics"}
	names := append([]string{inv.Balancers.Outer.Name}, inv.Balancers.Inner...)
	for i, name := range names {
		addr := inv.BalancerAddr(i)
		if !addr.IsValid() {
			return nil, fmt.Errorf("balancer %s has no address in lxd.network.ipv4 %q", name, inv.LXD.Network.IPv4)
		}
		bal.StaticConfigs = append(bal.StaticConfigs, targets{
			Targets: []string{hostPort(addr, inventory.BalancerMetricsPort)},
			Labels:  map[string]string{"karana_project": project, "balancer": name},
		})
	}
	// The inner balancers' tenant services are the servers of be_tenants,
	// named <tenant>-<role>: a tenant label lets a query sum one tenant's
	// services.
	roles := make([]string, len(inventory.Roles))
	for i, r := range inventory.Roles {
		roles[i] = string(r)
	}
	bal.MetricRelabelConfigs = []relabel{{SourceLabels: []string{"server"}, Regex: "(.+)-(" + strings.Join(roles, "|") + ")",
		TargetLabel: "tenant", Replacement: "$1"}}
	api := job{JobName: APIJob, MetricsPath: "/metrics", StaticConfigs: []targets{}}
	for _, t := range inv.Tenants {
		addr := inv.TenantAddr(t, inventory.RoleAPI)
		if !addr.IsValid() {
			return nil, fmt.Errorf("tenant %s has no API address (slot %v) in lxd.network.ipv4 %q", t.Name, t.Slot, inv.LXD.Network.IPv4)
		}
		api.StaticConfigs = append(api.StaticConfigs, targets{
			Targets: []string{hostPort(addr, inventory.APIMetricsPort)},
			Labels:  map[string]string{"karana_project": project, "tenant": t.Name, "domain": t.Domain},
		})
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Prometheus scrape configuration for karana project %s, from %s,\n"+
		"# written by `karana metrics scrape-config`: run it again after tenant add/remove.\n", project, inv.Path)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(file{Global: global{ScrapeInterval: interval.String()}, ScrapeConfigs: []job{bal, api}}); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

func hostPort(a netip.Addr, port int) string { return netip.AddrPortFrom(a, uint16(port)).String() }
