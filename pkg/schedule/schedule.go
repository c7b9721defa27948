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
	// Analyze runs systemd-analyze, which checks the schedule and the
	// units before anything is written; nil skips the checks.
	Analyze func(ctx context.Context, args ...string) error
}

// System is the real host.
func System() Host {
	return Host{
		UnitDir: "/etc/systemd/system",
		PID1: func() string {
			b, _ := os.ReadFile("/proc/1/comm")
			return strings.TrimSpace(string(b))
		},
		Systemctl: func(ctx context.Context, args ...string) error { return run(ctx, "systemctl", args...) },
		Analyze:   analyze(),
	}
}

// analyze is systemd-analyze, or nil where it is not installed.
func analyze() func(ctx context.Context, args ...string) error {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		return nil
	}
	return func(ctx context.Context, args ...string) error { return run(ctx, "systemd-analyze", args...) }
}

func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
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
// The schedule and the units are checked by systemd-analyze first, so a
// schedule systemd refuses is an error that names it, before anything is
// written; a systemctl failure puts the previous unit files back, so that
// the next run writes and enables them again.
func Install(ctx context.Context, h Host, inv *inventory.Inventory, bin string) (string, error) {
	if h.PID1() != "systemd" {
		return "", ErrNoSystemd
	}
	units, err := Units(inv, bin)
	if err != nil {
		return "", err
	}
	if err := Check(ctx, h, inv, units); err != nil {
		return "", err
	}
	names := make([]string, 0, len(units))
	for n := range units {
		names = append(names, n)
	}
	sort.Strings(names)
	var written []string
	previous := map[string][]byte{} // nil: there was no file (os.ReadFile gives an empty file as non-nil)
	for _, n := range names {
		p := filepath.Join(h.UnitDir, n)
		have, err := os.ReadFile(p)
		if err == nil && bytes.Equal(have, units[n]) {
			continue
		}
		if err := fsutil.WriteFile(p, units[n], 0o644); err != nil {
			return "", errors.Join(err, restore(h.UnitDir, previous))
		}
		previous[n] = have
		written = append(written, n)
	}
	if len(written) == 0 {
		return "", nil
	}
	_, bt, hs := Names(inv)
	for _, args := range [][]string{{"daemon-reload"}, {"enable", "--now", bt, hs}, {"restart", bt, hs}} {
		if err := h.Systemctl(ctx, args...); err != nil {
			if rerr := restore(h.UnitDir, previous); rerr != nil {
				return "", errors.Join(err, rerr)
			}
			h.Systemctl(ctx, "daemon-reload")
			return "", fmt.Errorf("%w (the previous unit files are back in %s)", err, h.UnitDir)
		}
	}
	return "installed " + strings.Join(written, ", "), nil
}

// Check asks systemd-analyze whether systemd accepts the backup schedule
// and the units (h.Analyze; nil checks nothing).
func Check(ctx context.Context, h Host, inv *inventory.Inventory, units map[string][]byte) error {
	if h.Analyze == nil {
		return nil
	}
	if err := h.Analyze(ctx, "calendar", inv.Backups.Schedule); err != nil {
		return fmt.Errorf("%s: backups.schedule %q: systemd does not accept it: %w", inv.Path, inv.Backups.Schedule, err)
	}
	dir, err := os.MkdirTemp("", "karana-units-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	args := []string{"verify"}
	for n, b := range units {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
		args = append(args, p)
	}
	sort.Strings(args[1:])
	if err := h.Analyze(ctx, args...); err != nil {
		return fmt.Errorf("the units for project %s do not pass systemd's check: %w", inv.LXD.Project, err)
	}
	return nil
}

// restore puts back the unit files Install replaced: each previous
// content, or no file where there was none.
func restore(dir string, previous map[string][]byte) error {
	var errs []error
	for n, b := range previous {
		p := filepath.Join(dir, n)
		if b == nil {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		errs = append(errs, fsutil.WriteFile(p, b, 0o644))
	}
	return errors.Join(errs...)
}
