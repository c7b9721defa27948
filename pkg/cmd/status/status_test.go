package status

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
	"github.com/karana-project/karana/pkg/tlsgen"
	"github.com/karana-project/karana/pkg/traffic"
)

func TestNewCmdStatus(t *testing.T) {
	tests := []struct {
		args     []string
		want     Options
		wantErr  string
		wantCode int
	}{
		{args: nil, want: Options{Output: "text"}},
		{args: []string{"-o", "json"}, want: Options{Output: "json"}},
		{args: []string{"-o", "yaml"}, wantErr: `invalid --output "yaml"`, wantCode: cmdutil.ExitUsage},
		{args: []string{"lb0"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if tt.wantErr != "" {
				cmdtest.WantError(t, NewCmdStatus, tt.args, tt.wantErr, tt.wantCode)
				return
			}
			got := cmdtest.MustParse(t, NewCmdStatus, tt.args)
			if got.Output != tt.want.Output || got.IO == nil || got.Inventory == nil || got.Connect == nil {
				t.Errorf("options = %+v, want %+v", got, tt.want)
			}
		})
	}
}

const invYAML = `lxd: {project: karana-unit, network: {name: unitbr0, ipv4: 10.0.99.1/24}}
tenants:
  - {name: alpha, domain: alpha.example.org, slot: 0}
  - {name: beta, domain: beta.example.net, slot: 1}
`

// fakeHost has containers that are stopped or missing, so that no health
// check reaches the network, plus one karana container the inventory does
// not know and one that is not karana's.
func fakeHost() *lxdfake.Fake {
	f := lxdfake.New()
	f.Instances["lb0"] = &lxd.Instance{Name: "lb0", Status: "Stopped", IPv4: "10.0.99.2", Config: map[string]string{converge.KeyRole: converge.RoleBalancer}}
	f.Instances["alpha-api"] = &lxd.Instance{Name: "alpha-api", Status: "Stopped", Config: map[string]string{converge.KeyRole: "api", converge.KeyTenant: "alpha"}}
	f.Instances["ghost-api"] = &lxd.Instance{Name: "ghost-api", Status: "Running", IPv4: "10.0.99.40", Config: map[string]string{converge.KeyRole: "api", converge.KeyTenant: "ghost"}}
	f.Instances["unrelated"] = &lxd.Instance{Name: "unrelated", Status: "Running", IPv4: "10.0.99.50"}
	return f
}

func runStatus(t *testing.T, f lxd.Client, output string) (string, error) {
	t.Helper()
	return runStatusIn(t, t.TempDir(), f, output, nil)
}

