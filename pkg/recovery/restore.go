// Package recovery brings tenants back: `karana tenant restore` recreates
// a tenant's containers, or one role's, from a backup or from the export
// `tenant remove` wrote, and `karana heal` does it on its own for tenant
// containers that are missing, stopped or unhealthy.
package recovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/karana-project/karana/pkg/backup"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/provision"
	"github.com/karana-project/karana/pkg/secrets"
	"github.com/karana-project/karana/pkg/tenant"
)

// FromExport as the source restores the LXD exports `tenant remove` wrote.
const FromExport = "export"

// Reconciler runs the tenant API's full reconcile, which brings InfluxDB
// and Grafana back in line with the API's records.
type Reconciler interface {
	Reconcile(ctx context.Context, inv *inventory.Inventory, t inventory.Tenant) (string, error)
}

// Deps are the outside parts a restore uses.
type Deps struct {
	Tenant    tenant.Deps
	Reconcile Reconciler // nil: no reconcile (reported as skipped)
	// CheckOuter checks the tenant through lb0; nil is
	// tenant.CheckThroughOuter (unit tests replace it).
	CheckOuter func(ctx context.Context, inv *inventory.Inventory, t inventory.Tenant, timeout time.Duration) error
}

// Request says what to restore.
type Request struct {
	Name  string
	From  string           // "" (latest backup), a backup id or folder, or FromExport
	Roles []inventory.Role // empty: all three
	// Replace deletes containers of the roles that exist; heal replaces
	// only containers it found broken, so it lists just those roles.
	Replace bool
}

// Result is what a restore did.
type Result struct {
	Tenant   string             `json:"tenant"`
	Source   string             `json:"source"` // backup folder or export folder
	BackupAt *time.Time         `json:"backup_time,omitempty"`
	Roles    []inventory.Role   `json:"roles"`
	Recorded bool               `json:"recorded"` // put back into the inventory
	Took     map[string]float64 `json:"seconds"`  // container -> seconds its restore took
	Total    float64            `json:"total_seconds"`
	// Back is when each restored container's service answered again.
	Back map[string]time.Time `json:"-"`
}

// Restore recreates req.Roles of tenant req.Name from its source, in an
// order a rerun resumes from: the tenant in the inventory, the old
// containers deleted, fresh ones converged as by `tenant add`, the data
// put in and checked healthy, the routes rolled when the tenant was
// recorded again, the tenant checked through lb0, and the API's reconcile.
func Restore(ctx context.Context, e *converge.Engine, d Deps, req Request) (*Result, error) {
	start := time.Now()
	roles := req.Roles
	if len(roles) == 0 {
		roles = inventory.Roles
	}
	res := &Result{Tenant: req.Name, Roles: roles, Took: map[string]float64{}, Back: map[string]time.Time{}}
	src, err := open(e.Inv, req)
	if err != nil {
		return res, err
	}
	res.Source = src.dir
	if src.m != nil {
		at := src.m.Time
		res.BackupAt = &at
	}
	t, recorded, err := record(e, src.entry)
	if err != nil {
		return res, err
	}
	res.Recorded = recorded
	if req.Replace {
		if err := remove(ctx, e, t, roles); err != nil {
			return res, err
		}
	}
	if src.m == nil {
		if err := importExports(ctx, e, t, roles, src.dir); err != nil {
			return res, err
		}
	}
	if err := e.Tenant(ctx, t); err != nil {
		return res, err
	}
	if src.m != nil {
		if err := putData(ctx, e, t, roles, src.m, res); err != nil {
			return res, err
		}
	}
	if recorded {
		if err := tenant.Route(ctx, e, d.Tenant, e.Inv); err != nil {
			return res, err
		}
	}
	err = e.Step(t.Name, "routes of "+t.Name, "answering through "+e.Inv.Balancers.Outer.Name, func() (string, error) {
		check := d.CheckOuter
		if check == nil {
			check = tenant.CheckThroughOuter
		}
		return "", check(ctx, e.Inv, t, 30*time.Second)
	})
	if err != nil {
		return res, err
	}
	if err := reconcile(ctx, e, d, t); err != nil {
		return res, err
	}
	res.Total = time.Since(start).Seconds()
	return res, nil
}

