package build

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/host"
	"github.com/karana-project/karana/pkg/image"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

func TestNewCmdBuildFlags(t *testing.T) {
	tests := []struct {
		args  []string
		roles []string
		alias string
		force bool
		err   string
	}{
		{args: nil},
		{args: []string{"--role", "influx", "--role", "api", "--force"}, roles: []string{"influxdb", "api"}, force: true},
		{args: []string{"--role", "api", "--alias", "x/api"}, roles: []string{"api"}, alias: "x/api"},
		{args: []string{"--grafana-standin", "bin/s"}},
		{args: []string{"--role", "grafana", "--grafana-standin", "bin/s"}, roles: []string{"grafana"}},
		{args: []string{"--role", "web"}, err: `unknown image role "web"`},
		{args: []string{"--alias", "x/api"}, err: "--alias needs exactly one --role"},
		{args: []string{"--role", "api", "--grafana-standin", "bin/s"}, err: "--grafana-standin applies to the grafana role"},
		{args: []string{"-o", "yaml"}, err: "invalid --output"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if tt.err != "" {
				cmdtest.WantError(t, NewCmdBuild, tt.args, tt.err, cmdutil.ExitUsage)
				return
			}
			got := cmdtest.MustParse(t, NewCmdBuild, tt.args)
			if strings.Join(got.Roles, ",") != strings.Join(tt.roles, ",") || got.Alias != tt.alias || got.Force != tt.force {
				t.Errorf("options = %+v", got)
			}
		})
	}
}

func testInventory() (*inventory.Inventory, error) {
	return &inventory.Inventory{Path: "/tmp/nowhere/local.yaml", Images: inventory.Images{
		Balancer: "karana/balancer", InfluxDB: "karana/influxdb", Grafana: "images:grafana", API: "karana/api"}}, nil
}

func TestBuildRun(t *testing.T) {
	ios, out, _ := iostreams.Test()
	var built []string
	var project string
	opts := &Options{
		IO: ios, Inventory: testInventory, Output: "text",
		Connect: func(_ context.Context, inv *inventory.Inventory) (lxd.Client, error) {
			project = inv.LXD.Project
			return lxdfake.New(), nil
		},
		Build: func(_ context.Context, _ lxd.Client, role string, o image.Options) (string, bool, error) {
			built = append(built, role+"="+o.Alias)
			if role == "influxdb" {
				return "", false, errors.New("apt failed")
			}
			return "0123456789abcdef", role == "balancer", nil
		},
	}
	err := buildRun(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "apt failed") {
		t.Fatalf("err = %v, want the influxdb failure", err)
	}
	if project != "default" {
		t.Errorf("connected to project %q, want default (shared images)", project)
	}
	if strings.Join(built, " ") != "balancer=karana/balancer influxdb=karana/influxdb api=karana/api" {
		t.Errorf("built %v: every local role, after a failure too, and not the remote grafana", built)
	}
	want := []string{"balancer  karana/balancer          0123456789ab built",
		"influxdb  karana/influxdb          -            failed",
		"grafana   images:grafana           -            remote",
		"api       karana/api               0123456789ab unchanged"}
	if got := strings.TrimSpace(out.String()); got != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestBuildRunEnsuresLocalLXDFirst(t *testing.T) {
	ios, _, _ := iostreams.Test()
	var calls []string
	local := func() (*inventory.Inventory, error) {
		inv, _ := testInventory()
		inv.LXD.Endpoint = "unix"
		return inv, nil
	}
	opts := &Options{
		IO: ios, Inventory: local, Output: "text", Roles: []string{"api"},
		EnsureLXD: func(context.Context, host.Progress) (bool, error) {
			calls = append(calls, "ensure")
			return false, errors.New("apt-get install lxd: exit 100")
		},
		Connect: func(context.Context, *inventory.Inventory) (lxd.Client, error) {
			calls = append(calls, "connect")
			return lxdfake.New(), nil
		},
	}
	err := buildRun(context.Background(), opts)
	if cmdutil.ExitCode(err) != cmdutil.ExitUnavailable || !strings.Contains(err.Error(), "exit 100") {
		t.Fatalf("err = %v (exit %d), want the LXD failure with exit 5", err, cmdutil.ExitCode(err))
	}
	if strings.Join(calls, " ") != "ensure" {
		t.Fatalf("calls = %v: LXD must be ensured before connecting, and nothing after a failure", calls)
	}
}
