package lxd_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/testenv"
)

// The integration tests use their own project, bridge and subnet on the
// shared daemon, and the shared "karana" dir pool.
// KARANA_TEST_NS moves them for a concurrent run (pkg/testenv).
var (
	testProject = testenv.Name("karana-d1")
	testBridge  = testenv.Name("karanad1br0")
	testCIDR    = testenv.Subnet(16, 1, "/24")
	testProfile = testenv.Name("karana-d1")
	testAlias   = testenv.Name("karana-d1") + "/tiny"
)

const testPool = "karana"

// connect returns a client for the test project, or skips when there is no
// local LXD daemon.
func connect(t *testing.T) lxd.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	if _, err := os.Stat(lxd.DefaultSocket()); err != nil {
		t.Skipf("integration test: no LXD socket at %s (install and start LXD to run it)", lxd.DefaultSocket())
	}
	c, err := lxd.Connect(context.Background(), inventory.LXD{Endpoint: "unix", Project: testProject})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tinyImage builds an image whose only program is testdata/tinyinit.
func tinyImage(t *testing.T, desc string) (meta, rootfs []byte) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "init")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/tinyinit")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building tinyinit: %v\n%s", err, out)
	}
	initBin, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	metaYAML := fmt.Sprintf("architecture: x86_64\ncreation_date: %d\nproperties:\n  description: %s\n  os: tinyinit\n  karana.test: \"yes\"\n",
		time.Now().Unix(), desc)
	meta = tgz(t, map[string][]byte{"metadata.yaml": []byte(metaYAML)}, nil)
	rootfs = tgz(t, map[string][]byte{"sbin/init": initBin},
		[]string{"dev", "proc", "sys", "tmp", "run", "etc", "root", "sbin"})
	return meta, rootfs
}

func tgz(t *testing.T, files map[string][]byte, dirs []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, d := range dirs {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755}))
	}
	for name, b := range files {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o755, Size: int64(len(b))}))
		_, err := tw.Write(b)
		must(t, err)
	}
	must(t, tw.Close())
	must(t, gz.Close())
	return buf.Bytes()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// cleanProject deletes every instance left in the test project.
func cleanProject(t *testing.T, c lxd.Client) {
	t.Helper()
	ctx := context.Background()
	list, err := c.ListInstances(ctx)
	if err != nil {
		return // the project does not exist yet
	}
	for _, in := range list {
		must(t, c.DeleteInstance(ctx, in.Name))
	}
}

// setup ensures pool, bridge, project and profile, checking that a second
// Ensure changes nothing.
func setup(t *testing.T, c lxd.Client) {
	t.Helper()
	ctx := context.Background()
	steps := []struct {
		name string
		fn   func() (bool, error)
	}{
		{"pool", func() (bool, error) { return c.EnsureStoragePool(ctx, lxd.StoragePool{Name: testPool, Driver: "dir"}) }},
		{"network", func() (bool, error) { return c.EnsureNetwork(ctx, testBridge, testCIDR) }},
		{"project", func() (bool, error) { return c.EnsureProject(ctx, testProject) }},
		{"profile", func() (bool, error) { return c.EnsureProfile(ctx, testProfile, testPool, testBridge) }},
	}
	for _, s := range steps {
		if _, err := s.fn(); err != nil {
			t.Fatalf("ensure %s: %v", s.name, err)
		}
		changed, err := s.fn()
		if err != nil || changed {
			t.Fatalf("ensure %s again: changed=%v err=%v, want unchanged", s.name, changed, err)
		}
	}
}
