// Package lxdfake is an in-memory lxd.Client for unit tests. It records
// every call as a line ("CreateInstance demo-api") and keeps enough state
// (instances, images, files) for code that reads back what it wrote.
package lxdfake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/karana-project/karana/pkg/lxd"
)

// ExecFunc answers Exec calls; the default one returns 0 and writes nothing.
type ExecFunc func(name string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error)

// Fake implements lxd.Client in memory. Its zero value is not ready: use New.
type Fake struct {
	mu sync.Mutex

	// Calls records each call as "Method arg ...", in order.
	Calls []string
	// Fail makes calls fail: keys are "Method" or "Method name"
	// (the first argument), the more specific winning.
	Fail map[string]error
	// Exec answers Exec; nil means exit code 0 and no output.
	ExecFn ExecFunc

	Pools     map[string]string // name -> driver
	Networks  map[string]string // name -> ipv4 CIDR
	Projects  map[string]bool
	Profiles  map[string][2]string // name -> {pool, network}
	Images    map[string]lxd.Image // alias -> image
	Instances map[string]*lxd.Instance
	Specs     map[string]lxd.InstanceSpec  // last spec created or updated
	Files     map[string]map[string][]byte // instance -> path -> content
	Modes     map[string]map[string]os.FileMode
	Groups    map[string]map[string]int    // instance -> path -> gid (PushFileGroup)
	Links     map[string]map[string]string // instance -> path -> target (Symlink)
	// ImageFiles are the files an instance created from the image (its
	// alias) starts with.
	ImageFiles map[string]map[string][]byte
	// Copies maps an instance created as a copy to its template.
	Copies map[string]string
}

var _ lxd.Client = (*Fake)(nil)

// New returns an empty fake.
func New() *Fake {
	return &Fake{
		Fail: map[string]error{}, Pools: map[string]string{}, Networks: map[string]string{},
		Projects: map[string]bool{}, Profiles: map[string][2]string{}, Images: map[string]lxd.Image{},
		Instances: map[string]*lxd.Instance{}, Specs: map[string]lxd.InstanceSpec{},
		Files: map[string]map[string][]byte{}, Modes: map[string]map[string]os.FileMode{},
		Groups: map[string]map[string]int{}, Links: map[string]map[string]string{},
		ImageFiles: map[string]map[string][]byte{}, Copies: map[string]string{},
	}
}

// record logs the call and returns the injected error, if any. Callers hold mu.
func (f *Fake) record(method string, args ...string) error {
	f.Calls = append(f.Calls, strings.TrimSpace(method+" "+strings.Join(args, " ")))
	if len(args) > 0 {
		if err, ok := f.Fail[method+" "+args[0]]; ok {
			return err
		}
	}
	return f.Fail[method]
}

// CallsTo returns the recorded calls of one method.
func (f *Fake) CallsTo(method string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.Calls {
		if c == method || strings.HasPrefix(c, method+" ") {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets the recorded calls, keeping state.
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = nil
}

func notFound(what, name string) error {
	return fmt.Errorf("getting %s %q: %w", what, name, lxd.ErrNotFound)
}

func ensure[V comparable](f *Fake, m map[string]V, method, name string, v V) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(method, name); err != nil {
		return false, err
	}
	if old, ok := m[name]; ok && old == v {
		return false, nil
	}
	m[name] = v
	return true, nil
}

func (f *Fake) EnsureStoragePool(_ context.Context, pool lxd.StoragePool) (bool, error) {
	f.mu.Lock()
	have, ok := f.Pools[pool.Name]
	f.mu.Unlock()
	if ok && pool.Driver == "" {
		pool.Driver = have // an existing pool keeps its driver
	}
	if ok && have != pool.Driver {
		return false, fmt.Errorf("storage pool %q exists with driver %q, not %q", pool.Name, have, pool.Driver)
	}
	if pool.Driver == "" {
		pool.Driver = lxd.DefaultDriver
	}
	return ensure(f, f.Pools, "EnsureStoragePool", pool.Name, pool.Driver)
}

func (f *Fake) StoragePoolDriver(_ context.Context, name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("StoragePoolDriver", name); err != nil {
		return "", err
	}
	d, ok := f.Pools[name]
	if !ok {
		return "", notFound("storage pool", name)
	}
	return d, nil
}

func (f *Fake) EnsureNetwork(_ context.Context, name, cidr string) (bool, error) {
	return ensure(f, f.Networks, "EnsureNetwork", name, cidr)
}

func (f *Fake) EnsureProject(_ context.Context, name string) (bool, error) {
	return ensure(f, f.Projects, "EnsureProject", name, true)
}

func (f *Fake) EnsureProfile(_ context.Context, name, pool, network string) (bool, error) {
	return ensure(f, f.Profiles, "EnsureProfile", name, [2]string{pool, network})
}

func (f *Fake) ImageFingerprint(_ context.Context, alias string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ImageFingerprint", alias); err != nil {
		return "", err
	}
	img, ok := f.Images[alias]
	if !ok {
		return "", notFound("image", alias)
	}
	return img.Fingerprint, nil
}