func runStatusIn(t *testing.T, dir string, f lxd.Client, output string, tr Traffic) (string, error) {
	t.Helper()
	p := filepath.Join(dir, "inv.yaml")
	if err := os.WriteFile(p, []byte(invYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	ios, out, _ := iostreams.Test()
	fac := &cmdutil.Factory{IOStreams: ios, InventoryFlag: p}
	opts := &Options{IO: ios, Inventory: fac.Inventory, Output: output, Traffic: tr,
		Connect: func(_ context.Context, inv *inventory.Inventory) (lxd.Client, error) {
			if inv.LXD.Project != "karana-unit" {
				t.Errorf("connect with project %q", inv.LXD.Project)
			}
			return f, nil
		}}
	err := statusRun(context.Background(), opts)
	return out.String(), err
}

func TestStatusRunJSON(t *testing.T) {
	f := fakeHost()
	out, err := runStatus(t, f, "json")
	if cmdutil.ExitCode(err) != cmdutil.ExitDrift {
		t.Errorf("exit code %d (%v), want %d", cmdutil.ExitCode(err), err, cmdutil.ExitDrift)
	}
	var got []converge.Status
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	byName := map[string]converge.Status{}
	var order []string
	for _, s := range got {
		byName[s.Container] = s
		order = append(order, s.Container)
	}
	wantOrder := "lb0 lb1 lb2 alpha-influx alpha-grafana alpha-api beta-influx beta-grafana beta-api ghost-api"
	if strings.Join(order, " ") != wantOrder {
		t.Errorf("containers %q, want %q", strings.Join(order, " "), wantOrder)
	}
	want := map[string]converge.Status{
		"lb0":         {Group: "balancers", Container: "lb0", Role: "balancer", State: "Stopped", Address: "10.0.99.2", Want: "10.0.99.2", Health: "-"},
		"lb2":         {Group: "balancers", Container: "lb2", Role: "balancer", State: "missing", Want: "10.0.99.4", Health: "-"},
		"alpha-api":   {Group: "alpha", Container: "alpha-api", Role: "api", State: "Stopped", Want: "10.0.99.12", Health: "-"},
		"beta-influx": {Group: "beta", Container: "beta-influx", Role: "influx", State: "missing", Want: "10.0.99.13", Health: "-"},
		"ghost-api": {Group: "unknown", Container: "ghost-api", Role: "api", State: "Running", Address: "10.0.99.40",
			Health: "not in the inventory (tenant ghost)"},
	}
	for name, w := range want {
		if byName[name] != w {
			t.Errorf("%s = %+v, want %+v", name, byName[name], w)
		}
	}
	for _, c := range f.Calls {
		if !strings.HasPrefix(c, "ListInstances") && !strings.HasPrefix(c, "Get") {
			t.Errorf("status made a mutating call: %s", c)
		}
	}
}

func TestStatusRunText(t *testing.T) {
	out, err := runStatus(t, fakeHost(), "text")
	if cmdutil.ExitCode(err) != cmdutil.ExitDrift || err.Error() != "" {
		t.Errorf("err %v (code %d), want a silent drift error", err, cmdutil.ExitCode(err))
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 11 {
		t.Fatalf("got %d lines, want header + 10:\n%s", len(lines), out)
	}
	wantRows := map[int]string{
		0: "GROUP CONTAINER STATE ADDRESS HEALTH REQ/S 5XX/S P99 CERT EXPIRES",
		1: "balancers lb0 Stopped 10.0.99.2 - - - - -",
		2: "balancers lb1 missing (10.0.99.3) - - - - -",
		6: "alpha alpha-api Stopped (10.0.99.12) - - - - -",
	}
	for i, w := range wantRows {
		if got := strings.Join(strings.Fields(lines[i]), " "); got != w {
			t.Errorf("line %d = %q, want %q", i, got, w)
		}
	}
	if !strings.HasPrefix(lines[10], "unknown") || !strings.Contains(lines[10], "ghost-api") || strings.Contains(out, "unrelated") {
		t.Errorf("unknown rows wrong:\n%s", out)
	}
}

func TestStatusRunLXDUnavailable(t *testing.T) {
	f := lxdfake.New()
	f.Fail["ListInstances"] = errors.New("socket gone")
	out, err := runStatus(t, f, "json")
	if cmdutil.ExitCode(err) != cmdutil.ExitUnavailable || !strings.Contains(err.Error(), "socket gone") || out != "" {
		t.Errorf("code %d, err %v, stdout %q", cmdutil.ExitCode(err), err, out)
	}
}

func TestStatusRunTrafficAndCerts(t *testing.T) {
	dir := t.TempDir()
	made := time.Now().Add(-3 * 365 * 24 * time.Hour)
	expires := made.Add(tlsgen.Validity)
	pemBytes, err := tlsgen.SelfSigned([]string{"alpha.example.org"}, made)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "certs"), 0o700)
	os.WriteFile(filepath.Join(dir, "certs", "alpha.example.org.pem"), pemBytes, 0o600)
	tr := func(context.Context, *inventory.Inventory, lxd.Client) (map[string]traffic.Stats, error) {
		return map[string]traffic.Stats{"alpha-api": {RequestsPerSecond: 2.5, Errors5xxPerSec: 0.1, P99Millis: 12.4, Requests: 150, WindowSeconds: 60}}, nil
	}
	out, _ := runStatusIn(t, dir, fakeHost(), "json", tr)
	var got []Row
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	by := map[string]Row{}
	for _, r := range got {
		by[r.Container] = r
	}
	if a := by["alpha-api"]; a.Traffic == nil || a.Traffic.RequestsPerSecond != 2.5 || a.Traffic.P99Millis != 12.4 || a.CertExpires == nil {
		t.Errorf("alpha-api = %+v", a)
	}
	if g := by["alpha-grafana"]; g.Traffic == nil || g.Traffic.Requests != 0 || g.Traffic.P99Millis != -1 {
		t.Errorf("alpha-grafana without requests = %+v", g.Traffic)
	}
	if by["lb0"].Traffic != nil || by["beta-api"].CertExpires != nil || by["ghost-api"].Traffic != nil {
		t.Errorf("traffic or cert on a row without: %+v %+v %+v", by["lb0"], by["beta-api"], by["ghost-api"])
	}
	if c := by["alpha-influx"].CertExpires; c == nil || c.Sub(expires).Abs() > 48*time.Hour {
		t.Errorf("cert expiry %v, want about %v", c, expires)
	}
	text, _ := runStatusIn(t, dir, fakeHost(), "text", tr)
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "alpha-api") {
			if got := strings.Join(strings.Fields(l), " "); got != "alpha alpha-api Stopped (10.0.99.12) - 2.50 0.10 12ms "+expires.UTC().Format("2006-01-02") {
				t.Errorf("text row %q", got)
			}
		}
	}
	_, err = runStatusIn(t, t.TempDir(), fakeHost(), "text", func(context.Context, *inventory.Inventory, lxd.Client) (map[string]traffic.Stats, error) {
		return nil, errors.New("lb1: no socket")
	})
	if cmdutil.ExitCode(err) != cmdutil.ExitDrift {
		t.Errorf("unreadable traffic changes the exit code: %v", err)

	}
}

// clustered is a fake LXD cluster of two members, m1 offline.
type clustered struct{ *lxdfake.Fake }

func (clustered) Members(context.Context) ([]lxd.Member, error) {
	return []lxd.Member{{Name: "m0", Status: "Online"}, {Name: "m1", Status: "Offline", Message: "No heartbeat"}}, nil
}

func TestStatusRunClusterMembers(t *testing.T) {
	f := fakeHost()
	f.Instances["lb0"].Location = "m0"
	f.Instances["alpha-api"].Location, f.Instances["alpha-api"].Status = "m1", "Error"
	out, err := runStatus(t, clustered{f}, "text")
	if cmdutil.ExitCode(err) != cmdutil.ExitDrift {
		t.Errorf("exit code %d (%v), want drift", cmdutil.ExitCode(err), err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i, w := range map[int]string{
		0: "GROUP CONTAINER STATE ADDRESS MEMBER HEALTH REQ/S 5XX/S P99 CERT EXPIRES",
		1: "balancers lb0 Stopped 10.0.99.2 m0 - - - - -",
		2: "balancers lb1 missing (10.0.99.3) - - - - - -",
		6: "alpha alpha-api member offline (10.0.99.12) m1 - - - - -",
	} {
		if got := strings.Join(strings.Fields(lines[i]), " "); got != w {
			t.Errorf("line %d = %q, want %q", i, got, w)
		}
	}
	out, _ = runStatus(t, clustered{f}, "json")
	if !strings.Contains(out, `"location": "m1"`) && !strings.Contains(out, `"location":"m1"`) {
		t.Errorf("json has no location: %s", out)
	}
}