// source is where a restore's data comes from.
type source struct {
	dir   string
	m     *backup.Manifest // nil for an export
	entry inventory.Tenant
}

func open(inv *inventory.Inventory, req Request) (*source, error) {
	known, inInv := inv.Tenant(req.Name)
	if req.From == FromExport {
		s := &source{dir: tenant.ExportDir(inv)}
		if inInv {
			s.entry = *known
		} else {
			t, err := tenant.ReadExportEntry(inv, req.Name)
			if err != nil {
				return nil, err
			}
			s.entry = t
		}
		for _, r := range req.Roles {
			if _, err := os.Stat(tenant.ExportPath(inv, req.Name+"-"+string(r))); err != nil {
				return nil, fmt.Errorf("no export of %s-%s: %w", req.Name, r, err)
			}
		}
		return s, nil
	}
	m, err := backup.Find(inv, req.Name, req.From)
	if err != nil {
		return nil, err
	}
	if err := backup.Verify(m); err != nil {
		return nil, err
	}
	s := &source{dir: m.Dir, m: m, entry: m.Tenant.Inventory()}
	if inInv {
		s.entry = *known
	}
	return s, nil
}

// record puts a tenant that is no longer in the inventory back, at its old
// slot when that is free.
func record(e *converge.Engine, t inventory.Tenant) (inventory.Tenant, bool, error) {
	inv := e.Inv
	if have, ok := inv.Tenant(t.Name); ok {
		return *have, false, nil
	}
	var rec inventory.Tenant
	err := e.Step(t.Name, "inventory", "recording "+t.Name+" in "+inv.Path, func() (string, error) {
		for _, o := range inv.Tenants {
			if o.Domain == t.Domain {
				return "", fmt.Errorf("domain %q now belongs to tenant %q", t.Domain, o.Name)
			}
			if t.ID != "" && o.ID == t.ID {
				t.ID = ""
			}
			if t.Slot != nil && o.Slot != nil && *o.Slot == *t.Slot {
				t.Slot = nil
			}
		}
		if t.Slot == nil {
			s := inv.FreeSlot()
			t.Slot = &s
		}
		n, err := inventory.AddTenant(inv.Path, t)
		if err != nil {
			return "", err
		}
		*inv = *n
		got, _ := inv.Tenant(t.Name)
		rec = *got
		return fmt.Sprintf("slot %d", *rec.Slot), nil
	})
	return rec, true, err
}

