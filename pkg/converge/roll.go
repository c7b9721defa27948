package converge

import (
	"context"
	"strings"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/inventory"
)

// RollingReload applies the inner configuration through balancer.Reload:
// each inner balancer is drained in lb0 through its runtime socket,
// reloaded and put back once lb0 sees it up. It renders inv itself, so
// files are not used.
func RollingReload(ctx context.Context, e *Engine, inv *inventory.Inventory, _ map[string][]byte) (string, error) {
	rep, err := balancer.Reload(ctx, balancer.ReloadOptions{Inventory: inv, LXD: e.LXD})
	if err != nil {
		return "", err
	}
	var did []string
	for _, b := range rep.Balancers {
		if b.Action != balancer.ActionUnchanged {
			did = append(did, b.Name+" "+b.Action)
		}
	}
	return strings.Join(did, ", "), nil
}
