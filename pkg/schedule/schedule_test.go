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
