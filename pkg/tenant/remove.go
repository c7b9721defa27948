package tenant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
)

// ExportDir is where `tenant remove` writes the tenants' backups: exports/
// beside the inventory, one folder per LXD project.
func ExportDir(inv *inventory.Inventory) string {
	return filepath.Join(inv.Dir(), "exports", inv.LXD.Project)
}

// ExportPath is the backup tarball of one container (zstd-compressed).
func ExportPath(inv *inventory.Inventory, container string) string {
	return filepath.Join(ExportDir(inv), container+".tar.zst")
}

// Remove takes tenant name away in an order a rerun resumes from: export
// each container (unless purge), delete it, drop the routes, and only then
// the inventory entry. With purge its secrets are deleted too.
func Remove(ctx context.Context, e *converge.Engine, d Deps, name string, purge bool) error {
	inv := e.Inv
	if t, ok := inv.Tenant(name); ok && !purge {
		if err := writeExportEntry(inv, *t); err != nil {
			return fmt.Errorf("keeping the inventory entry of %s beside its exports: %w", name, err)
		}
	}
	if err := removeContainers(ctx, e, name, purge); err != nil {
		return err
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

// removeContainers stops, exports and deletes the tenant's containers in
// parallel, as one reported step: each export is an LXD backup the daemon
// compresses on its own, so three at once take about a third of the time.
// A container that fails does not stop the others; a rerun resumes it.
func removeContainers(ctx context.Context, e *converge.Engine, tenant string, purge bool) error {
	names := make([]string, len(inventory.Roles))
	for i, r := range inventory.Roles {
		names[i] = tenant + "-" + string(r)
	}
	e.Progress.Start("removing %s", strings.Join(names, ", "))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, c := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			did, err := removeContainer(ctx, e, c, purge)
			if err != nil {
				e.Report.Note(tenant, c, "failed")
				errs[i] = &converge.StepError{Step: "removing " + c, Object: c, Err: err}
				return
			}
			e.Report.Note(tenant, c, did)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		e.Progress.Fail(strings.SplitN(err.Error(), "\n", 2)[0])
		return err
	}
	var parts []string
	for _, r := range e.Report.Rows() {
		if r.Kind == tenant && slices.Contains(names, r.Object) && r.Changed() {
			parts = append(parts, r.Object+" "+r.Result())
		}
	}
	if len(parts) == 0 {
		parts = []string{"unchanged"}
	}
	e.Progress.End(strings.Join(parts, "; "))
	return nil
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
		// services flush their data. With purge nothing is kept: a
		// forced stop, which cannot time out on a service slow to stop.
		if err := e.LXD.StopInstance(ctx, name, purge); err != nil {
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

// export writes the container's backup tarball atomically: it streams to
// a temporary file beside path, fsyncs it, renames it into place and
// fsyncs the folder, so a killed remove never leaves a truncated export
// under the final name. Temporary files a killed run left are removed.
func export(ctx context.Context, c lxd.Client, name, path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("exporting: creating %s: %w", dir, err)
	}
	prefix := "." + filepath.Base(path) + ".tmp-"
	if stale, err := filepath.Glob(filepath.Join(dir, prefix+"*")); err == nil {
		for _, p := range stale {
			_ = os.Remove(p)
		}
	}
	f, err := os.CreateTemp(dir, prefix+"*")
	if err != nil {
		return fmt.Errorf("exporting: %w", err)
	}
	defer os.Remove(f.Name())
	err = c.ExportInstance(ctx, name, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("exporting to %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
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
