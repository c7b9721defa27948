package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/karana-project/karana/pkg/host"
)

// Defaults of a Base.
const (
	DefaultMirror   = "http://deb.debian.org/debian"
	DefaultSecurity = "http://deb.debian.org/debian-security"
	DefaultSuite    = "bookworm"
	DefaultCacheDir = "/var/cache/karana"
)

// Base is the Debian release every image starts from.
type Base struct {
	Suite    string // e.g. bookworm
	Mirror   string // Debian mirror debootstrap and apt use
	Security string // security mirror; "" leaves it out
}

// BuildTools are the programs an image build runs (binary -> Debian
// package); missing ones are installed with apt-get before the first build.
var BuildTools = map[string]string{"debootstrap": "debootstrap", "mksquashfs": "squashfs-tools"}

// HostBase is the host's own Debian release (bookworm when the host is
// not Debian) from the default mirrors, with mirror overriding.
func HostBase(mirror string) Base {
	b := Base{Suite: DefaultSuite, Mirror: DefaultMirror, Security: DefaultSecurity}
	if o, err := host.ReadOSRelease(); err == nil && o.ID == "debian" && o.Codename != "" {
		b.Suite = o.Codename
	}
	if mirror != "" {
		b.Mirror = strings.TrimSuffix(mirror, "/")
	}
	return b
}

// key names the cached tree of this base.
func (b Base) key() string {
	h := sha256.Sum256([]byte(strings.Join([]string{recipeVersion, b.Suite, b.Mirror, b.Security,
		strings.Join(BasePackages, ","), rootfsConfigVersion()}, "\n")))
	return b.Suite + "-" + hex.EncodeToString(h[:])[:12]
}

// ensureBase returns the cached base tree, debootstrapping it first when
// missing. Concurrent builds wait for each other on a lock file; a failed
// debootstrap leaves no half tree behind.
func ensureBase(ctx context.Context, cache string, b Base, log func(string)) (string, bool, error) {
	dir := filepath.Join(cache, "base", b.key())
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", false, err
	}
	unlock, err := lock(filepath.Join(cache, "base.lock"))
	if err != nil {
		return "", false, err
	}
	defer unlock()
	if _, err := os.Stat(filepath.Join(dir, ".karana-complete")); err == nil {
		return dir, false, nil
	}
	tmp := dir + ".tmp"
	if err := removeTree(tmp); err != nil {
		return "", false, err
	}
	args := []string{"--variant=minbase", "--include=" + strings.Join(BasePackages, ","),
		"--cache-dir=" + filepath.Join(cache, "debs"), b.Suite, tmp, b.Mirror}
	if err := os.MkdirAll(filepath.Join(cache, "debs"), 0o755); err != nil {
		return "", false, err
	}
	if pkgs, err := host.EnsureTools(ctx, BuildTools); err != nil {
		return "", false, err
	} else if len(pkgs) > 0 {
		log("installed " + strings.Join(pkgs, ", "))
	}
	log("debootstrap " + strings.Join(args, " "))
	if err := run(ctx, "debootstrap", args...); err != nil {
		_ = removeTree(tmp)
		return "", false, err
	}
	if err := setupBase(ctx, tmp, b); err != nil {
		_ = removeTree(tmp)
		return "", false, err
	}
	if err := os.WriteFile(filepath.Join(tmp, ".karana-complete"), nil, 0o644); err != nil {
		return "", false, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", false, err
	}
	return dir, true, nil
}

func setupBase(ctx context.Context, dir string, b Base) error {
	files := slices.Concat(baseFiles, []File{{Path: "/etc/apt/sources.list", Data: []byte(sourcesList(b)), Mode: 0o644}})
	if err := writeFiles(dir, files); err != nil {
		return err
	}
	return chroot(ctx, dir, baseSetup)
}

func writeFiles(root string, files []File) error {
	for _, f := range files {
		p := filepath.Join(root, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return err
		}
		if err := os.Chmod(p, f.Mode); err != nil {
			return err
		}
	}
	return nil
}

// chroot runs script lines with sh -e inside root, with /proc mounted,
// the host's resolv.conf for DNS and services kept from starting. It puts
// everything back (even on failure), so root is left packable.
func chroot(ctx context.Context, root string, script []string) (err error) {
	resolv := filepath.Join(root, "etc/resolv.conf")
	oldResolv, _ := os.Readlink(resolv)
	policy := filepath.Join(root, "usr/sbin/policy-rc.d")
	proc := filepath.Join(root, "proc")
	defer func() {
		if uerr := unmount(proc); uerr != nil && err == nil {
			err = uerr
		}
		_ = os.Remove(policy)
		_ = os.Remove(resolv)
		if oldResolv != "" {
			_ = os.Symlink(oldResolv, resolv)
		}
	}()
	hostResolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return err
	}
	_ = os.Remove(resolv)
	if err := os.WriteFile(resolv, hostResolv, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(policy, []byte("#!/bin/sh\nexit 101\n"), 0o755); err != nil {
		return err
	}
	if err := syscall.Mount("proc", proc, "proc", 0, ""); err != nil {
		return fmt.Errorf("mounting /proc in %s: %w", root, err)
	}
	cmd := exec.CommandContext(ctx, "chroot", root, "/bin/sh", "-ec", strings.Join(script, "\n"))
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C", "HOME=/root"}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("in chroot %s: %w\n%s", root, err, tail(out))
	}
	return nil
}

func unmount(p string) error {
	err := syscall.Unmount(p, 0)
	if err == nil || errors.Is(err, syscall.EINVAL) { // EINVAL: not mounted
		return nil
	}
	if lerr := syscall.Unmount(p, syscall.MNT_DETACH); lerr != nil {
		return fmt.Errorf("unmounting %s: %w", p, err)
	}
	return nil
}

// removeTree deletes a build tree, never crossing into a file system
// still mounted inside it.
func removeTree(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	_ = unmount(filepath.Join(dir, "proc"))
	return run(context.Background(), "rm", "-rf", "--one-file-system", dir)
}

func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, tail(out))
	}
	return nil
}

func tail(out []byte) string {
	s := strings.TrimSpace(string(out))
	if len(s) > 3000 {
		s = "..." + s[len(s)-3000:]
	}
	return s
}

// lock takes an exclusive flock on path, returning its release.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
