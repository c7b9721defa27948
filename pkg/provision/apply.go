package provision

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/karana-project/karana/pkg/lxd"
)

// Runner is the part of the LXD client provisioning uses.
type Runner interface {
	Exec(ctx context.Context, name string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error)
	PushFile(ctx context.Context, name, path string, data []byte, mode os.FileMode) error
	PullFile(ctx context.Context, name, path string) ([]byte, error)
}

// Run executes cmd in container and fails with its output when it exits
// non-zero.
func Run(ctx context.Context, r Runner, container string, cmd ...string) (string, error) {
	var out bytes.Buffer
	code, err := r.Exec(ctx, container, cmd, nil, &out, &out)
	if err != nil {
		return "", fmt.Errorf("running %q in %s: %w", strings.Join(cmd, " "), container, err)
	}
	if code != 0 {
		return out.String(), fmt.Errorf("running %q in %s: exit %d: %s", strings.Join(cmd, " "), container, code, lastLines(out.String(), 5))
	}
	return out.String(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// Apply brings container to role: packages when missing (plain images),
// files that differ pushed, the unit enabled and running, restarted when a
// file changed. It reports what it changed ("" when nothing).
func Apply(ctx context.Context, r Runner, container string, role Role, plainImage bool) (string, error) {
	var did []string
	if plainImage && len(role.Packages) > 0 {
		installed, err := installPackages(ctx, r, container, role)
		if err != nil {
			return "", err
		}
		if installed {
			did = append(did, "packages installed")
		}
	}
	changed, unitChanged := 0, false
	for _, f := range role.Files {
		same, err := sameFile(ctx, r, container, f)
		if err != nil {
			return "", err
		}
		if same {
			continue
		}
		if err := pushFile(ctx, r, container, f); err != nil {
			return "", err
		}
		changed++
		unitChanged = unitChanged || strings.HasPrefix(f.Path, "/etc/systemd/")
	}
	if changed > 0 {
		did = append(did, fmt.Sprintf("%d file(s) written", changed))
	}
	pruned, err := prune(ctx, r, container, role)
	if err != nil {
		return "", err
	}
	if pruned > 0 {
		did = append(did, fmt.Sprintf("%d stale file(s) removed", pruned))
		changed++
	}
	restarted, err := ensureUnit(ctx, r, container, role, changed > 0, unitChanged)
	if err != nil {
		return "", err
	}
	if restarted != "" {
		did = append(did, restarted)
	}
	return strings.Join(did, ", "), nil
}

func sameFile(ctx context.Context, r Runner, container string, f File) (bool, error) {
	if len(f.Data) > largeFileDigest {
		// Compared through a small digest file written beside it: cheaper
		// than pulling megabytes, and steadier than parsing exec output.
		have, err := r.PullFile(ctx, container, f.Path+".sha256")
		if errors.Is(err, lxd.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("reading %s.sha256 in %s: %w", f.Path, container, err)
		}
		return strings.TrimSpace(string(have)) == digest(f.Data), nil
	}
	have, err := r.PullFile(ctx, container, f.Path)
	if errors.Is(err, lxd.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s in %s: %w", f.Path, container, err)
	}
	return bytes.Equal(have, f.Data), nil
}

func pushFile(ctx context.Context, r Runner, container string, f File) error {
	if _, err := Run(ctx, r, container, "mkdir", "-p", path.Dir(f.Path)); err != nil {
		return err
	}
	if len(f.Data) <= largeFileDigest {
		if err := r.PushFile(ctx, container, f.Path, f.Data, f.Mode); err != nil {
			return fmt.Errorf("writing %s in %s: %w", f.Path, container, err)
		}
	} else if err := pushRename(ctx, r, container, f); err != nil {
		return err
	}
	if f.Group != "" {
		// The group exists once the package is installed; a missing
		// group leaves the file root's, which only root can read.
		cmd := fmt.Sprintf("getent group %s >/dev/null && chgrp %s %s || true", f.Group, f.Group, f.Path)
		if _, err := Run(ctx, r, container, "sh", "-c", cmd); err != nil {
			return err
		}
	}
	return nil
}

// pushRename pushes a large file (the karana binary) beside its place and
// renames it over: a running binary cannot be written (Text file busy),
// and a half-pushed one never runs.
func pushRename(ctx context.Context, r Runner, container string, f File) error {
	tmp := f.Path + ".karana-new"
	if err := r.PushFile(ctx, container, tmp, f.Data, f.Mode); err != nil {
		return fmt.Errorf("writing %s in %s: %w", f.Path, container, err)
	}
	if _, err := Run(ctx, r, container, "mv", "-f", tmp, f.Path); err != nil {
		return err
	}
	if err := r.PushFile(ctx, container, f.Path+".sha256", []byte(digest(f.Data)+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing %s.sha256 in %s: %w", f.Path, container, err)
	}
	return nil
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ensureUnit enables and starts unit, restarting it when its files changed.
func ensureUnit(ctx context.Context, r Runner, container string, role Role, filesChanged, unitFileChanged bool) (string, error) {
	unit := role.Unit
	if unit == "" {
		return "", nil
	}
	if unitFileChanged {
		if _, err := Run(ctx, r, container, "systemctl", "daemon-reload"); err != nil {
			return "", err
		}
	}
	code, err := r.Exec(ctx, container, []string{"systemctl", "is-active", "--quiet", unit}, nil, io.Discard, io.Discard)
	if err != nil {
		return "", fmt.Errorf("checking %s in %s: %w", unit, container, err)
	}
	active := code == 0
	if filesChanged && active && role.Reload {
		if _, err := Run(ctx, r, container, "systemctl", "reload", unit); err != nil {
			return "", err
		}
		return unit + " reloaded", nil
	}
	if filesChanged {
		if _, err := Run(ctx, r, container, "systemctl", "enable", "--quiet", unit); err != nil {
			return "", err
		}
		if _, err := Run(ctx, r, container, "systemctl", "restart", unit); err != nil {
			return "", err
		}
		return unit + " restarted", nil
	}
	if active {
		return "", nil
	}
	if _, err := Run(ctx, r, container, "systemctl", "enable", "--now", "--quiet", unit); err != nil {
		return "", err
	}
	return unit + " started", nil
}

// installPackages installs role.Packages when the role's unit is unknown
// to systemd: the container came from a plain distribution image.
func installPackages(ctx context.Context, r Runner, container string, role Role) (bool, error) {
	code, err := r.Exec(ctx, container, []string{"sh", "-c", "systemctl cat " + role.Unit + " >/dev/null 2>&1"}, nil, io.Discard, io.Discard)
	if err != nil {
		return false, fmt.Errorf("checking packages in %s: %w", container, err)
	}
	if code == 0 {
		return false, nil
	}
	script := "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq " + strings.Join(role.Packages, " ")
	if _, err := Run(ctx, r, container, "sh", "-c", script); err != nil {
		return false, fmt.Errorf("installing %s: %w", strings.Join(role.Packages, ", "), err)
	}
	return true, nil
}

// prune removes files under role.Prune that role.Files does not list: the
// certificates of tenants that are gone.
func prune(ctx context.Context, r Runner, container string, role Role) (int, error) {
	if role.Prune == "" {
		return 0, nil
	}
	out, err := Run(ctx, r, container, "sh", "-c", "find "+role.Prune+" -type f 2>/dev/null || true")
	if err != nil {
		return 0, err
	}
	keep := map[string]bool{}
	for _, f := range role.Files {
		keep[f.Path] = true
	}
	var stale []string
	for _, p := range strings.Fields(out) {
		if !keep[p] && strings.HasPrefix(p, role.Prune+"/") {
			stale = append(stale, p)
		}
	}
	if len(stale) == 0 {
		return 0, nil
	}
	if _, err := Run(ctx, r, container, append([]string{"rm", "-f", "--"}, stale...)...); err != nil {
		return 0, err
	}
	return len(stale), nil
}

// Diff lists the files of role that container does not hold as they
// should be, without changing anything (for --dry-run).
func Diff(ctx context.Context, r Runner, container string, role Role) ([]string, error) {
	var d []string
	for _, f := range role.Files {
		same, err := sameFile(ctx, r, container, f)
		if err != nil {
			return nil, err
		}
		if !same {
			d = append(d, f.Path)
		}
	}
	return d, nil
}
