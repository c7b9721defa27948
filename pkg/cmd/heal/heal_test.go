package heal

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/fsutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
	"github.com/karana-project/karana/pkg/recovery"
)

func TestNewCmdHeal(t *testing.T) {
	got := cmdtest.MustParse(t, NewCmdHeal, []string{"--watch", "--interval", "2s", "--threshold", "0s", "-o", "json"})
	if !got.Watch || got.Interval != 2*time.Second || got.Threshold != 0 || got.Output != "json" || got.Healer == nil {
		t.Errorf("options = %+v", *got)
	}
	if got := cmdtest.MustParse(t, NewCmdHeal, nil); got.Watch || got.Interval != 5*time.Second || got.Threshold != 10*time.Second {
		t.Errorf("defaults = %+v", *got)
	}
	cmdtest.WantError(t, NewCmdHeal, []string{"--interval", "1ms"}, "--interval 1ms: want at least 100ms", cmdutil.ExitUsage)
	cmdtest.WantError(t, NewCmdHeal, []string{"acme"}, "unknown command", 0)
}

func TestHealRoundSkipsWhileTheLockIsHeld(t *testing.T) {
	p := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(p, []byte("tenants:\n  - {name: acme, domain: acme.test}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ios, out, _ := iostreams.Test()
	fac := &cmdutil.Factory{IOStreams: ios, InventoryFlag: p}
	inv, _ := fac.Inventory()
	held, err := fsutil.TryLock(inv.LockPath(), "karana tenant add acme")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	f := lxdfake.New()
	opts := &Options{IO: ios, Inventory: fac.Inventory, Output: "json", Interval: time.Second, Healer: recovery.NewHealer(0),
		Connect: func(context.Context, *inventory.Inventory) (lxd.Client, error) { return f, nil }}
	r := round(context.Background(), opts, nil)
	if !strings.Contains(r.Skipped, "karana tenant add acme") || len(f.Calls) != 0 {
		t.Fatalf("round while locked: %+v, LXD calls %v", r, f.Calls)
	}
	if err := show(opts, r); err != nil {
		t.Fatal(err)
	}
	var back Round
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || back.Skipped == "" {
		t.Errorf("json %q: %v", out.String(), err)
	}
}

func TestHealWatchEndsCleanlyWhenInterrupted(t *testing.T) {
	p := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(p, []byte("tenants: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ios, out, errOut := iostreams.Test()
	fac := &cmdutil.Factory{IOStreams: ios, InventoryFlag: p}
	f := lxdfake.New()
	opts := &Options{IO: ios, Inventory: fac.Inventory, Output: "text", Watch: true, Interval: 50 * time.Millisecond,
		Healer: recovery.NewHealer(0), Binary: func() ([]byte, error) { return nil, nil },
		Connect: func(context.Context, *inventory.Inventory) (lxd.Client, error) { return f, nil }}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := healRun(ctx, opts); err != nil {
		t.Fatalf("interrupted --watch = %v, want nil", err)
	}
	if len(f.CallsTo("ListInstances")) < 2 {
		t.Errorf("watch looked %d times in 300ms at a 50ms interval", len(f.CallsTo("ListInstances")))
	}
	if out.Len() != 0 || !strings.Contains(errOut.String(), "heal: stopped") {
		t.Errorf("quiet rounds printed %q; stderr %q", out.String(), errOut.String())
	}
}
