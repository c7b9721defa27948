package lxdfake

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/karana-project/karana/pkg/lxd"
)

// UpdateInstance replaces config with spec.Config (keeping keys outside
// user.karana.* and limits.*) and reports a change when spec differs from
// the last one.
func (f *Fake) UpdateInstance(_ context.Context, spec lxd.InstanceSpec) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("UpdateInstance", spec.Name); err != nil {
		return false, err
	}
	in, ok := f.Instances[spec.Name]
	if !ok {
		return false, notFound("container", spec.Name)
	}
	old := f.Specs[spec.Name]
	old.Image, old.Target = spec.Image, spec.Target
	if reflect.DeepEqual(old, spec) {
		return false, nil
	}
	cfg := map[string]string{}
	for k, v := range in.Config {
		if !strings.HasPrefix(k, "user.karana.") && !strings.HasPrefix(k, "limits.") {
			cfg[k] = v
		}
	}
	maps.Copy(cfg, spec.Config)
	in.Config = cfg
	if in.Status == "Running" {
		in.IPv4 = spec.IPv4
	}
	f.Specs[spec.Name] = spec
	return true, nil
}

func (f *Fake) setStatus(method, name, status string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(method, name); err != nil {
		return err
	}
	in, ok := f.Instances[name]
	if !ok {
		return notFound("container", name)
	}
	in.Status = status
	in.IPv4 = ""
	if status == "Running" {
		in.IPv4 = f.Specs[name].IPv4
	}
	return nil
}

// StartInstance marks the container Running with its spec's IPv4.
func (f *Fake) StartInstance(_ context.Context, name string) error {
	return f.setStatus("StartInstance", name, "Running")
}

func (f *Fake) StopInstance(_ context.Context, name string, force bool) error {
	return f.setStatus("StopInstance", name, "Stopped")
}

func (f *Fake) DeleteInstance(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("DeleteInstance", name); err != nil {
		return err
	}
	if _, ok := f.Instances[name]; !ok {
		return notFound("container", name)
	}
	delete(f.Instances, name)
	delete(f.Specs, name)
	delete(f.Files, name)
	delete(f.Modes, name)
	delete(f.Groups, name)
	delete(f.Links, name)
	return nil
}

// ExportInstance writes a small text stand-in for a backup tarball.
func (f *Fake) ExportInstance(_ context.Context, name string, w io.Writer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ExportInstance", name); err != nil {
		return err
	}
	if _, ok := f.Instances[name]; !ok {
		return notFound("container", name)
	}
	_, err := fmt.Fprintf(w, "lxdfake backup of %s\n", name)
	return err
}

// ImportInstance creates a stopped instance from what ExportInstance wrote.
func (f *Fake) ImportInstance(_ context.Context, name, pool string, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ImportInstance", name, pool); err != nil {
		return err
	}
	if _, ok := f.Instances[name]; ok {
		return fmt.Errorf("importing container %q: it exists already", name)
	}
	if string(b) != "lxdfake backup of "+name+"\n" {
		return fmt.Errorf("importing container %q: not its backup: %q", name, b)
	}
	f.Instances[name] = &lxd.Instance{Name: name, Status: "Stopped", Config: map[string]string{}}
	return nil
}

// Exec records the command and answers through ExecFn.
func (f *Fake) Exec(_ context.Context, name string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	f.mu.Lock()
	err := f.record("Exec", append([]string{name}, cmd...)...)
	in, ok := f.Instances[name]
	fn := f.ExecFn
	f.mu.Unlock()
	if err != nil {
		return -1, err
	}
	if !ok {
		return -1, notFound("container", name)
	}
	if in.Status != "Running" {
		return -1, fmt.Errorf("running %q in container %q: %w", strings.Join(cmd, " "), name, lxd.ErrNotRunning)
	}
	if fn == nil {
		return 0, nil
	}
	return fn(name, cmd, stdin, stdout, stderr)
}

func (f *Fake) PushFile(_ context.Context, name, path string, data []byte, mode os.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("PushFile", name, path, strconv.FormatUint(uint64(mode.Perm()), 8)); err != nil {
		return err
	}
	if _, ok := f.Instances[name]; !ok {
		return notFound("container", name)
	}
	if f.Files[name] == nil {
		f.Files[name], f.Modes[name] = map[string][]byte{}, map[string]os.FileMode{}
	}
	f.Files[name][path] = append([]byte(nil), data...)
	f.Modes[name][path] = mode.Perm()
	return nil
}

func (f *Fake) PullFile(_ context.Context, name, path string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("PullFile", name, path); err != nil {
		return nil, err
	}
	b, ok := f.Files[name][path]
	if !ok {
		return nil, fmt.Errorf("reading %s in container %q: %w", path, name, lxd.ErrNotFound)
	}
	return append([]byte(nil), b...), nil
}

func (f *Fake) PushFileGroup(ctx context.Context, name, path string, data []byte, mode os.FileMode, gid int) error {
	if err := f.PushFile(ctx, name, path, data, mode); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Groups[name] == nil {
		f.Groups[name] = map[string]int{}
	}
	f.Groups[name][path] = gid
	return nil
}

func (f *Fake) Symlink(_ context.Context, name, path, target string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("Symlink", name, path, target); err != nil {
		return err
	}
	if _, ok := f.Instances[name]; !ok {
		return notFound("container", name)
	}
	if f.Links[name] == nil {
		f.Links[name] = map[string]string{}
	}
	f.Links[name][path] = target
	return nil
}

// FileExists finds files, links and the folders that hold them.
func (f *Fake) FileExists(_ context.Context, name, path string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("FileExists", name, path); err != nil {
		return false, err
	}
	if _, ok := f.Instances[name]; !ok {
		return false, notFound("container", name)
	}
	if _, ok := f.Files[name][path]; ok {
		return true, nil
	}
	if _, ok := f.Links[name][path]; ok {
		return true, nil
	}
	dir := strings.TrimSuffix(path, "/") + "/"
	for p := range f.Files[name] {
		if strings.HasPrefix(p, dir) {
			return true, nil
		}
	}
	return false, nil
}
