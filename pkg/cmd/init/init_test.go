package initcmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
)

func TestNewCmdInit(t *testing.T) {
	t.Setenv(inventory.Env, "")
	tests := []struct {
		args     []string
		want     Options
		wantErr  string
		wantCode int
	}{
		{args: nil, want: Options{Domain: "example.org", Out: inventory.DefaultPath}},
		{args: []string{"--domain", "mon.example.net"}, want: Options{Domain: "mon.example.net", Out: inventory.DefaultPath}},
		{args: []string{"--out", "/etc/karana/inv.yaml"}, want: Options{Domain: "example.org", Out: "/etc/karana/inv.yaml"}},
		{args: []string{"--domain", "a.example.org\n  server evil 1.2.3.4:80"}, wantErr: "--domain: ", wantCode: cmdutil.ExitUsage},
		{args: []string{"--domain", ""}, wantErr: "--domain: ", wantCode: cmdutil.ExitUsage},
		{args: []string{"extra"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if tt.wantErr != "" {
				cmdtest.WantError(t, NewCmdInit, tt.args, tt.wantErr, tt.wantCode)
				return
			}
			got := cmdtest.MustParse(t, NewCmdInit, tt.args)
			if got.Domain != tt.want.Domain || got.Out != tt.want.Out || got.IO == nil {
				t.Errorf("options = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Without --out the file is the inventory path: --inventory, then
// $KARANA_INVENTORY.
func TestInitOutFollowsInventoryPath(t *testing.T) {
	t.Setenv(inventory.Env, "/srv/env.yaml")
	if got := cmdtest.MustParse(t, NewCmdInit, nil); got.Out != "/srv/env.yaml" {
		t.Errorf("Out = %q, want $KARANA_INVENTORY", got.Out)
	}
	ios, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmdInit(&cmdutil.Factory{IOStreams: ios, InventoryFlag: "/srv/flag.yaml"}, func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil || got.Out != "/srv/flag.yaml" {
		t.Errorf("Out = %+v, %v; want --inventory's value", got, err)
	}
}

func runInit(t *testing.T, out, domain string) (string, error) {
	t.Helper()
	ios, stdout, _ := iostreams.Test()
	err := initRun(&Options{IO: ios, Version: "1.2.3", Domain: domain, Out: out})
	return stdout.String(), err
}

// The starter is a real host's inventory: production images, the seed's
// subnet, lb0 in front of lb1 and lb2, no tenants, nothing of the test
// back end.
func TestInitWritesStarter(t *testing.T) {
	out := filepath.Join(t.TempDir(), "new", "inventory.yaml")
	stdout, err := runInit(t, out, "mon.example.net")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(out)
	if err != nil {
		t.Fatalf("the starter does not load: %v", err)
	}
	want := inventory.Images{Balancer: "karana/balancer", InfluxDB: "karana/influxdb", Grafana: "karana/grafana", API: "karana/api"}
	if inv.Images != want {
		t.Errorf("images %+v, want the production ones %+v", inv.Images, want)
	}
	if inv.LXD.Network.IPv4 != "10.0.12.1/24" || inv.LXD.Endpoint != "unix" {
		t.Errorf("lxd %+v, want the local daemon on 10.0.12.1/24", inv.LXD)
	}
	if b := inv.Balancers; b.Outer.Name != "lb0" || strings.Join(b.Inner, ",") != "lb1,lb2" || !b.Outer.Publish {
		t.Errorf("balancers %+v, want lb0 (published) in front of lb1, lb2", b)
	}
	if len(inv.Tenants) != 0 {
		t.Errorf("tenants %+v, want none", inv.Tenants)
	}
	data, _ := os.ReadFile(out)
	for _, test := range []string{"karana-test", "standin", "stand-in", "e2e"} {
		if bytes.Contains(bytes.ToLower(data), []byte(test)) {
			t.Errorf("the starter names %q, a part of the test back end:\n%s", test, data)
		}
	}
	comments := 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, "# ") {
			comments++
		}
	}
	if comments < 20 || !bytes.Contains(data, []byte("karana 1.2.3")) || !bytes.Contains(data, []byte("NAME.mon.example.net")) {
		t.Errorf("%d commented lines; want the settings explained, the version and the domain:\n%s", comments, data)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	if !strings.Contains(stdout, "wrote "+out) || !strings.Contains(stdout, "karana tenant add acme --domain acme.mon.example.net -i "+out) {
		t.Errorf("stdout %q", stdout)
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	out := filepath.Join(t.TempDir(), "inventory.yaml")
	const mine = "# the operator's own\ntenants: []\n"
	if err := os.WriteFile(out, []byte(mine), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, err := runInit(t, out, "example.org")
	if err == nil || !strings.Contains(err.Error(), out+" already exists") || cmdutil.ExitCode(err) != cmdutil.ExitFailure {
		t.Fatalf("err %v (exit %d), want the file named and exit 1", err, cmdutil.ExitCode(err))
	}
	got, _ := os.ReadFile(out)
	entries, _ := os.ReadDir(filepath.Dir(out))
	if string(got) != mine || len(entries) != 1 || stdout != "" {
		t.Errorf("file %q, %d entries, stdout %q: want the file untouched and nothing beside it", got, len(entries), stdout)
	}
}

// tenant add edits the starter in place: the tenant lands as a block
// under tenants, and every comment and line of the starter stays.
func TestStarterTakesATenant(t *testing.T) {
	out := filepath.Join(t.TempDir(), "inventory.yaml")
	if _, err := runInit(t, out, "example.org"); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(out)
	slot := 0
	inv, err := inventory.AddTenant(out, inventory.Tenant{Name: "acme", Domain: "acme.example.org", ID: "SMNTYQIUB4YTC", Slot: &slot})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(out)
	want := string(before) + "  - name: acme\n    domain: acme.example.org\n    id: SMNTYQIUB4YTC\n    slot: 0\n"
	if len(inv.Tenants) != 1 || string(after) != want {
		t.Errorf("after tenant add:\n%s\nwant:\n%s", after, want)
	}
}
