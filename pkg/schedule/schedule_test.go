package schedule

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/inventory"
)

func TestInstallWritesUnitsOnceAndNeedsSystemd(t *testing.T) {
	dir := t.TempDir()
	inv, err := inventory.Parse(filepath.Join(dir, "inv.yaml"), []byte("lxd: {project: prod}\nbackups: {schedule: \"*-*-* 03:00:00\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	h := Host{UnitDir: filepath.Join(dir, "units"), PID1: func() string { return "sh" },
		Systemctl: func(_ context.Context, args ...string) error {
			calls = append(calls, strings.Join(args, " "))
			return nil
		}}
	if _, err := Install(context.Background(), h, inv, "/usr/local/bin/karana"); !errors.Is(err, ErrNoSystemd) {
		t.Fatalf("without systemd: %v", err)
	}
	os.MkdirAll(h.UnitDir, 0o755)
	h.PID1 = func() string { return "systemd" }
	did, err := Install(context.Background(), h, inv, "/usr/local/bin/karana")
	if err != nil || !strings.Contains(did, "karana-prod-backup.timer") {
		t.Fatalf("Install = %q, %v", did, err)
	}
	timer, _ := os.ReadFile(filepath.Join(h.UnitDir, "karana-prod-backup.timer"))
	svc, _ := os.ReadFile(filepath.Join(h.UnitDir, "karana-prod-backup.service"))
	heal, _ := os.ReadFile(filepath.Join(h.UnitDir, "karana-prod-heal.service"))
	if !strings.Contains(string(timer), "OnCalendar=*-*-* 03:00:00") ||
		!strings.Contains(string(svc), "ExecStart=/usr/local/bin/karana backup --inventory "+filepath.Join(dir, "inv.yaml")) ||
		!strings.Contains(string(heal), "heal --watch") {
		t.Errorf("units:\n%s\n%s\n%s", timer, svc, heal)
	}
	if strings.Join(calls, "; ") != "daemon-reload; enable --now karana-prod-backup.timer karana-prod-heal.service; restart karana-prod-backup.timer karana-prod-heal.service" {
		t.Errorf("systemctl calls %v", calls)
	}
	calls = nil
	if did, err := Install(context.Background(), h, inv, "/usr/local/bin/karana"); did != "" || err != nil || len(calls) != 0 {
		t.Errorf("second Install = %q, %v, calls %v: want nothing changed", did, err, calls)
	}
}

func TestBackupServiceRenewsCertsWithACME(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "inv.yaml")
	for _, tt := range []struct {
		yaml string
		want bool
	}{
		{"lxd: {project: prod}\n", false},
		{"lxd: {project: prod}\ntls: {acme: {directory: \"https://ca.example/dir\", email: a@b.c}}\n", true},
	} {
		inv, err := inventory.Parse(p, []byte(tt.yaml))
		if err != nil {
			t.Fatal(err)
		}
		units, err := Units(inv, "/usr/local/bin/karana")
		if err != nil {
			t.Fatal(err)
		}
		svc := string(units["karana-prod-backup.service"])
		renew := "ExecStart=-/usr/local/bin/karana certs renew --inventory " + p + "\nExecStart=/usr/local/bin/karana backup"
		if strings.Contains(svc, renew) != tt.want || strings.Contains(svc, "certs renew") != tt.want {
			t.Errorf("%q: backup service\n%s", tt.yaml, svc)
		}
	}
}

