package recovery

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/backup"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
	"github.com/karana-project/karana/pkg/provision"
	"github.com/karana-project/karana/pkg/secrets"
	"github.com/karana-project/karana/pkg/tenant"
)

type restoreFixture struct {
	inv     *inventory.Inventory
	f       *lxdfake.Fake
	e       *converge.Engine
	mu      sync.Mutex        // guards loaded: the parts load in parallel
	loaded  map[string]string // container -> what a load script read
	rolled  int
	checked []string
	d       Deps
}

const restoreInv = `lxd: {project: p, network: {name: unitbr0, ipv4: 10.0.99.1/24}}
tenants:
  - {name: acme, domain: acme.test, id: ACME1, slot: 3}
  - {name: other, domain: other.test, id: OTHER, slot: 0}
`

func newRestoreFixture(t *testing.T) *restoreFixture {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inv.yaml")
	must(t, os.WriteFile(p, []byte(restoreInv), 0o644))
	inv, err := inventory.Load(p)
	must(t, err)
	fx := &restoreFixture{inv: inv, f: lxdfake.New(), loaded: map[string]string{}}
	for _, a := range []string{"x", "karana/balancer", "karana/influxdb", "karana/grafana", "karana/api"} {
		fx.f.Images[a] = lxd.Image{Alias: a, Fingerprint: "fp-" + a}
	}
	fx.f.ExecFn = func(name string, cmd []string, stdin io.Reader, stdout, _ io.Writer) (int, error) {
		script := cmd[len(cmd)-1]
		switch {
		case slices.Contains(cmd, "is-system-running"):
			io.WriteString(stdout, "running\n")
		case strings.Contains(script, "-cf -"):
			fmt.Fprintf(stdout, "data of %s", name)
		case strings.Contains(script, "-xf -"):
			b, _ := io.ReadAll(stdin)
			fx.mu.Lock()
			fx.loaded[name] = string(b)
			fx.mu.Unlock()
		}
		return 0, nil
	}
	fx.e = converge.NewEngine(fx.f, inv, nop{})
	for _, tn := range inv.Tenants { // the tenants' credentials, as their containers use them
		_, _, err := fx.e.Secrets.Ensure(tn.Name, secrets.APIAdminLogin(tn.Domain))
		must(t, err)
	}
	fx.e.Binary = []byte("karana")
	fx.e.WaitHealthy = func(context.Context, netip.Addr, provision.Probe, time.Duration) error { return nil }
	fx.e.Bootstrap = func(context.Context, string, secrets.Credential) error { return nil }
	fx.e.ApplyInner = func(_ context.Context, _ *converge.Engine, inv *inventory.Inventory, _ map[string][]byte) (string, error) {
		fx.rolled++
		return "rolled", nil
	}
	fx.d = Deps{CheckOuter: func(_ context.Context, _ *inventory.Inventory, t inventory.Tenant, _ time.Duration) error {
		fx.checked = append(fx.checked, t.Name)
		return nil
	}}
	return fx
}

func (fx *restoreFixture) run(t *testing.T, c string) {
	t.Helper()
	must(t, fx.f.CreateInstance(context.Background(), lxd.InstanceSpec{Name: c, Image: "x"}))
	must(t, fx.f.StartInstance(context.Background(), c))
}

func TestRestoreOneRoleReplacesOnlyIt(t *testing.T) {
	fx := newRestoreFixture(t)
	acme, _ := fx.inv.Tenant("acme")
	for _, r := range inventory.Roles {
		fx.run(t, acme.ContainerName(r))
	}
	m, err := backup.Take(context.Background(), fx.f, fx.inv, *acme, time.Now())
	must(t, err)
	res, err := Restore(context.Background(), fx.e, fx.d, Request{Name: "acme", Roles: []inventory.Role{inventory.RoleInfluxDB}, Replace: true})
	must(t, err)
	if res.Source != m.Dir || res.Recorded || fx.rolled != 0 {
		t.Errorf("result %+v, rolled %d: want the latest backup, no inventory change, no roll", res, fx.rolled)
	}
	if got := fx.loaded["acme-influx"]; got != "data of acme-influx" {
		t.Errorf("acme-influx got %q", got)
	}
	if len(fx.loaded) != 1 {
		t.Errorf("restored into %v, want only acme-influx", fx.loaded)
	}
	deleted := fx.f.CallsTo("DeleteInstance")
	if len(deleted) != 1 || !strings.Contains(deleted[0], "acme-influx") {
		t.Errorf("deleted %v, want only acme-influx", deleted)
	}
	if !slices.Equal(fx.checked, []string{"acme"}) {
		t.Errorf("checked through lb0: %v", fx.checked)
	}
}