// remove deletes the containers of roles that exist.
func remove(ctx context.Context, e *converge.Engine, t inventory.Tenant, roles []inventory.Role) error {
	for _, r := range roles {
		name := t.ContainerName(r)
		err := e.Step(t.Name, name, "deleting "+name, func() (string, error) {
			in, err := e.LXD.GetInstance(ctx, name)
			if errors.Is(err, lxd.ErrNotFound) {
				return "", nil
			}
			if err != nil {
				return "", err
			}
			if in.Status == "Running" {
				if err := e.LXD.StopInstance(ctx, name, true); err != nil {
					return "", err
				}
			}
			return "deleted", e.LXD.DeleteInstance(ctx, name)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func importExports(ctx context.Context, e *converge.Engine, t inventory.Tenant, roles []inventory.Role, dir string) error {
	for _, r := range roles {
		name := t.ContainerName(r)
		err := e.Step(t.Name, name, "importing "+name+" from "+dir, func() (string, error) {
			if _, err := e.LXD.GetInstance(ctx, name); err == nil {
				return "", nil
			}
			f, err := os.Open(tenant.ExportPath(e.Inv, name))
			if err != nil {
				return "", err
			}
			defer f.Close()
			return "imported", e.LXD.ImportInstance(ctx, name, e.Inv.LXD.Storage.Pool, f)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// putData restores the parts of roles: InfluxDB and Grafana at once, then
// the API, which syncs to them once it runs.
func putData(ctx context.Context, e *converge.Engine, t inventory.Tenant, roles []inventory.Role, m *backup.Manifest, res *Result) error {
	var mu sync.Mutex
	one := func(r inventory.Role) error {
		name := t.ContainerName(r)
		return e.Step(t.Name, name, "restoring "+name+" from "+m.ID, func() (string, error) {
			took, err := backup.RestorePart(ctx, e.LXD, m, r, name)
			if err != nil {
				return "", err
			}
			probe := provision.ForRole(provision.Tenant{Inv: e.Inv, T: t, Secrets: &secrets.Tenant{}}, r).Probe
			if err := e.WaitHealthy(ctx, e.Inv.TenantAddr(t, r), probe, converge.ServiceTimeout); err != nil {
				return "", fmt.Errorf("after the restore: %w", err)
			}
			mu.Lock()
			res.Took[name] = took.Seconds()
			res.Back[name] = time.Now()
			mu.Unlock()
			return "restored from " + m.ID, nil
		})
	}
	var first []inventory.Role
	for _, r := range roles {
		if r != inventory.RoleAPI {
			first = append(first, r)
		}
	}
	errs := make([]error, len(first))
	var wg sync.WaitGroup
	for i, r := range first {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = one(r) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if slices.Contains(roles, inventory.RoleAPI) {
		return one(inventory.RoleAPI)
	}
	return nil
}

// ReconcileError is a restore that did everything but the API's
// reconcile: the data is back and answers, InfluxDB and Grafana may still
// lack what the API's records say (a later reconcile, the API's periodic
// one or `tenant restore` again, brings them in line).
type ReconcileError struct{ Err error }

func (e *ReconcileError) Error() string { return "the data is restored, but " + e.Err.Error() }
func (e *ReconcileError) Unwrap() error { return e.Err }

// reconcileTries: the services were just restarted, and a sync that
// reaches one still settling fails; the reconcile is idempotent.
const reconcileTries = 5

func reconcile(ctx context.Context, e *converge.Engine, d Deps, t inventory.Tenant) error {
	err := e.Step(t.Name, t.ContainerName(inventory.RoleAPI), "reconcile of "+t.Name+"'s API", func() (string, error) {
		if d.Reconcile == nil {
			return "skipped: no reconcile configured", nil
		}
		var err error
		for i := 0; i < reconcileTries; i++ {
			var did string
			if did, err = d.Reconcile.Reconcile(ctx, e.Inv, t); err == nil {
				return did, nil
			}
			if i == reconcileTries-1 {
				break
			}
			select {
			case <-ctx.Done():
				return "", err
			case <-time.After(3 * time.Second):
			}
		}
		return "", err
	})
	if err != nil {
		return &ReconcileError{Err: err}
	}
	return nil
}

// ParseRole reads --role.
func ParseRole(s string) (inventory.Role, error) {
	for _, r := range inventory.Roles {
		if string(r) == s || (r == inventory.RoleInfluxDB && s == "influxdb") {
			return r, nil
		}
	}
	var names []string
	for _, r := range inventory.Roles {
		names = append(names, string(r))
	}
	return "", fmt.Errorf("unknown role %q: want %s", s, strings.Join(names, ", "))
}

// Created lists the roles of t whose containers the engine's run
// created (the report says "created").
func Created(r *converge.Report, t inventory.Tenant) []inventory.Role {
	var out []inventory.Role
	for _, row := range r.Rows() {
		for _, ro := range inventory.Roles {
			if row.Kind == t.Name && row.Object == t.ContainerName(ro) && slices.Contains(row.Changes, "created") {
				out = append(out, ro)
			}
		}
	}
	return out
}

// HasBackup tells whether tenant name has a complete backup.
func HasBackup(inv *inventory.Inventory, name string) bool {
	all, err := backup.List(inv, name)
	return err == nil && len(all) > 0
}

// Refill puts the latest backup's data of roles into tenant name's
// containers, which exist and run (up just created them), and reconciles.
func Refill(ctx context.Context, e *converge.Engine, d Deps, name string, roles []inventory.Role) error {
	t, ok := e.Inv.Tenant(name)
	if !ok {
		return fmt.Errorf("tenant %q is not in %s", name, e.Inv.Path)
	}
	m, err := backup.Find(e.Inv, name, "")
	if err != nil {
		return err
	}
	if err := backup.Verify(m); err != nil {
		return err
	}
	res := &Result{Took: map[string]float64{}, Back: map[string]time.Time{}}
	if err := putData(ctx, e, *t, roles, m, res); err != nil {
		return err
	}
	return reconcile(ctx, e, d, *t)
}
