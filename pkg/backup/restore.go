package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
)

// RestorePart puts role r's data from backup m into container, which
// runs the role's service (a fresh container made by converge): the
// service is stopped, its data replaced and started again. The part's
// checksum is verified first, so a damaged backup changes nothing.
func RestorePart(ctx context.Context, c Execer, m *Manifest, r inventory.Role, container string) (time.Duration, error) {
	start := time.Now()
	p, ok := m.Part(r)
	if !ok {
		return 0, fmt.Errorf("backup %s has no %s part", m.Dir, r)
	}
	if err := Verify(&Manifest{Dir: m.Dir, Parts: []Part{p}}); err != nil {
		return 0, err
	}
	_, load, format := scripts(r)
	if p.Format != format {
		return 0, fmt.Errorf("backup %s: %s part has format %q, this karana restores %q", m.Dir, r, p.Format, format)
	}
	f, err := os.Open(filepath.Join(m.Dir, p.File))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var out strings.Builder
	code, err := c.Exec(ctx, container, []string{"sh", "-c", load}, f, &limitedWriter{b: &out, n: 4096}, &limitedWriter{b: &out, n: 4096})
	if err != nil {
		return 0, fmt.Errorf("restoring %s into %s: %w", m.Dir, container, err)
	}
	if code != 0 {
		return 0, fmt.Errorf("restoring %s into %s: exit %d: %s", m.Dir, container, code, strings.TrimSpace(out.String()))
	}
	return time.Since(start), nil
}
