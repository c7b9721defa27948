// Package schedule installs what runs karana's periodic jobs on the host:
// a systemd timer for `karana backup` on the inventory's schedule and a
// service running `karana heal --watch`, when systemd is PID 1.
package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/karana-project/karana/pkg/fsutil"
	"github.com/karana-project/karana/pkg/inventory"
)

// Host is where units go and how systemd is asked; tests replace it.
type Host struct {
	UnitDir   string                                          // /etc/systemd/system
	PID1      func() string                                   // the name of PID 1
	Systemctl func(ctx context.Context, args ...string) error // systemctl
}

// System is the real host.
func System() Host {
	return Host{
		UnitDir: "/etc/systemd/system",
		PID1: func() string {
			b, _ := os.ReadFile("/proc/1/comm")
			return strings.TrimSpace(string(b))
		},
		Systemctl: func(ctx context.Context, args ...string) error {
			out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("systemctl %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
			}
			return nil
		},
	}
}

// ErrNoSystemd says the host does not run systemd as PID 1.
var ErrNoSystemd = errors.New("systemd is not PID 1 here")

// Names of the units of an inventory's project.
func Names(inv *inventory.Inventory) (backupService, backupTimer, healService string) {
	p := "karana-" + inv.LXD.Project
	return p + "-backup.service", p + "-backup.timer", p + "-heal.service"
}

// Units are the unit files for inv, running bin (absolute paths).
func Units(inv *inventory.Inventory, bin string) (map[string][]byte, error) {
	invPath, err := filepath.Abs(inv.Path)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(invPath+bin, "\n\" %$\\") {
		return nil, fmt.Errorf("the inventory path %q or binary %q has characters a unit file cannot carry", invPath, bin)
	}
	bs, bt, hs := Names(inv)
	// ACME certificates are renewed on the backup schedule, first; "-": a
	// CA that does not answer must not cost the backup (docs/tls.md).
	renew := ""
	if inv.TLS.ACME != nil {
		renew = fmt.Sprintf("ExecStart=-%s certs renew --inventory %s\n", bin, invPath)
	}
	head := "# Written by karana up for " + invPath + "; changes are overwritten.\n"
	return map[string][]byte{
		bs: []byte(head + fmt.Sprintf(`[Unit]
Description=karana backup of project %[1]s
After=network-online.target

[Service]
Type=oneshot
%[4]sExecStart=%[2]s backup --inventory %[3]s
`, inv.LXD.Project, bin, invPath, renew)),
		bt: []byte(head + fmt.Sprintf(`[Unit]
Description=karana backup of project %[1]s, %[2]s

[Timer]
OnCalendar=%[2]s
Persistent=true
RandomizedDelaySec=60

[Install]
WantedBy=timers.target
`, inv.LXD.Project, inv.Backups.Schedule)),
		hs: []byte(head + fmt.Sprintf(`[Unit]
Description=karana heal --watch of project %[1]s
After=network-online.target lxd.service snap.lxd.daemon.service

[Service]
ExecStart=%[2]s heal --watch --inventory %[3]s
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
`, inv.LXD.Project, bin, invPath)),
	}, nil
}

// Install writes the units that differ and enables the timer and the heal
// service. It reports what it changed ("" when nothing), or ErrNoSystemd.
func Install(ctx context.Context, h Host, inv *inventory.Inventory, bin string) (string, error) {
	if h.PID1() != "systemd" {
		return "", ErrNoSystemd
	}
	units, err := Units(inv, bin)
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(units))
	for n := range units {
		names = append(names, n)
	}
	sort.Strings(names)
	var written []string
	for _, n := range names {
		p := filepath.Join(h.UnitDir, n)
		if have, err := os.ReadFile(p); err == nil && bytes.Equal(have, units[n]) {
			continue
		}
		if err := fsutil.WriteFile(p, units[n], 0o644); err != nil {
			return "", err
		}
		written = append(written, n)
	}
	if len(written) == 0 {
		return "", nil
	}
	_, bt, hs := Names(inv)
	if err := h.Systemctl(ctx, "daemon-reload"); err != nil {
		return "", err
	}
	if err := h.Systemctl(ctx, "enable", "--now", bt, hs); err != nil {
		return "", err
	}
	if err := h.Systemctl(ctx, "restart", bt, hs); err != nil {
		return "", err
	}
	return "installed " + strings.Join(written, ", "), nil
}
