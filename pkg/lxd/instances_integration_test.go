package lxd_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/testenv"
)

func TestIntegrationImageImport(t *testing.T) {
	c := connect(t)
	cleanProject(t, c)
	setup(t, c)
	ctx := context.Background()
	meta, rootfs := tinyImage(t, "import test")
	fp, err := c.ImportImage(ctx, testAlias, bytes.NewReader(meta), bytes.NewReader(rootfs))
	must(t, err)
	got, err := c.ImageFingerprint(ctx, testAlias)
	must(t, err)
	if got != fp {
		t.Errorf("alias points at %s, import returned %s", got, fp)
	}
	img, err := c.GetImage(ctx, testAlias)
	must(t, err)
	if img.Properties["karana.test"] != "yes" || img.Fingerprint != fp {
		t.Errorf("image = %+v, want property karana.test=yes from metadata.yaml and fingerprint %s", img, fp)
	}
	// The same content again is no error and keeps the fingerprint.
	fp2, err := c.ImportImage(ctx, testAlias, bytes.NewReader(meta), bytes.NewReader(rootfs))
	if err != nil || fp2 != fp {
		t.Errorf("re-import = %s, %v; want %s, nil", fp2, err, fp)
	}
	// New content moves the alias.
	meta3, rootfs3 := tinyImage(t, "import test, second build")
	fp3, err := c.ImportImage(ctx, testAlias, bytes.NewReader(meta3), bytes.NewReader(rootfs3))
	must(t, err)
	if got, _ := c.ImageFingerprint(ctx, testAlias); fp3 == fp || got != fp3 {
		t.Errorf("after a new import alias -> %s, import returned %s (old %s)", got, fp3, fp)
	}
	if _, err := c.ImageFingerprint(ctx, "karana-d1/no-such-image"); !errors.Is(err, lxd.ErrNotFound) {
		t.Errorf("missing alias: err = %v, want ErrNotFound", err)
	}
}

func testSpec() lxd.InstanceSpec {
	return lxd.InstanceSpec{
		Name: "d1-tiny", Image: testAlias, Profile: testProfile, Network: testBridge, IPv4: testenv.Subnet(16, 50, ""),
		Config: map[string]string{"user.karana.role": "test", "limits.memory": "128MiB"},
		Devices: map[string]map[string]string{"hostproxy": {
			"type": "proxy", "listen": "tcp:127.0.0.1:0", "connect": "tcp:127.0.0.1:80", "bind": "host"}},
	}
}

