package tenant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
)

// ExportDir is where `tenant remove` writes the tenants' backups: exports/
// beside the inventory, one folder per LXD project.
func ExportDir(inv *inventory.Inventory) string {
	return filepath.Join(inv.Dir(), "exports", inv.LXD.Project)
}

// ExportPath is the backup tarball of one container.
func ExportPath(inv *inventory.Inventory, container string) string {
	return filepath.Join(ExportDir(inv), container+".tar.gz")
}

// Remove takes tenant name away in an order a rerun resumes from: export
// each container (unless purge), delete it, drop the routes, and only then
// the inventory entry. With purge its secrets are deleted too.
func Remove(ctx context.Context, e *converge.Engine, d Deps, name string, purge bool) error {
	inv := e.Inv
	for _, r := range inventory.Roles {
		c := name + "-" + string(r)
		err := e.Step(name, c, "removing "+c, func() (string, error) {
			return removeContainer(ctx, e, c, purge)
		})
		if err != nil {
			return err
		}
	}
	without := *inv
	without.Tenants = nil
	for _, t := range inv.Tenants {
		if t.Name != name {
			without.Tenants = append(without.Tenants, t)
		}
	}
	if err := Route(ctx, e, d, &without); err != nil {
		return err
	}
	if purge {
		err := e.Step(name, "credentials of "+name, "deleting credentials of "+name, func() (string, error) {
			if _, err := os.Stat(e.Secrets.Path(name)); err != nil {
				return "", nil
			}
			return "deleted", e.Secrets.Remove(name)
		})
		if err != nil {
			return err
		}
	}
	return e.Step(name, "inventory", "removing "+name+" from "+inv.Path, func() (string, error) {
		if _, ok := inv.Tenant(name); !ok {
			return "", nil
		}
		_, err := inventory.RemoveTenant(inv.Path, name)
		if err != nil {
			return "", err
		}
		return "removed", nil
	})
}

func removeContainer(ctx context.Context, e *converge.Engine, name string, purge bool) (string, error) {
	in, err := e.LXD.GetInstance(ctx, name)
	if errors.Is(err, lxd.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	did := "deleted"
	if in.Status == "Running" {
		// Stopped first, so that the export is consistent and the
		// services flush their data.
		if err := e.LXD.StopInstance(ctx, name, false); err != nil {
			return "", fmt.Errorf("stopping: %w", err)
		}
	}
	if !purge {
		p := ExportPath(e.Inv, name)
		if err := export(ctx, e.LXD, name, p); err != nil {
			return "", err
		}
		did = "exported to " + p + ", deleted"
	}
	if err := e.LXD.DeleteInstance(ctx, name); err != nil {
		return "", fmt.Errorf("deleting: %w", err)
	}
	return did, nil
}

// export writes the container's backup tarball atomically: a partial
// export never looks like a finished one.
func export(ctx context.Context, c lxd.Client, name, path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("exporting: %w", err)
	}
	defer os.Remove(f.Name())
	if err := c.ExportInstance(ctx, name, f); err != nil {
		f.Close()
		return fmt.Errorf("exporting: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("exporting: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("exporting: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("exporting: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Leftovers lists the containers karana marked as tenant name's.
func Leftovers(ctx context.Context, c lxd.Client, name string) ([]string, error) {
	all, err := c.ListInstances(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, in := range all {
		if in.Config[converge.KeyTenant] == name {
			out = append(out, in.Name)
		}
	}
	return out, nil
}
