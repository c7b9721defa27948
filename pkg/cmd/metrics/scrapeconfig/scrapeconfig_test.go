package scrapeconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/iostreams"
)

func TestNewCmdScrapeConfig(t *testing.T) {
	if got := cmdtest.MustParse(t, NewCmdScrapeConfig, nil); got.Interval != 15*time.Second || got.IO == nil || got.Inventory == nil {
		t.Errorf("defaults: %+v", got)
	}
	if got := cmdtest.MustParse(t, NewCmdScrapeConfig, []string{"--interval", "1m"}); got.Interval != time.Minute {
		t.Errorf("--interval 1m: %+v", got)
	}
	cmdtest.WantError(t, NewCmdScrapeConfig, []string{"--interval", "10ms"}, "must be at least 1s", cmdutil.ExitUsage)
	cmdtest.WantError(t, NewCmdScrapeConfig, []string{"extra"}, "unknown command", 1) // as the other commands: cobra.NoArgs
}

func TestRun(t *testing.T) {
	p := filepath.Join(t.TempDir(), "inv.yaml")
	os.WriteFile(p, []byte("lxd: {project: unit, network: {name: unitbr0, ipv4: 10.0.99.1/24}}\ntenants:\n  - {name: alpha, domain: alpha.example.org, slot: 0}\n"), 0o644)
	ios, out, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, InventoryFlag: p}
	if err := run(&Options{IO: ios, Inventory: f.Inventory, Interval: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"scrape_interval: 30s", "10.0.99.12:9100", "10.0.99.2:8405", "tenant: alpha"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
