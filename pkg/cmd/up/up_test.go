package up

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/host"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
	upkg "github.com/karana-project/karana/pkg/up"
)

func TestNewCmdUp(t *testing.T) {
	tests := []struct {
		args     []string
		want     Options
		wantErr  string
		wantCode int
	}{
		{args: nil, want: Options{Output: "text"}},
		{args: []string{"--dry-run"}, want: Options{DryRun: true, Output: "text"}},
		{args: []string{"--dry-run", "-o", "json"}, want: Options{DryRun: true, Output: "json"}},
		{args: []string{"-o", "yaml"}, wantErr: `invalid --output "yaml"`, wantCode: cmdutil.ExitUsage},
		{args: []string{"acme"}, wantErr: "unknown command"},
		{args: []string{"--dry-run=maybe"}, wantErr: "invalid argument"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if tt.wantErr != "" {
				cmdtest.WantError(t, NewCmdUp, tt.args, tt.wantErr, tt.wantCode)
				return
			}
			got := cmdtest.MustParse(t, NewCmdUp, tt.args)
			if got.DryRun != tt.want.DryRun || got.Output != tt.want.Output {
				t.Fatalf("options = %+v, want %+v", got, tt.want)
			}
			d := got.Deps
			if got.IO == nil || got.Inventory == nil || got.LXD != nil || d.EnsureLXD == nil || d.PlanLXD == nil ||
				d.Connect == nil || d.BuildImage == nil || d.Validate == nil || d.Binary == nil {
				t.Errorf("dependencies not wired: %+v", *got)
			}
		})
	}
}

const invYAML = `lxd: {project: karana-unit, network: {name: unitbr0, ipv4: 10.0.99.1/24}}
tenants:
  - {name: alpha, domain: alpha.example.org, id: AAAAAAAAAAAAA, slot: 0}
`

// snapshot is every file under dir with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			m[p+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		m[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// mutating is whether a recorded lxdfake call changes state.
func mutating(call string) bool {
	m := strings.Fields(call)[0]
	return !strings.HasPrefix(m, "Get") && !strings.HasPrefix(m, "List") && m != "ImageFingerprint" && m != "PullFile"
}

// noDeps fails the test when a part that changes the host is used.
func noDeps(t *testing.T, plan []string) upkg.Deps {
	return upkg.Deps{
		EnsureLXD: func(context.Context, host.Progress) (bool, error) {
			t.Error("EnsureLXD in a dry run")
			return false, nil
		},
		PlanLXD: func(context.Context) ([]string, error) { return plan, nil },
		Connect: func(context.Context, *inventory.Inventory) (lxd.Client, error) {
			t.Error("Connect despite a preconnected client")
			return nil, errors.New("unexpected")
		},
		BuildImage: func(context.Context, lxd.Client, *inventory.Inventory, string, string) error {
			t.Error("BuildImage in a dry run")
			return nil
		},
		Binary: func() ([]byte, error) { return []byte("karana"), nil },
	}
}

func TestUpRunDryRunTouchesNothing(t *testing.T) {
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "inv.yaml")
			if err := os.WriteFile(p, []byte(invYAML), 0o644); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			f := lxdfake.New()
			ios, out, _ := iostreams.Test()
			fac := &cmdutil.Factory{IOStreams: ios, InventoryFlag: p}
			opts := &Options{IO: ios, Inventory: fac.Inventory, LXD: f, Deps: noDeps(t, []string{"install lxd"}),
				DryRun: true, Output: output}
			if err := upRun(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			if len(f.Calls) == 0 {
				t.Error("dry run read nothing from LXD")
			}
			for _, c := range f.Calls {
				if mutating(c) {
					t.Errorf("dry run called %s", c)
				}
			}
			after := snapshot(t, dir)
			if len(after) != len(before) || after[p] != invYAML {
				t.Errorf("dry run changed files: before %d entries, after %d", len(before), len(after))
			}
			for k := range after {
				if _, ok := before[k]; !ok {
					t.Errorf("dry run wrote %s", k)
				}
			}
			if output == "json" {
				var res struct {
					DryRun  bool           `json:"dry_run"`
					Changed bool           `json:"changed"`
					Error   string         `json:"error"`
					Objects []converge.Row `json:"objects"`
				}
				if err := json.Unmarshal(out.Bytes(), &res); err != nil {
					t.Fatalf("%v in %s", err, out)
				}
				if !res.DryRun || !res.Changed || res.Error != "" {
					t.Errorf("result %+v", res)
				}
				objs := map[string]converge.Row{}
				for _, r := range res.Objects {
					objs[r.Object] = r
				}
				for _, name := range []string{"LXD", "lb0", "lb1", "lb2", "alpha-influx", "alpha-grafana", "alpha-api"} {
					if r, ok := objs[name]; !ok || !r.Changed() {
						t.Errorf("plan for %s: %+v (present %v)", name, r, ok)
					}
				}
				if c := objs["LXD"].Changes; len(c) == 0 || !strings.Contains(strings.Join(c, " "), "would install lxd") {
					t.Errorf("LXD plan %v, want the PlanLXD step", c)
				}
			} else if !strings.Contains(out.String(), "alpha-api") || !strings.Contains(out.String(), "lb0") {
				t.Errorf("summary lacks the planned containers:\n%s", out)
			}
		})
	}
}

// A failing step is reported in -o json and returned, naming the container.
func TestUpRunFailureJSON(t *testing.T) {
	p := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(p, []byte(invYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	f := lxdfake.New()
	f.Fail["ListInstances"] = errors.New("lxd fell over")
	f.Fail["GetInstance"] = errors.New("lxd fell over")
	ios, out, _ := iostreams.Test()
	fac := &cmdutil.Factory{IOStreams: ios, InventoryFlag: p}
	opts := &Options{IO: ios, Inventory: fac.Inventory, LXD: f, Deps: noDeps(t, nil), DryRun: true, Output: "json"}
	err := upRun(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "lxd fell over") {
		t.Fatalf("err %v", err)
	}
	var res struct {
		Error string `json:"error"`
	}
	if jerr := json.Unmarshal(out.Bytes(), &res); jerr != nil || res.Error != err.Error() {
		t.Errorf("json error %q (%v), want %q", res.Error, jerr, err)
	}
	if !bytes.Contains(out.Bytes(), []byte(`"dry_run": true`)) {
		t.Errorf("json %s", out)
	}
}