func (f *Fake) GetImage(_ context.Context, alias string) (*lxd.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("GetImage", alias); err != nil {
		return nil, err
	}
	img, ok := f.Images[alias]
	if !ok {
		return nil, notFound("image", alias)
	}
	img.Properties = maps.Clone(img.Properties)
	return &img, nil
}

// ImportImage fingerprints meta and rootfs as LXD does. It does not parse
// the metadata: tests that need properties set Images directly.
func (f *Fake) ImportImage(_ context.Context, alias string, meta, rootfs io.Reader) (string, error) {
	h := sha256.New()
	n1, err1 := io.Copy(h, meta)
	n2, err2 := io.Copy(h, rootfs)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ImportImage", alias); err != nil {
		return "", err
	}
	if err1 != nil || err2 != nil {
		return "", fmt.Errorf("importing image %q: reading tarballs: %v %v", alias, err1, err2)
	}
	fp := hex.EncodeToString(h.Sum(nil))
	f.Images[alias] = lxd.Image{Alias: alias, Fingerprint: fp, Architecture: "x86_64",
		Size: n1 + n2, CreatedAt: time.Now()}
	return fp, nil
}

func (f *Fake) GetInstance(_ context.Context, name string) (*lxd.Instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("GetInstance", name); err != nil {
		return nil, err
	}
	in, ok := f.Instances[name]
	if !ok {
		return nil, notFound("container", name)
	}
	cp := *in
	cp.Config = maps.Clone(in.Config)
	return &cp, nil
}

func (f *Fake) ListInstances(_ context.Context) ([]lxd.Instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ListInstances"); err != nil {
		return nil, err
	}
	var out []lxd.Instance
	for _, name := range slices.Sorted(maps.Keys(f.Instances)) {
		in := *f.Instances[name]
		in.Config = maps.Clone(in.Config)
		out = append(out, in)
	}
	return out, nil
}

func (f *Fake) CreateInstance(_ context.Context, spec lxd.InstanceSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("CreateInstance", spec.Name, spec.Image); err != nil {
		return err
	}
	if _, ok := f.Instances[spec.Name]; ok {
		return fmt.Errorf("creating container %q: already exists", spec.Name)
	}
	if spec.CopyOf != "" {
		src, ok := f.Instances[spec.CopyOf]
		if !ok {
			return fmt.Errorf("creating container %q: template %q: %w", spec.Name, spec.CopyOf, lxd.ErrNotFound)
		}
		// As LXD: the source's config under the spec's.
		cfg := maps.Clone(src.Config)
		if cfg == nil {
			cfg = map[string]string{}
		}
		maps.Copy(cfg, spec.Config)
		f.Instances[spec.Name] = &lxd.Instance{Name: spec.Name, Status: "Stopped", Location: spec.Target, Config: cfg}
		f.Files[spec.Name], f.Modes[spec.Name] = map[string][]byte{}, map[string]os.FileMode{}
		for p, b := range f.Files[spec.CopyOf] {
			f.Files[spec.Name][p], f.Modes[spec.Name][p] = append([]byte(nil), b...), f.Modes[spec.CopyOf][p]
		}
		f.Copies[spec.Name] = spec.CopyOf
		spec.CopyOf = ""
		f.Specs[spec.Name] = spec
		return nil
	}
	if _, local := f.Images[spec.Image]; !local && !strings.Contains(spec.Image, ":") {
		return fmt.Errorf("creating container %q: image %q: %w", spec.Name, spec.Image, lxd.ErrNotFound)
	}
	cfg := maps.Clone(spec.Config)
	if img, ok := f.Images[spec.Image]; ok {
		if cfg == nil {
			cfg = map[string]string{}
		}
		cfg["volatile.base_image"] = img.Fingerprint // as LXD records it
	}
	f.Instances[spec.Name] = &lxd.Instance{Name: spec.Name, Status: "Stopped", Location: spec.Target, Config: cfg}
	f.Specs[spec.Name] = spec
	if files := f.ImageFiles[spec.Image]; len(files) > 0 {
		f.Files[spec.Name], f.Modes[spec.Name] = map[string][]byte{}, map[string]os.FileMode{}
		for p, b := range files {
			f.Files[spec.Name][p], f.Modes[spec.Name][p] = append([]byte(nil), b...), 0o644
		}
	}
	return nil
}

// FakeIdmap is the volatile.last_state.idmap of a fake template: the
// shift LXD records once it has shifted a root file system.
const FakeIdmap = `[{"Isuid":true,"Isgid":false,"Hostid":100000,"Nsid":0,"Maprange":65536}]`

// PrepareTemplate creates spec.Name from its image, stopped, as shifted.
func (f *Fake) PrepareTemplate(ctx context.Context, spec lxd.InstanceSpec) error {
	if err := f.CreateInstance(ctx, spec); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("PrepareTemplate", spec.Name); err != nil {
		delete(f.Instances, spec.Name)
		return err
	}
	f.Instances[spec.Name].Config["volatile.last_state.idmap"] = FakeIdmap
	return nil
}
