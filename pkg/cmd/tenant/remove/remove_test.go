package remove

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

func TestNewCmdRemove(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     Options
		wantErr  string
		wantCode int // 0: cobra's own error, made a usage error by pkg/karana.Run (see remove_usage_test.go)
	}{
		{name: "name", args: []string{"acme"}, want: Options{Name: "acme", Output: "text"}},
		{name: "purge json", args: []string{"acme", "--purge", "-o", "json"}, want: Options{Name: "acme", Purge: true, Output: "json"}},
		{name: "missing name", args: nil, wantErr: "accepts 1 arg(s), received 0"},
		{name: "two names", args: []string{"a", "b"}, wantErr: "accepts 1 arg(s), received 2"},
		{name: "bad output", args: []string{"acme", "-o", "yaml"}, wantErr: `invalid --output "yaml"`, wantCode: cmdutil.ExitUsage},
		{name: "bad name", args: []string{"Bad_Name"}, wantErr: `tenant name: "Bad_Name" cannot name a container`, wantCode: cmdutil.ExitUsage},
		{name: "name with newline", args: []string{"acme\nx"}, wantErr: "tenant name: ", wantCode: cmdutil.ExitUsage},
		{name: "empty name", args: []string{""}, wantErr: "tenant name: is empty", wantCode: cmdutil.ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr != "" {
				cmdtest.WantError(t, NewCmdRemove, tt.args, tt.wantErr, tt.wantCode)
				return
			}
			got := cmdtest.MustParse(t, NewCmdRemove, tt.args)
			if got.Name != tt.want.Name || got.Purge != tt.want.Purge || got.Output != tt.want.Output {
				t.Errorf("options = %+v, want %+v", *got, tt.want)
			}
			if got.IO == nil || got.Inventory == nil || got.Connect == nil {
				t.Errorf("dependencies not wired: %+v", *got)
			}
		})
	}
}

const invYAML = `lxd: {project: karana-unit, network: {name: unitbr0, ipv4: 10.0.99.1/24}}
tenants:
  - {name: alpha, domain: alpha.example.org, id: AAAAAAAAAAAAA, slot: 0}
`

func setup(t *testing.T, f *lxdfake.Fake, name string) (*Options, string, []byte, *bytes.Buffer) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(p, []byte(invYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	ios, out, _ := iostreams.Test()
	fac := &cmdutil.Factory{IOStreams: ios, InventoryFlag: p}
	opts := &Options{IO: ios, Inventory: fac.Inventory, Name: name, Output: "text",
		Connect: func(context.Context, *inventory.Inventory) (lxd.Client, error) { return f, nil }}
	return opts, p, []byte(invYAML), out
}

func TestRemoveRunUnknownTenant(t *testing.T) {
	f := lxdfake.New()
	// A container of another tenant, and one of no tenant: neither is ghost's.
	f.Instances["alpha-api"] = &lxd.Instance{Name: "alpha-api", Status: "Running", Config: map[string]string{converge.KeyRole: "api", converge.KeyTenant: "alpha"}}
	f.Instances["ghost"] = &lxd.Instance{Name: "ghost", Status: "Running"}
	opts, path, before, out := setup(t, f, "ghost")
	err := removeRun(context.Background(), opts)
	want := `tenant "ghost" is not in ` + path + " and has no containers"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if cmdutil.ExitCode(err) != cmdutil.ExitFailure {
		t.Errorf("exit code %d", cmdutil.ExitCode(err))
	}
	if strings.Join(f.Calls, ",") != "ListInstances" {
		t.Errorf("calls %q, want only ListInstances", f.Calls)
	}
	if len(f.Instances) != 2 {
		t.Errorf("instances %v", f.Instances)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("inventory changed:\n%s", after)
	}
	if out.Len() != 0 {
		t.Errorf("stdout %q", out)
	}
}

func TestRemoveRunUnavailable(t *testing.T) {
	opts, _, _, _ := setup(t, nil, "alpha")
	opts.Connect = func(context.Context, *inventory.Inventory) (lxd.Client, error) { return nil, errors.New("socket gone") }
	err := removeRun(context.Background(), opts)
	if cmdutil.ExitCode(err) != cmdutil.ExitUnavailable || !strings.Contains(err.Error(), "socket gone") {
		t.Errorf("code %d, err %v", cmdutil.ExitCode(err), err)
	}

	f := lxdfake.New()
	f.Fail["ListInstances"] = errors.New("list failed")
	opts, path, before, _ := setup(t, f, "ghost")
	if err := removeRun(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "list failed") {
		t.Errorf("err %v, want the listing error", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("inventory changed:\n%s", after)
	}
}
