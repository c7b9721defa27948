package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadDefaultInventory(t *testing.T) {
	inv, err := Load("testdata/local.yaml") // inventories/local.yaml as shipped (.ci/run checks the copy)
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.OuterAddr().String(); got != "10.0.12.2" {
		t.Errorf("lb0 address = %s, want 10.0.12.2", got)
	}
	demo, ok := inv.Tenant("demo")
	if !ok {
		t.Fatal("tenant demo missing")
	}
	if got := inv.TenantAddr(*demo, RoleAPI).String(); got != "10.0.12.12" {
		t.Errorf("demo-api address = %s, want 10.0.12.12", got)
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings, each must appear in the error
	}{
		{"injection in domain", "tenants:\n  - name: a\n    domain: \"a.example.org\\n  server evil 1.2.3.4:80\"\n",
			[]string{"inv.yaml:3: tenants[0].domain", "not a valid DNS name"}},
		{"duplicate names and domains", "tenants:\n  - {name: a, domain: a.org}\n  - {name: a, domain: a.org}\n",
			[]string{"inv.yaml:3: tenants[1].name: duplicate tenant name \"a\" (first at line 2)", "inv.yaml:3: tenants[1].domain: duplicate domain"}},
		{"bad container name", "tenants:\n  - {name: 9Bad_Name, domain: a.org}\n", []string{"inv.yaml:2: tenants[0].name", "cannot name a container"}},
		{"unknown key", "lxd:\n  projekt: x\n", []string{"inv.yaml:2: unknown key \"projekt\""}},
		{"subnet too small", "lxd:\n  network:\n    ipv4: 10.0.0.1/28\n", []string{"inv.yaml:3: lxd.network.ipv4", "too small"}},
		{"subnet full", "lxd:\n  network:\n    ipv4: 10.0.0.1/27\ntenants:\n" + strings.Repeat("  - {name: a, domain: a.org}\n", 0) +
			"  - {name: a, domain: a.org}\n  - {name: b, domain: b.org}\n  - {name: c, domain: c.org}\n  - {name: d, domain: d.org}\n  - {name: e, domain: e.org}\n  - {name: f, domain: f.org}\n  - {name: g, domain: g.org}\n  - {name: h, domain: h.org}\n",
			[]string{"lxd.network.ipv4: subnet 10.0.0.0/27 is too small"}},
		{"wrong type", "balancers:\n  outer:\n    http_port: eighty\n", []string{"inv.yaml:3:", "eighty"}},
		{"bad limits", "limits:\n  memory: lots\n", []string{"inv.yaml:2: limits.memory"}},
		{"bad backups", "backups:\n  keep: -1\n  schedule: \"daily; rm -rf /\"\n", []string{"inv.yaml:2: backups.keep: -1", "inv.yaml:3: backups.schedule"}},
		{"one inner balancer", "balancers:\n  inner: [lb1]\n", []string{"balancers.inner: needs at least two"}},
		{"https without cert", "lxd:\n  endpoint: https://10.0.0.5:8443\n", []string{"needs lxd.client_cert"}},
		{"duplicate slot", "tenants:\n  - {name: a, domain: a.org, slot: 1}\n  - {name: b, domain: b.org, slot: 1}\n", []string{"inv.yaml:3: tenants[1].slot: slot 1 is already taken"}},
		{"bad yaml", "tenants: [\n", []string{"inv.yaml:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("inv.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse("inv.yaml", []byte("tenants:\n  - {name: A, domain: x}\n  - {name: b, domain: \"b .org\"}\n"))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	if len(ve.Problems) != 3 {
		t.Fatalf("want 3 problems, got %d: %v", len(ve.Problems), err)
	}
}

func TestSlotsAssignedStably(t *testing.T) {
	inv, err := Parse("inv.yaml", []byte("tenants:\n  - {name: a, domain: a.org}\n  - {name: b, domain: b.org, slot: 0}\n  - {name: c, domain: c.org}\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := []int{*inv.Tenants[0].Slot, *inv.Tenants[1].Slot, *inv.Tenants[2].Slot}
	if got[0] != 1 || got[1] != 0 || got[2] != 2 {
		t.Fatalf("slots = %v, want [1 0 2]", got)
	}
	if inv.FreeSlot() != 3 {
		t.Fatalf("free slot = %d, want 3", inv.FreeSlot())
	}
}

func TestAddRemoveTenantKeepsComments(t *testing.T) {
	p := filepath.Join(t.TempDir(), "inv.yaml")
	os.WriteFile(p, []byte("# my back end\nlxd:\n  project: p1 # keep me\n"), 0o640)
	slot := 0
	if _, err := AddTenant(p, Tenant{Name: "acme", Domain: "acme.test", Slot: &slot}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	if !strings.Contains(string(data), "# keep me") || !strings.Contains(string(data), "name: acme") {
		t.Fatalf("after add:\n%s", data)
	}
	if _, err := AddTenant(p, Tenant{Name: "acme", Domain: "other.test"}); err == nil {
		t.Fatal("adding a duplicate name must fail")
	}
	after, _ := os.ReadFile(p)
	if string(after) != string(data) {
		t.Fatal("a refused add changed the file")
	}
	inv, err := RemoveTenant(p, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Tenants) != 0 {
		t.Fatalf("tenants after remove: %v", inv.Tenants)
	}
	if _, err := RemoveTenant(p, "acme"); err == nil {
		t.Fatal("removing a missing tenant must fail")
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o640 {
		t.Fatalf("perm changed to %v", st.Mode().Perm())
	}
}

func TestBackupsDefaults(t *testing.T) {
	inv, err := Parse("/srv/k/inv.yaml", []byte("lxd:\n  project: p1\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := inv.Backups
	if b.Folder != "backups" || b.Keep != 7 || b.Schedule != "hourly" {
		t.Errorf("defaults = %+v, want backups, 7, hourly", b)
	}
	if got := inv.BackupDir(); got != "/srv/k/backups/p1" {
		t.Errorf("BackupDir = %s", got)
	}
	inv, err = Parse("/srv/k/inv.yaml", []byte("backups:\n  folder: /var/backups/karana\n  keep: 3\n  schedule: \"*-*-* 03:00:00\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.BackupDir(); got != "/var/backups/karana/karana" || inv.Backups.Keep != 3 {
		t.Errorf("BackupDir = %s, keep %d", got, inv.Backups.Keep)
	}
}
