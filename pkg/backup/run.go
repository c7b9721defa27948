package backup

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
)

// Reporter shows steps as they run (cmdutil.Progress).
type Reporter interface {
	Start(format string, args ...any)
	End(result string)
	Fail(result string)
}

// Result is what backing up one tenant did.
type Result struct {
	Tenant  string   `json:"tenant"`
	ID      string   `json:"id,omitempty"`
	Dir     string   `json:"dir,omitempty"`
	Size    int64    `json:"size"`
	Seconds float64  `json:"seconds"`
	Parts   []Part   `json:"parts,omitempty"`
	Pruned  []string `json:"pruned,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// All backs up each of tenants in turn (one at a time: the host's disk and
// CPU are shared with the services), pruning each tenant's old backups to
// inv.Backups.Keep once its new one is complete. A tenant that fails does
// not stop the others; the error lists every failure.
func All(ctx context.Context, c Execer, inv *inventory.Inventory, tenants []inventory.Tenant, p Reporter, now func() time.Time) ([]Result, error) {
	var out []Result
	var failed []string
	for _, t := range tenants {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		start := time.Now()
		p.Start("backing up %s", t.Name)
		r := Result{Tenant: t.Name}
		m, err := Take(ctx, c, inv, t, now())
		if err == nil {
			r.ID, r.Dir, r.Size, r.Parts = m.ID, m.Dir, m.Size(), m.Parts
			r.Pruned, err = Prune(inv, t.Name, inv.Backups.Keep)
		}
		r.Seconds = time.Since(start).Seconds()
		if err != nil {
			r.Error = err.Error()
			failed = append(failed, fmt.Sprintf("tenant %s: %v", t.Name, err))
			p.Fail(firstLine(err.Error()))
		} else {
			msg := fmt.Sprintf("%s, %s", m.ID, HumanSize(r.Size))
			if len(r.Pruned) > 0 {
				msg += fmt.Sprintf(", %d old deleted", len(r.Pruned))
			}
			p.End(msg)
		}
		out = append(out, r)
	}
	if len(failed) > 0 {
		return out, fmt.Errorf("backup failed for %d of %d tenant(s):\n  %s", len(failed), len(tenants), strings.Join(failed, "\n  "))
	}
	return out, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// HumanSize is n bytes as 12.3 MiB.
func HumanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