func TestRestoreRemovedTenantFromBackupRecordsItAgain(t *testing.T) {
	fx := newRestoreFixture(t)
	acme, _ := fx.inv.Tenant("acme")
	for _, r := range inventory.Roles {
		fx.run(t, acme.ContainerName(r))
	}
	_, err := backup.Take(context.Background(), fx.f, fx.inv, *acme, time.Now())
	must(t, err)
	for _, r := range inventory.Roles {
		must(t, fx.f.DeleteInstance(context.Background(), acme.ContainerName(r)))
	}
	n, err := inventory.RemoveTenant(fx.inv.Path, "acme")
	must(t, err)
	*fx.inv = *n
	res, err := Restore(context.Background(), fx.e, fx.d, Request{Name: "acme", Replace: true})
	must(t, err)
	back, ok := fx.inv.Tenant("acme")
	if !res.Recorded || !ok || back.Domain != "acme.test" || back.ID != "ACME1" || *back.Slot != 3 {
		t.Fatalf("recorded %v, tenant %+v", res.Recorded, back)
	}
	if onDisk, _ := inventory.Load(fx.inv.Path); onDisk == nil || len(onDisk.Tenants) != 2 {
		t.Errorf("inventory file not written: %+v", onDisk)
	}
	if fx.rolled != 1 {
		t.Errorf("routes rolled %d times, want 1", fx.rolled)
	}
	for _, r := range inventory.Roles {
		c := acme.ContainerName(r)
		if fx.loaded[c] != "data of "+c {
			t.Errorf("%s got %q", c, fx.loaded[c])
		}
		if fx.f.Specs[c].IPv4 != fx.inv.TenantAddr(*back, r).String() {
			t.Errorf("%s address %s", c, fx.f.Specs[c].IPv4)
		}
	}
}

func TestRestoreFromExport(t *testing.T) {
	fx := newRestoreFixture(t)
	acme, _ := fx.inv.Tenant("acme")
	for _, r := range inventory.Roles {
		fx.run(t, acme.ContainerName(r))
	}
	fx.e.ApplyInner = func(context.Context, *converge.Engine, *inventory.Inventory, map[string][]byte) (string, error) {
		fx.rolled++
		return "", nil
	}
	must(t, tenant.Remove(context.Background(), fx.e, tenant.Deps{}, "acme", false))
	n, err := inventory.Load(fx.inv.Path)
	must(t, err)
	*fx.inv = *n
	if _, ok := fx.inv.Tenant("acme"); ok {
		t.Fatal("acme still in the inventory after remove")
	}
	if _, err := Restore(context.Background(), fx.e, fx.d, Request{Name: "nobody", From: FromExport}); err == nil || !strings.Contains(err.Error(), "has no entry") {
		t.Errorf("restore of a tenant without export: %v", err)
	}
	res, err := Restore(context.Background(), fx.e, fx.d, Request{Name: "acme", From: FromExport, Replace: true})
	must(t, err)
	if !res.Recorded || res.BackupAt != nil {
		t.Errorf("result %+v", res)
	}
	if n := len(fx.f.CallsTo("ImportInstance")); n != 3 {
		t.Errorf("imported %d containers, want 3", n)
	}
	for _, r := range inventory.Roles {
		if in := fx.f.Instances[acme.ContainerName(r)]; in == nil || in.Status != "Running" {
			t.Errorf("%s after restore: %+v", acme.ContainerName(r), in)
		}
	}
	if back, _ := fx.inv.Tenant("acme"); back == nil || back.ID != "ACME1" || *back.Slot != 3 {
		t.Errorf("tenant back as %+v", back)
	}
}

func TestRestoreRefusesADamagedBackup(t *testing.T) {
	fx := newRestoreFixture(t)
	acme, _ := fx.inv.Tenant("acme")
	for _, r := range inventory.Roles {
		fx.run(t, acme.ContainerName(r))
	}
	m, err := backup.Take(context.Background(), fx.f, fx.inv, *acme, time.Now())
	must(t, err)
	must(t, os.WriteFile(filepath.Join(m.Dir, "api.tar"), []byte("x"), 0o600))
	_, err = Restore(context.Background(), fx.e, fx.d, Request{Name: "acme", Replace: true})
	if err == nil || !strings.Contains(err.Error(), "does not match its manifest") {
		t.Fatalf("err = %v", err)
	}
	if n := len(fx.f.CallsTo("DeleteInstance")); n != 0 {
		t.Errorf("a damaged backup deleted %d containers", n)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// What up does for a container it had to create: the tenant has a backup,
// so the new, empty container gets the backup's data.
func TestRefillWhatTheRunCreated(t *testing.T) {
	fx := newRestoreFixture(t)
	acme, _ := fx.inv.Tenant("acme")
	for _, r := range inventory.Roles {
		fx.run(t, acme.ContainerName(r))
	}
	if HasBackup(fx.inv, "acme") {
		t.Fatal("backup before any was taken")
	}
	_, err := backup.Take(context.Background(), fx.f, fx.inv, *acme, time.Now())
	must(t, err)
	if !HasBackup(fx.inv, "acme") || HasBackup(fx.inv, "other") {
		t.Fatal("HasBackup wrong")
	}
	must(t, fx.f.DeleteInstance(context.Background(), "acme-influx"))
	must(t, fx.e.Tenant(context.Background(), *acme))
	roles := Created(fx.e.Report, *acme)
	if !slices.Equal(roles, []inventory.Role{inventory.RoleInfluxDB}) {
		t.Fatalf("Created = %v, want only influx", roles)
	}
	must(t, Refill(context.Background(), fx.e, fx.d, "acme", roles))
	if len(fx.loaded) != 1 || fx.loaded["acme-influx"] != "data of acme-influx" {
		t.Errorf("loaded %v", fx.loaded)
	}
}
