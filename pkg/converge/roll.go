package converge

import (
	"context"
	"strings"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/provision"
)

// RollingReload applies the inner configuration through balancer.Reload:
// each inner balancer is drained in lb0 through its runtime socket,
// reloaded and put back once lb0 sees it up. It renders inv itself, so
// files are not used.
//
// Draining protects traffic only when the inner balancers serve: on the
// first run, or when one is down, they are reloaded in turn instead (the
// rolling reload rightly refuses to take one out while another is down).
func RollingReload(ctx context.Context, e *Engine, inv *inventory.Inventory, files map[string][]byte) (string, error) {
	for _, name := range inv.Balancers.Inner {
		if err := provision.Check(ctx, inv.InnerAddr(name), InnerProbe()); err != nil {
			return ReloadInnerInTurn(ctx, e, inv, files)
		}
	}
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
