package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/karana-project/karana/pkg/lxd"
)

// Progress is the part of cmdutil.Progress a build reports to.
type Progress interface {
	Start(format string, args ...any)
	End(result string)
	Fail(result string)
}

type nopProgress struct{}

func (nopProgress) Start(string, ...any) {}
func (nopProgress) End(string)           {}
func (nopProgress) Fail(string)          {}

// Options of one build.
type Options struct {
	Alias    string  // LXD alias to import under (images.<role>); required
	Recipe   *Recipe // nil: the production recipe of the role
	Base     Base    // zero: HostBase("")
	CacheDir string  // "": DefaultCacheDir
	Force    bool    // rebuild even when the alias has the same recipe
	LockFile string  // where to record the result; "" records nothing
	Progress Progress
	// Log receives detail lines (commands run); nil discards them.
	Log func(string)
}

// Build makes the image of role and imports it under opts.Alias. It
// skips the build, reporting unchanged, when the alias already points at
// an image of the same recipe (unless opts.Force), and skips remote
// aliases ("images:debian/12"), whose packages are installed when the
// container is provisioned.
func Build(ctx context.Context, c lxd.Client, role string, opts Options) (fp string, changed bool, err error) {
	opts = withDefaults(opts)
	if opts.Alias == "" {
		return "", false, fmt.Errorf("building the %s image: no alias given", role)
	}
	if IsRemote(opts.Alias) {
		return "", false, nil
	}
	r, err := recipe(role, opts)
	if err != nil {
		return "", false, err
	}
	hash := r.Hash(opts.Base)
	if !opts.Force {
		img, err := c.GetImage(ctx, opts.Alias)
		if err == nil && img.Properties["karana.recipe"] == hash {
			return img.Fingerprint, false, record(opts, r, img.Fingerprint, hash, img.CreatedAt)
		}
		if err != nil && !errors.Is(err, lxd.ErrNotFound) {
			return "", false, err
		}
	}
	if os.Geteuid() != 0 {
		return "", false, fmt.Errorf("building image %q: needs root (debootstrap, chroot): run with sudo", opts.Alias)
	}
	fp, err = build(ctx, c, r, opts)
	if err != nil && r.Hint != "" {
		return "", false, fmt.Errorf("building image %q (%s): %w\nhint: %s", opts.Alias, r.Role, err, r.Hint)
	}
	if err != nil {
		return "", false, fmt.Errorf("building image %q (%s): %w", opts.Alias, r.Role, err)
	}
	return fp, true, record(opts, r, fp, hash, time.Now().UTC())
}

func withDefaults(o Options) Options {
	if o.Base.Suite == "" {
		o.Base = HostBase(o.Base.Mirror)
	}
	if o.CacheDir == "" {
		o.CacheDir = DefaultCacheDir
	}
	if o.Progress == nil {
		o.Progress = nopProgress{}
	}
	if o.Log == nil {
		o.Log = func(string) {}
	}
	return o
}

func recipe(role string, opts Options) (Recipe, error) {
	if opts.Recipe != nil {
		return *opts.Recipe, nil
	}
	return RecipeFor(role)
}

func record(opts Options, r Recipe, fp, hash string, built time.Time) error {
	if opts.LockFile == "" {
		return nil
	}
	return Record(opts.LockFile, opts.Alias, Locked{Role: r.Role, Fingerprint: fp, Recipe: hash, Built: built.UTC().Truncate(time.Second)})
}

// step runs fn as one progress step.
func step(p Progress, fn func() (string, error), format string, args ...any) error {
	p.Start(format, args...)
	res, err := fn()
	if err != nil {
		p.Fail(firstLine(err.Error()))
		return err
	}
	p.End(res)
	return nil
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

func build(ctx context.Context, c lxd.Client, r Recipe, opts Options) (string, error) {
	p := opts.Progress
	var base string
	err := step(p, func() (string, error) {
		dir, created, err := ensureBase(ctx, opts.CacheDir, opts.Base, opts.Log)
		base = dir
		if created {
			return "debootstrapped", err
		}
		return "cached", err
	}, "base tree (Debian %s)", opts.Base.Suite)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(opts.CacheDir, "work"), 0o755); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(filepath.Join(opts.CacheDir, "work"), r.Role+"-")
	if err != nil {
		return "", err
	}
	defer removeTree(work)
	rootfs := filepath.Join(work, "rootfs")
	if err := step(p, func() (string, error) { return "", customize(ctx, base, rootfs, r) },
		"%s rootfs (%s)", r.Role, describeRecipe(r)); err != nil {
		return "", err
	}
	var packed string
	if err := step(p, func() (string, error) {
		var err error
		packed, err = packRootfs(ctx, rootfs, filepath.Join(work, "rootfs"))
		return filepath.Ext(packed)[1:], err
	}, "packing %s rootfs", r.Role); err != nil {
		return "", err
	}
	var fp string
	err = step(p, func() (string, error) {
		var err error
		fp, err = importImage(ctx, c, opts.Alias, properties(r, opts.Base), packed)
		return shortFP(fp), err
	}, "importing %s", opts.Alias)
	return fp, err
}

func describeRecipe(r Recipe) string {
	if len(r.Packages) == 0 && len(r.Files) == 0 {
		return "base packages only"
	}
	var parts []string
	if len(r.Packages) > 0 {
		parts = append(parts, "+ "+strings.Join(r.Packages, " "))
	}
	for _, f := range r.Files {
		parts = append(parts, "+ "+f.Path)
	}
	return strings.Join(parts, ", ")
}

func shortFP(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

// customize copies the base tree to rootfs and applies the recipe.
func customize(ctx context.Context, base, rootfs string, r Recipe) error {
	if err := run(ctx, "cp", "-a", "--reflink=auto", base+"/.", rootfs); err != nil {
		return err
	}
	script := append([]string{}, r.Setup...)
	script = append(script, "apt-get update -q", "apt-get -y -q dist-upgrade")
	if len(r.Packages) > 0 {
		script = append(script, "apt-get install -y -q "+strings.Join(r.Packages, " "))
	}
	script = append(script, "apt-get clean", "rm -rf /var/lib/apt/lists/*")
	if err := chroot(ctx, rootfs, script); err != nil {
		return err
	}
	if err := writeFiles(rootfs, r.Files); err != nil {
		return err
	}
	// Each container must get its own machine-id at first boot.
	final := []string{": > /etc/machine-id", "rm -f /var/lib/dbus/machine-id"}
	if len(r.Enable) > 0 {
		final = append(final, "systemctl enable "+strings.Join(r.Enable, " "))
	}
	return chroot(ctx, rootfs, final)
}

func importImage(ctx context.Context, c lxd.Client, alias string, props map[string]string, rootfs string) (string, error) {
	meta, err := metadataTarball(props, time.Now())
	if err != nil {
		return "", err
	}
	f, err := os.Open(rootfs)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return c.ImportImage(ctx, alias, bytes.NewReader(meta), f)
}
