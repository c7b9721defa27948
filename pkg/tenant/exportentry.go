package tenant

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/karana-project/karana/pkg/fsutil"
	"github.com/karana-project/karana/pkg/inventory"
)

// ExportEntryPath is where `tenant remove` keeps the tenant's inventory
// entry beside its exports, so that `tenant restore --from export` can put
// the tenant back with its domain, id and slot.
func ExportEntryPath(inv *inventory.Inventory, name string) string {
	return filepath.Join(ExportDir(inv), name+".tenant.yaml")
}

func writeExportEntry(inv *inventory.Inventory, t inventory.Tenant) error {
	if err := os.MkdirAll(ExportDir(inv), 0o700); err != nil {
		return err
	}
	data, err := yaml.Marshal(t)
	if err != nil {
		return err
	}
	return fsutil.WriteFile(ExportEntryPath(inv, t.Name), data, 0o600)
}

// ReadExportEntry reads the entry writeExportEntry kept.
func ReadExportEntry(inv *inventory.Inventory, name string) (inventory.Tenant, error) {
	var t inventory.Tenant
	data, err := os.ReadFile(ExportEntryPath(inv, name))
	if err != nil {
		return t, fmt.Errorf("tenant %q is not in %s, and its export has no entry (%w): add it to the inventory first", name, inv.Path, err)
	}
	if err := yaml.Unmarshal(data, &t); err != nil {
		return t, fmt.Errorf("%s: %w", ExportEntryPath(inv, name), err)
	}
	if t.Name != name {
		return t, fmt.Errorf("%s is the entry of tenant %q, not %q", ExportEntryPath(inv, name), t.Name, name)
	}
	return t, nil
}