// TestUnitsPassSystemdAnalyze checks the units with the host's own
// systemd-analyze, which parses them as systemd would (it needs no running
// systemd), and that a schedule systemd refuses is named before anything
// is written.
func TestUnitsPassSystemdAnalyze(t *testing.T) {
	h := System()
	if h.Analyze == nil {
		t.Skip("no systemd-analyze here")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "inv.yaml")
	for _, yaml := range []string{
		"lxd: {project: prod}\n",
		"lxd: {project: prod}\nbackups: {schedule: \"Mon..Fri *-*-* 03:00:00\"}\n",
		"lxd: {project: prod}\nbackups: {schedule: daily}\ntls: {acme: {directory: \"https://ca.example/dir\", email: a@b.c}}\n",
	} {
		inv, err := inventory.Parse(p, []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		units, err := Units(inv, "/bin/true")
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(context.Background(), h, inv, units); err != nil {
			t.Errorf("%s: %v", yaml, err)
		}
	}
	inv, err := inventory.Parse(p, []byte("lxd: {project: prod}\nbackups: {schedule: dayly}\n"))
	if err != nil {
		t.Fatal(err) // the characters are fine: only systemd knows
	}
	units, _ := Units(inv, "/bin/true")
	if err := Check(context.Background(), h, inv, units); err == nil || !strings.Contains(err.Error(), `backups.schedule "dayly"`) {
		t.Errorf("schedule dayly: %v, want an error naming backups.schedule", err)
	}
	h.UnitDir, h.PID1 = filepath.Join(dir, "units"), func() string { return "systemd" }
	h.Systemctl = func(context.Context, ...string) error { t.Error("systemctl called"); return nil }
	if _, err := Install(context.Background(), h, inv, "/bin/true"); err == nil {
		t.Error("Install of a refused schedule succeeded")
	}
	if _, err := os.Stat(h.UnitDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused schedule wrote the unit folder: %v", err)
	}
	// A unit systemd refuses (a relative ExecStart) is caught as well.
	inv, _ = inventory.Parse(p, []byte("lxd: {project: prod}\n"))
	units, _ = Units(inv, "karana")
	if err := Check(context.Background(), System(), inv, units); err == nil {
		t.Error("a relative ExecStart passed the check")
	}
}

// TestInstallPutsBackUnitsWhenSystemctlFails: a failed enable leaves the
// unit files as they were, so the next run writes and enables them again
// instead of finding them unchanged and doing nothing.
func TestInstallPutsBackUnitsWhenSystemctlFails(t *testing.T) {
	dir := t.TempDir()
	inv, err := inventory.Parse(filepath.Join(dir, "inv.yaml"), []byte("lxd: {project: prod}\n"))
	if err != nil {
		t.Fatal(err)
	}
	units := filepath.Join(dir, "units")
	os.MkdirAll(units, 0o755)
	old := []byte("# an older timer\n")
	os.WriteFile(filepath.Join(units, "karana-prod-backup.timer"), old, 0o644)
	var calls []string
	fail := true
	h := Host{UnitDir: units, PID1: func() string { return "systemd" },
		Systemctl: func(_ context.Context, args ...string) error {
			calls = append(calls, strings.Join(args, " "))
			if fail && args[0] == "enable" {
				return errors.New("systemctl enable: exit status 1")
			}
			return nil
		}}
	if _, err := Install(context.Background(), h, inv, "/usr/local/bin/karana"); err == nil || !strings.Contains(err.Error(), "previous unit files are back") {
		t.Fatalf("Install with a failing enable: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(units, "karana-prod-backup.timer")); string(b) != string(old) {
		t.Errorf("timer after the failure: %q, want the older one back", b)
	}
	for _, n := range []string{"karana-prod-backup.service", "karana-prod-heal.service"} {
		if _, err := os.Stat(filepath.Join(units, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is left after the failure: %v", n, err)
		}
	}
	if last := calls[len(calls)-1]; last != "daemon-reload" {
		t.Errorf("after the failure systemctl was last asked %q, want daemon-reload", last)
	}
	fail, calls = false, nil
	did, err := Install(context.Background(), h, inv, "/usr/local/bin/karana")
	if err != nil || !strings.Contains(did, "karana-prod-backup.timer") || len(calls) != 3 {
		t.Errorf("the next run: %q, %v, calls %v: want all three units written and enabled", did, err, calls)
	}
}
