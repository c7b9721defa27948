package list

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
	"github.com/karana-project/karana/pkg/tenant"
)

func TestNewCmdList(t *testing.T) {
	tests := []struct {
		args     []string
		want     Options
		wantErr  string
		wantCode int
	}{
		{args: nil, want: Options{Output: "text"}},
		{args: []string{"-o", "json"}, want: Options{Output: "json"}},
		{args: []string{"--output", "text"}, want: Options{Output: "text"}},
		{args: []string{"-o", "yaml"}, wantErr: `invalid --output "yaml"`, wantCode: cmdutil.ExitUsage},
		{args: []string{"acme"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if tt.wantErr != "" {
				cmdtest.WantError(t, NewCmdList, tt.args, tt.wantErr, tt.wantCode)
				return
			}
			got := cmdtest.MustParse(t, NewCmdList, tt.args)
			if got.Output != tt.want.Output || got.IO == nil || got.Inventory == nil {
				t.Errorf("options = %+v, want %+v", got, tt.want)
			}
		})
	}
}

const twoTenants = `lxd: {project: karana-unit, network: {name: unitbr0, ipv4: 10.0.99.1/24}}
tenants:
  - {name: alpha, domain: alpha.example.org, customer: Acme, id: AAAAAAAAAAAAA, slot: 0}
  - {name: beta, domain: beta.example.net, slot: 2}
`

func writeInventory(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runList(t *testing.T, path, output string) (string, string, error) {
	t.Helper()
	ios, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, InventoryFlag: path}
	err := listRun(context.Background(), &Options{IO: ios, Inventory: f.Inventory, Output: output})
	return out.String(), errOut.String(), err
}

func TestListRunText(t *testing.T) {
	out, errOut, err := runList(t, writeInventory(t, twoTenants), "text")
	if err != nil {
		t.Fatal(err)
	}
	if errOut != "" {
		t.Errorf("stderr %q", errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := [][]string{
		{"NAME", "DOMAIN", "CUSTOMER", "ID", "SLOT", "ADDRESSES"},
		{"alpha", "alpha.example.org", "Acme", "AAAAAAAAAAAAA", "0", "10.0.99.10-12"},
		{"beta", "beta.example.net", "-", "-", "2", "10.0.99.16-18"},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if got := strings.Fields(lines[i]); strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("line %d = %q, want fields %q", i, lines[i], w)
		}
	}
}

func TestListRunJSON(t *testing.T) {
	out, _, err := runList(t, writeInventory(t, twoTenants), "json")
	if err != nil {
		t.Fatal(err)
	}
	var got []tenant.Info
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if len(got) != 2 {
		t.Fatalf("got %d tenants: %s", len(got), out)
	}
	a, b := got[0], got[1]
	if a.Name != "alpha" || a.Domain != "alpha.example.org" || a.Customer != "Acme" || a.ID != "AAAAAAAAAAAAA" || a.Slot != 0 {
		t.Errorf("alpha = %+v", a)
	}
	if b.Name != "beta" || b.Domain != "beta.example.net" || b.Customer != "" || b.ID != "" || b.Slot != 2 {
		t.Errorf("beta = %+v", b)
	}
	wantC := map[string]string{"beta-influx": "10.0.99.16", "beta-grafana": "10.0.99.17", "beta-api": "10.0.99.18"}
	if len(b.Containers) != len(wantC) {
		t.Errorf("beta containers %v, want %v", b.Containers, wantC)
	}
	for n, addr := range wantC {
		if b.Containers[n] != addr {
			t.Errorf("beta container %s at %q, want %q", n, b.Containers[n], addr)
		}
	}
	if a.Containers["alpha-influx"] != "10.0.99.10" || a.Containers["alpha-api"] != "10.0.99.12" {
		t.Errorf("alpha containers %v", a.Containers)
	}
	if strings.Join(a.Hosts, " ") != "api.alpha.example.org grafana.alpha.example.org influx.alpha.example.org" {
		t.Errorf("alpha hosts %v", a.Hosts)
	}
	if a.Secrets != nil || strings.Contains(out, "secrets") {
		t.Errorf("list prints secrets: %s", out)
	}
}

func TestListRunEmptyAndInvalid(t *testing.T) {
	empty := writeInventory(t, "tenants: []\n")
	out, errOut, err := runList(t, empty, "text")
	if err != nil || out != "" || !strings.Contains(errOut, "No tenants in "+empty) {
		t.Errorf("empty text: err %v, stdout %q, stderr %q", err, out, errOut)
	}
	out, _, err = runList(t, empty, "json")
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Errorf("empty json: err %v, stdout %q", err, out)
	}
	bad := writeInventory(t, "tenants:\n  - {name: Bad_Name, domain: a.example.org}\n")
	out, _, err = runList(t, bad, "text")
	if cmdutil.ExitCode(err) != cmdutil.ExitInvalid || !strings.Contains(err.Error(), bad) || out != "" {
		t.Errorf("invalid inventory: code %d, err %v, stdout %q", cmdutil.ExitCode(err), err, out)
	}
}

func TestListRunClusterMembers(t *testing.T) {
	f := lxdfake.New()
	for c, m := range map[string]string{"alpha-influx": "m0", "alpha-grafana": "m0", "alpha-api": "m1", "lb0": "m0"} {
		f.Instances[c] = &lxd.Instance{Name: c, Status: "Running", Location: m}
	}
	ios, out, _ := iostreams.Test()
	fac := &cmdutil.Factory{IOStreams: ios, InventoryFlag: writeInventory(t, twoTenants)}
	connect := func(context.Context, *inventory.Inventory) (lxd.Client, error) { return f, nil }
	if err := listRun(context.Background(), &Options{IO: ios, Inventory: fac.Inventory, Connect: connect, Output: "json"}); err != nil {
		t.Fatal(err)
	}
	var got []tenant.Info
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got[0].Members["alpha-api"] != "m1" || got[0].Members["alpha-influx"] != "m0" || len(got[1].Members) != 0 {
		t.Errorf("members = %v / %v", got[0].Members, got[1].Members)
	}
	out.Reset()
	if err := listRun(context.Background(), &Options{IO: ios, Inventory: fac.Inventory, Connect: connect, Output: "text"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "MEMBERS") || !strings.Contains(out.String(), "m0,m0,m1") || !strings.Contains(out.String(), "-,-,-") {
		t.Errorf("text:\n%s", out)
	}
}

func TestListRunLXDDownStillLists(t *testing.T) {
	ios, out, errOut := iostreams.Test()
	fac := &cmdutil.Factory{IOStreams: ios, InventoryFlag: writeInventory(t, twoTenants)}
	connect := func(context.Context, *inventory.Inventory) (lxd.Client, error) {
		return nil, errors.New("no route to host")
	}
	if err := listRun(context.Background(), &Options{IO: ios, Inventory: fac.Inventory, Connect: connect, Output: "json"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "no route to host") || !strings.Contains(out.String(), `"alpha"`) {
		t.Errorf("stdout %q stderr %q", out, errOut)
	}
}
