package lxdfake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/lxd"
)

func TestFakeRecordsAndKeepsState(t *testing.T) {
	ctx := context.Background()
	f := New()
	if changed, _ := f.EnsureNetwork(ctx, "br0", "10.0.0.1/24"); !changed {
		t.Error("first EnsureNetwork unchanged")
	}
	if changed, _ := f.EnsureNetwork(ctx, "br0", "10.0.0.1/24"); changed {
		t.Error("second EnsureNetwork changed")
	}
	if _, err := f.ImportImage(ctx, "karana/api", strings.NewReader("m"), strings.NewReader("r")); err != nil {
		t.Fatal(err)
	}
	spec := lxd.InstanceSpec{Name: "demo-api", Image: "karana/api", IPv4: "10.0.0.12",
		Config: map[string]string{"user.karana.role": "api"}}
	if err := f.CreateInstance(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if err := f.StartInstance(ctx, "demo-api"); err != nil {
		t.Fatal(err)
	}
	in, _ := f.GetInstance(ctx, "demo-api")
	if in.Status != "Running" || in.IPv4 != "10.0.0.12" {
		t.Errorf("instance = %+v", in)
	}
	if err := f.PushFile(ctx, "demo-api", "/etc/x", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := f.PullFile(ctx, "demo-api", "/etc/x"); err != nil || string(b) != "x" {
		t.Errorf("pull = %q, %v", b, err)
	}
	if _, err := f.PullFile(ctx, "demo-api", "/etc/y"); !errors.Is(err, lxd.ErrNotFound) {
		t.Errorf("pull missing = %v", err)
	}
	f.Fail["DeleteInstance demo-api"] = errors.New("boom")
	if err := f.DeleteInstance(ctx, "demo-api"); err == nil {
		t.Error("injected failure not returned")
	}
	f.ExecFn = func(name string, cmd []string, _ io.Reader, stdout, _ io.Writer) (int, error) {
		_, _ = io.WriteString(stdout, name+":"+strings.Join(cmd, " "))
		return 7, nil
	}
	var out bytes.Buffer
	if code, err := f.Exec(ctx, "demo-api", []string{"true"}, nil, &out, nil); code != 7 || err != nil || out.String() != "demo-api:true" {
		t.Errorf("exec = %d, %v, %q", code, err, out.String())
	}
	want := []string{"EnsureNetwork br0", "EnsureNetwork br0", "ImportImage karana/api", "CreateInstance demo-api karana/api",
		"StartInstance demo-api", "GetInstance demo-api", "PushFile demo-api /etc/x 600", "PullFile demo-api /etc/x",
		"PullFile demo-api /etc/y", "DeleteInstance demo-api", "Exec demo-api true"}
	if strings.Join(f.Calls, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(f.Calls, "\n"), strings.Join(want, "\n"))
	}
}
