package inventory

import (
	"fmt"
	"net/netip"
)

// Ports of the metrics endpoints karana configures (docs/metrics.md). Both
// are served on the containers' bridge addresses only: lb0 forwards its
// HTTP and HTTPS ports alone, so neither is reachable through it.
const (
	// BalancerMetricsPort is HAProxy's Prometheus exporter on lb0, lb1, lb2.
	BalancerMetricsPort = 8405
	// APIMetricsPort is `karana api serve`'s metrics listener in each
	// tenant's API container.
	APIMetricsPort = 9100
)

// MetricsURL is http://<addr>:<port>/metrics.
func MetricsURL(addr netip.Addr, port int) string {
	return fmt.Sprintf("http://%s/metrics", netip.AddrPortFrom(addr, uint16(port)))
}
