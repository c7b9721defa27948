package image_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/image"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/testenv"
)

type logProgress struct{ t *testing.T }

func (p logProgress) Start(f string, a ...any) { p.t.Logf("==> "+f, a...) }
func (p logProgress) End(r string)             { p.t.Logf("ok %s", r) }
func (p logProgress) Fail(r string)            { p.t.Logf("FAILED %s", r) }

// TestIntegrationBuildAndLaunch builds the api image (base packages only)
// for real and boots a container from it. It debootstraps on the first
// run (about a minute, then cached), so it only runs when asked for.
func TestIntegrationBuildAndLaunch(t *testing.T) {
	if os.Getenv("KARANA_IMAGE_TEST") == "" {
		t.Skip("set KARANA_IMAGE_TEST=1 to debootstrap and build an image for real")
	}
	if os.Geteuid() != 0 {
		t.Skip("building images needs root (debootstrap, chroot)")
	}
	ctx := context.Background()
	c, err := lxd.Connect(ctx, inventory.LXD{Endpoint: "unix", Project: testenv.Name("karana-d1")})
	if err != nil {
		t.Skip(err)
	}
	for _, ensure := range []func() (bool, error){
		func() (bool, error) { return c.EnsureStoragePool(ctx, lxd.StoragePool{Name: "karana", Driver: "dir"}) },
		func() (bool, error) {
			return c.EnsureNetwork(ctx, testenv.Name("karanad1br0"), testenv.Subnet(16, 1, "/24"))
		},
		func() (bool, error) { return c.EnsureProject(ctx, testenv.Name("karana-d1")) },
		func() (bool, error) {
			return c.EnsureProfile(ctx, testenv.Name("karana-d1"), "karana", testenv.Name("karanad1br0"))
		},
	} {
		if _, err := ensure(); err != nil {
			t.Fatal(err)
		}
	}
	lock := filepath.Join(t.TempDir(), image.LockName)
	opts := image.Options{Alias: testenv.Name("karana-d1") + "/api", LockFile: lock, Progress: logProgress{t}, Force: true}
	start := time.Now()
	fp, changed, err := image.Build(ctx, c, "api", opts)
	if err != nil || !changed {
		t.Fatalf("build = %s, %v, %v", fp, changed, err)
	}
	t.Logf("forced build took %s", time.Since(start))
	opts.Force = false
	fp2, changed, err := image.Build(ctx, c, "api", opts)
	if err != nil || changed || fp2 != fp {
		t.Fatalf("second build = %s, changed=%v, %v; want %s unchanged", fp2, changed, err, fp)
	}
	l, err := image.ReadLock(lock)
	if err != nil || l.Images[testenv.Name("karana-d1")+"/api"].Fingerprint != fp {
		t.Fatalf("lock = %+v, %v; want %s -> %s", l, err, testenv.Name("karana-d1")+"/api", fp)
	}
	launch(t, c, testenv.Name("karana-d1")+"/api")
}

func launch(t *testing.T, c lxd.Client, alias string) {
	ctx := context.Background()
	name := "d1-imgtest"
	_ = c.DeleteInstance(ctx, name)
	spec := lxd.InstanceSpec{Name: name, Image: alias, Profile: testenv.Name("karana-d1"), Network: testenv.Name("karanad1br0"), IPv4: testenv.Subnet(16, 60, "")}
	start := time.Now()
	if err := c.CreateInstance(ctx, spec); err != nil {
		t.Fatal(err)
	}
	defer c.DeleteInstance(ctx, name)
	if err := c.StartInstance(ctx, name); err != nil {
		t.Fatal(err)
	}
	var in *lxd.Instance
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		in, _ = c.GetInstance(ctx, name)
		if in != nil && in.IPv4 != "" {
			break
		}
	}
	t.Logf("create+start until eth0 has an address: %s", time.Since(start))
	if in == nil || in.IPv4 != spec.IPv4 {
		t.Fatalf("instance = %+v, want eth0 at %s from the static DHCP lease", in, spec.IPv4)
	}
	var out bytes.Buffer
	if code, err := c.Exec(ctx, name, []string{"hostname"}, nil, &out, nil); err != nil || code != 0 || strings.TrimSpace(out.String()) != name {
		t.Errorf("hostname = %q (code %d, %v), want %s", out.String(), code, err, name)
	}
	out.Reset()
	code, err := c.Exec(ctx, name, []string{"systemctl", "is-system-running", "--wait"}, nil, &out, nil)
	t.Logf("is-system-running: %s (code %d, %v)", strings.TrimSpace(out.String()), code, err)
	if strings.TrimSpace(out.String()) != "running" {
		out.Reset()
		_, _ = c.Exec(ctx, name, []string{"systemctl", "--failed", "--no-legend"}, nil, &out, nil)
		t.Errorf("systemd is not running cleanly; failed units:\n%s", out.String())
	}
}
