package restore

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

func TestNewCmdRestore(t *testing.T) {
	got := cmdtest.MustParse(t, NewCmdRestore, []string{"acme", "--from", "export", "--role", "influx", "--role", "api", "-o", "json"})
	if got.Name != "acme" || got.From != "export" || !slices.Equal(got.Roles, []inventory.Role{"influx", "api"}) || got.Output != "json" {
		t.Errorf("options = %+v", *got)
	}
	if got.IO == nil || got.Inventory == nil || got.Connect == nil || got.Binary == nil || got.Deps.Reconcile == nil || got.Deps.Tenant.Validate == nil {
		t.Errorf("dependencies not wired: %+v", *got)
	}
	if got := cmdtest.MustParse(t, NewCmdRestore, []string{"acme"}); got.From != "" || got.Roles != nil {
		t.Errorf("defaults: %+v", *got)
	}
	cmdtest.WantError(t, NewCmdRestore, []string{"acme", "--role", "db"}, `--role: unknown role "db"`, cmdutil.ExitUsage)
	cmdtest.WantError(t, NewCmdRestore, []string{"Bad_Name"}, "tenant name: ", cmdutil.ExitUsage)
	cmdtest.WantError(t, NewCmdRestore, nil, "give a tenant NAME, or --all", cmdutil.ExitUsage)
	cmdtest.WantError(t, NewCmdRestore, []string{"acme", "--all"}, "not both", cmdutil.ExitUsage)
	cmdtest.WantError(t, NewCmdRestore, []string{"--all", "--from", "x"}, "--all restores each tenant's latest", cmdutil.ExitUsage)
	if got := cmdtest.MustParse(t, NewCmdRestore, []string{"--all"}); !got.All || got.Name != "" {
		t.Errorf("--all: %+v", *got)
	}
}

func TestRestoreRunWithoutBackup(t *testing.T) {
	p := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(p, []byte("tenants:\n  - {name: acme, domain: acme.test}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ios, _, _ := iostreams.Test()
	fac := &cmdutil.Factory{IOStreams: ios, InventoryFlag: p}
	f := lxdfake.New()
	opts := &Options{IO: ios, Inventory: fac.Inventory, Name: "acme", Output: "text",
		Connect: func(context.Context, *inventory.Inventory) (lxd.Client, error) { return f, nil },
		Binary:  func() ([]byte, error) { return []byte("k"), nil }}
	err := restoreRun(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "no complete backup") || !strings.Contains(err.Error(), "karana backup acme") {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.CallsTo("DeleteInstance")) + len(f.CallsTo("CreateInstance")); n != 0 {
		t.Errorf("%d LXD changes without a backup", n)
	}
}