func TestIntegrationInstanceLifecycle(t *testing.T) {
	c := connect(t)
	cleanProject(t, c)
	setup(t, c)
	ctx := context.Background()
	meta, rootfs := tinyImage(t, "lifecycle test")
	_, err := c.ImportImage(ctx, testAlias, bytes.NewReader(meta), bytes.NewReader(rootfs))
	must(t, err)

	spec := testSpec()
	must(t, c.CreateInstance(ctx, spec))
	if err := c.CreateInstance(ctx, spec); err == nil || !strings.Contains(err.Error(), `"d1-tiny"`) {
		t.Errorf("second create: err = %v, want an error naming the container", err)
	}
	in, err := c.GetInstance(ctx, spec.Name)
	must(t, err)
	if in.Status != "Stopped" || in.Config["user.karana.role"] != "test" {
		t.Errorf("created instance = %+v, want Stopped with user.karana.role=test", in)
	}

	if changed, err := c.UpdateInstance(ctx, spec); err != nil || changed {
		t.Errorf("update with the same spec: changed=%v err=%v, want unchanged", changed, err)
	}
	spec.Config = map[string]string{"limits.memory": "256MiB"}
	if changed, err := c.UpdateInstance(ctx, spec); err != nil || !changed {
		t.Errorf("update with new limits: changed=%v err=%v, want changed", changed, err)
	}
	in, err = c.GetInstance(ctx, spec.Name)
	must(t, err)
	if in.Config["limits.memory"] != "256MiB" || in.Config["user.karana.role"] != "" {
		t.Errorf("after update config = %v, want limits.memory=256MiB and no user.karana.role", in.Config)
	}
	if _, ok := in.Config["volatile.base_image"]; !ok {
		t.Errorf("update dropped LXD's own volatile keys: %v", in.Config)
	}

	must(t, c.StartInstance(ctx, spec.Name))
	must(t, c.StartInstance(ctx, spec.Name)) // a no-op when running
	if in, _ := c.GetInstance(ctx, spec.Name); in == nil || in.Status != "Running" {
		t.Fatalf("after start: %+v, want Running", in)
	}
	t.Run("exec", func(t *testing.T) { testExec(t, c, spec.Name) })
	t.Run("files", func(t *testing.T) { testFiles(t, c, spec.Name) })
	t.Run("export", func(t *testing.T) { testExport(t, c, spec.Name) })

	must(t, c.StopInstance(ctx, spec.Name, true))
	must(t, c.DeleteInstance(ctx, spec.Name))
	if _, err := c.GetInstance(ctx, spec.Name); !errors.Is(err, lxd.ErrNotFound) {
		t.Errorf("get after delete: err = %v, want ErrNotFound", err)
	}
	if err := c.DeleteInstance(ctx, spec.Name); !errors.Is(err, lxd.ErrNotFound) {
		t.Errorf("second delete: err = %v, want ErrNotFound", err)
	}
}

func testExec(t *testing.T, c lxd.Client, name string) {
	ctx := context.Background()
	var out, errOut bytes.Buffer
	code, err := c.Exec(ctx, name, []string{"/sbin/init", "cat"}, strings.NewReader("hello from stdin"), &out, &errOut)
	if err != nil || code != 0 || out.String() != "hello from stdin" {
		t.Errorf("cat: code=%d err=%v out=%q", code, err, out.String())
	}
	out.Reset()
	code, err = c.Exec(ctx, name, []string{"/sbin/init", "echo", "one", "err:two"}, nil, &out, &errOut)
	if err != nil || code != 0 || out.String() != "one\n" || errOut.String() != "two\n" {
		t.Errorf("echo: code=%d err=%v out=%q stderr=%q", code, err, out.String(), errOut.String())
	}
	if code, err := c.Exec(ctx, name, []string{"/sbin/init", "exit", "3"}, nil, nil, nil); err != nil || code != 3 {
		t.Errorf("exit 3: code=%d err=%v", code, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(200*time.Millisecond, cancel)
	if _, err := c.Exec(cctx, name, []string{"/sbin/init", "sleep", "1h"}, nil, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled exec: err = %v, want context.Canceled", err)
	}
}

func testFiles(t *testing.T, c lxd.Client, name string) {
	ctx := context.Background()
	must(t, c.PushFile(ctx, name, "/etc/karana-d1/sub/conf.txt", []byte("a=1\n"), 0o640))
	must(t, c.PushFile(ctx, name, "/etc/karana-d1/sub/conf.txt", []byte("a=2\n"), 0o600))
	b, err := c.PullFile(ctx, name, "/etc/karana-d1/sub/conf.txt")
	if err != nil || string(b) != "a=2\n" {
		t.Errorf("pull = %q, %v; want the second push", b, err)
	}
	if _, err := c.PullFile(ctx, name, "/etc/no-such-file"); !errors.Is(err, lxd.ErrNotFound) {
		t.Errorf("pull missing: err = %v, want ErrNotFound", err)
	}
}

func testExport(t *testing.T, c lxd.Client, name string) {
	var buf bytes.Buffer
	must(t, c.ExportInstance(context.Background(), name, &buf))
	if b := buf.Bytes(); !bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		t.Errorf("export is %d bytes, not a zstd tarball", buf.Len())
	}
}
