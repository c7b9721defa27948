package tenant

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

type nopProgress struct{}

func (nopProgress) Start(string, ...any) {}
func (nopProgress) End(string)           {}
func (nopProgress) Fail(string)          {}

func removeFixture(t *testing.T) (*converge.Engine, *lxdfake.Fake) {
	t.Helper()
	f := lxdfake.New()
	ctx := context.Background()
	for _, r := range inventory.Roles {
		name := "acme-" + string(r)
		if err := f.CreateInstance(ctx, lxd.InstanceSpec{Name: name, Image: "remote:debian"}); err != nil {
			t.Fatal(err)
		}
		if err := f.StartInstance(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	inv := &inventory.Inventory{Path: filepath.Join(t.TempDir(), "inv.yaml")}
	inv.LXD.Project = "p"
	return converge.NewEngine(f, inv, nopProgress{}), f
}

func exportDirEntries(t *testing.T, inv *inventory.Inventory) []string {
	t.Helper()
	ents, err := os.ReadDir(ExportDir(inv))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestRemoveContainersExportsEachAndResumes(t *testing.T) {
	e, f := removeFixture(t)
	ctx := context.Background()
	// A temporary file a killed run left behind goes away.
	stale := filepath.Join(ExportDir(e.Inv), ".acme-api.tar.zst.tmp-123")
	must(t, os.MkdirAll(filepath.Dir(stale), 0o700))
	must(t, os.WriteFile(stale, []byte("half"), 0o600))
	f.Fail = map[string]error{"ExportInstance acme-grafana": errors.New("disk full")}

	err := removeContainers(ctx, e, "acme", false)
	if err == nil || !strings.Contains(err.Error(), "acme-grafana") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the grafana export failure", err)
	}
	if _, ok := f.Instances["acme-grafana"]; !ok {
		t.Error("acme-grafana was deleted although its export failed")
	}
	for _, c := range []string{"acme-influx", "acme-api"} {
		if _, ok := f.Instances[c]; ok {
			t.Errorf("%s not deleted: one failing container must not stop the others", c)
		}
	}
	got := strings.Join(exportDirEntries(t, e.Inv), " ")
	if got != "acme-api.tar.zst acme-influx.tar.zst" {
		t.Errorf("exports after the failure: %q, want only the two finished ones (no temp files, no grafana)", got)
	}

	f.Fail = nil
	must(t, removeContainers(ctx, e, "acme", false))
	if len(f.Instances) != 0 {
		t.Errorf("left: %v", f.Instances)
	}
	for _, r := range inventory.Roles {
		c := "acme-" + string(r)
		b, err := os.ReadFile(ExportPath(e.Inv, c))
		if err != nil || !strings.Contains(string(b), "backup of "+c) {
			t.Errorf("export of %s = %q, %v", c, b, err)
		}
	}
	if n := len(f.CallsTo("ExportInstance")); n != 4 {
		t.Errorf("ExportInstance called %d times, want 3 then the resumed 1", n)
	}
}

func TestRemoveContainersPurgeExportsNothing(t *testing.T) {
	e, f := removeFixture(t)
	must(t, removeContainers(context.Background(), e, "acme", true))
	if len(f.Instances) != 0 || len(f.CallsTo("ExportInstance")) != 0 {
		t.Errorf("purge: left %v, exports %v", f.Instances, f.CallsTo("ExportInstance"))
	}
	if _, err := os.Stat(ExportDir(e.Inv)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("purge created %s: %v", ExportDir(e.Inv), err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
