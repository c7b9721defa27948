package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
)

// fakeExec plays the containers: a save script prints "data of <name>",
// a load script's stdin is recorded per container.
type fakeExec struct {
	mu     sync.Mutex
	fail   map[string]error // container -> error of its save
	loaded map[string]string
	cmds   []string
}

func (f *fakeExec) Exec(_ context.Context, name string, cmd []string, stdin io.Reader, stdout, _ io.Writer) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	script := cmd[len(cmd)-1]
	f.cmds = append(f.cmds, name+": "+strings.SplitN(script, "\n", 3)[1])
	if strings.Contains(script, "tar -C") && strings.Contains(script, "-cf -") {
		if err := f.fail[name]; err != nil {
			return -1, err
		}
		fmt.Fprintf(stdout, "data of %s", name)
		return 0, nil
	}
	b, _ := io.ReadAll(stdin)
	if f.loaded == nil {
		f.loaded = map[string]string{}
	}
	f.loaded[name] = string(b)
	return 0, nil
}

func fixture(t *testing.T) (*inventory.Inventory, inventory.Tenant) {
	t.Helper()
	inv, err := inventory.Parse(filepath.Join(t.TempDir(), "inv.yaml"), []byte("lxd: {project: p}\ntenants:\n  - {name: acme, domain: acme.test, id: ID1, slot: 4}\n"))
	if err != nil {
		t.Fatal(err)
	}
	return inv, inv.Tenants[0]
}

func at(min int) time.Time { return time.Date(2026, 12, 1, 10, min, 0, 0, time.UTC) }

func TestTakeWritesACompleteVerifiedBackup(t *testing.T) {
	inv, tn := fixture(t)
	fx := &fakeExec{}
	m, err := Take(context.Background(), fx, inv, tn, at(0))
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "20261201T100000.000Z" || m.Dir != filepath.Join(inv.BackupDir(), "acme", m.ID) {
		t.Errorf("id %s dir %s", m.ID, m.Dir)
	}
	if m.Tenant.Domain != "acme.test" || m.Tenant.ID != "ID1" || *m.Tenant.Slot != 4 {
		t.Errorf("tenant entry = %+v", m.Tenant)
	}
	if len(m.Parts) != 3 || m.Size() != int64(len("data of acme-influx")+len("data of acme-grafana")+len("data of acme-api")) {
		t.Errorf("parts %+v size %d", m.Parts, m.Size())
	}
	back, err := Read(m.Dir)
	if err != nil || back.Parts[0].SHA256 != m.Parts[0].SHA256 || back.Parts[0].SHA256 == "" {
		t.Fatalf("manifest read back = %+v, %v", back, err)
	}
	if err := Verify(back); err != nil {
		t.Error(err)
	}
	if ents, _ := os.ReadDir(TenantDir(inv, "acme")); len(ents) != 1 {
		t.Errorf("tenant folder holds %d entries, want only the backup", len(ents))
	}
	// Damage is found before anything is restored.
	must(t, os.WriteFile(filepath.Join(m.Dir, "api.tar"), []byte("data of acme-apX"), 0o600))
	if err := Verify(back); err == nil || !strings.Contains(err.Error(), "api.tar") {
		t.Errorf("Verify of a damaged part = %v", err)
	}
	if _, err := RestorePart(context.Background(), fx, back, inventory.RoleAPI, "acme-api"); err == nil {
		t.Error("RestorePart restored a damaged part")
	}
	if _, ok := fx.loaded["acme-api"]; ok {
		t.Error("a damaged part reached the container")
	}
	if _, err := RestorePart(context.Background(), fx, back, inventory.RoleInfluxDB, "acme-influx"); err != nil {
		t.Fatal(err)
	}
	if got := fx.loaded["acme-influx"]; got != "data of acme-influx" {
		t.Errorf("influx got %q", got)
	}
}

func TestFailedOrKilledBackupIsNeverTheLatest(t *testing.T) {
	inv, tn := fixture(t)
	fx := &fakeExec{}
	ctx := context.Background()
	first, err := Take(ctx, fx, inv, tn, at(0))
	must(t, err)
	fx.fail = map[string]error{"acme-grafana": errors.New("container not running")}
	if _, err := Take(ctx, fx, inv, tn, at(1)); err == nil || !strings.Contains(err.Error(), "acme-grafana") {
		t.Fatalf("Take with a failing part = %v", err)
	}
	// A run killed half-way leaves a partial folder with some parts.
	killed := filepath.Join(TenantDir(inv, "acme"), partialPrefix+at(2).Format(IDLayout))
	must(t, os.MkdirAll(killed, 0o700))
	must(t, os.WriteFile(filepath.Join(killed, "influx.tar"), []byte("half"), 0o600))
	// So does a folder whose manifest never got written.
	must(t, os.MkdirAll(filepath.Join(TenantDir(inv, "acme"), at(3).Format(IDLayout)), 0o700))
	latest, err := Find(inv, "acme", "")
	if err != nil || latest.ID != first.ID {
		t.Fatalf("latest = %+v, %v; want %s", latest, err, first.ID)
	}
	fx.fail = nil
	second, err := Take(ctx, fx, inv, tn, at(4))
	must(t, err)
	if _, err := os.Stat(killed); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("partial backup left after the next one: %v", err)
	}
	if latest, _ := Find(inv, "acme", ""); latest.ID != second.ID {
		t.Errorf("latest = %s, want %s", latest.ID, second.ID)
	}
	if m, err := Find(inv, "acme", first.ID); err != nil || m.ID != first.ID {
		t.Errorf("Find by id = %v, %v", m, err)
	}
	if _, err := Find(inv, "acme", "nope"); err == nil {
		t.Error("Find of an unknown id succeeded")
	}
	if _, err := Find(inv, "other", ""); !errors.Is(err, ErrNoBackup) {
		t.Errorf("Find for a tenant without backups = %v", err)
	}
}

func TestPruneKeepsTheNewest(t *testing.T) {
	inv, tn := fixture(t)
	fx := &fakeExec{}
	for i := 0; i < 5; i++ {
		_, err := Take(context.Background(), fx, inv, tn, at(i))
		must(t, err)
	}
	gone, err := Prune(inv, "acme", 2)
	must(t, err)
	if len(gone) != 3 || gone[0] != at(0).Format(IDLayout) {
		t.Errorf("pruned %v", gone)
	}
	must(t, os.MkdirAll(filepath.Join(inv.BackupDir(), "gone"), 0o700))
	must(t, os.MkdirAll(filepath.Join(inv.BackupDir(), ".partial-x"), 0o700))
	if got := strings.Join(Tenants(inv), ","); got != "acme,gone" {
		t.Errorf("Tenants = %s, want acme,gone (a removed tenant's folder too)", got)
	}
	left, _ := List(inv, "acme")
	if len(left) != 2 || left[0].ID != at(3).Format(IDLayout) || left[1].ID != at(4).Format(IDLayout) {
		t.Errorf("left %v", left)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
