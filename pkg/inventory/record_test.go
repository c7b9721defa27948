package inventory

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tenant written by hand, without id or slot, gets both recorded once,
// with the operator's comments kept; a second run changes nothing.
func TestRecordTenantKeys(t *testing.T) {
	p := filepath.Join(t.TempDir(), "inv.yaml")
	src := "# my back end\ntenants:\n  - name: first\n    domain: first.example.org\n    id: FIRSTID\n    slot: 0\n  - name: hand # written by hand\n    domain: hand.example.org\n"
	if err := os.WriteFile(p, []byte(src), 0o640); err != nil {
		t.Fatal(err)
	}
	n := 0
	newID := func() string { n++; return "NEWID" }
	inv, done, err := RecordTenantKeys(p, newID)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0] != "hand" || n != 1 {
		t.Fatalf("completed %v with %d new ids, want [hand] and 1", done, n)
	}
	h, _ := inv.Tenant("hand")
	if h.ID != "NEWID" || h.Slot == nil || *h.Slot != 1 {
		t.Fatalf("hand = %+v, want id NEWID slot 1", h)
	}
	data, _ := os.ReadFile(p)
	for _, want := range []string{"# my back end", "# written by hand", "id: NEWID", "slot: 1"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("file lacks %q:\n%s", want, data)
		}
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
	}
	again, done, err := RecordTenantKeys(p, newID)
	if err != nil || len(done) != 0 || n != 1 {
		t.Fatalf("second run: %v, %v, %d new ids", done, err, n)
	}
	if a, _ := again.Tenant("hand"); a.ID != "NEWID" || *a.Slot != 1 {
		t.Errorf("reloaded hand = %+v", a)
	}
	if data2, _ := os.ReadFile(p); string(data2) != string(data) {
		t.Errorf("second run rewrote the file:\n%s", data2)
	}
}

// A tenant added and removed again leaves the shipped inventory as it
// was, byte for byte: its blank lines and aligned comments stay.
func TestAddRemoveTenantKeepsTheLayout(t *testing.T) {
	orig, err := os.ReadFile("testdata/local.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(p, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	slot := 7
	inv, err := AddTenant(p, Tenant{Name: "acme", Domain: "acme.test", Customer: `Acme "Ltd": #1`, ID: "ACMEACMEACME1", Slot: &slot})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if !bytes.HasPrefix(got, orig[:bytes.Index(orig, []byte("\ntenants:"))]) {
		t.Errorf("the file above tenants changed:\n%s", got)
	}
	if a, ok := inv.Tenant("acme"); !ok || a.Customer != `Acme "Ltd": #1` || *a.Slot != 7 || len(inv.Tenants) != 2 {
		t.Errorf("tenants after the add: %+v", inv.Tenants)
	}
	if _, err := RemoveTenant(p, "acme"); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, orig) {
		t.Errorf("add then remove changed the file:\n%s", got)
	}
}

// TestTenantEditsKeepTheLayoutAnywhere: with the tenants section between
// other keys, or missing, an add then a remove gives back the file byte for
// byte; comments in and after the section stay, each once.
func TestTenantEditsKeepTheLayoutAnywhere(t *testing.T) {
	for name, orig := range map[string]string{
		"middle": `# karana inventory
lxd:
  project: prod       # aligned
  network: {ipv4: 10.9.0.1/24}

tenants:
  # the first customer
  - name: demo
    domain: demo.example.org # their domain

  # - name: gone (commented out by hand)

# limits for every tenant container
limits:
  cpu: "1"    # one core
`,
		"flow in the middle": "lxd: {project: prod}\ntenants: [{name: demo, domain: demo.example.org}]\n\n\n# keep\nlimits: {cpu: \"2\"}\n",
		"none":               "# no tenants yet\nlxd:\n  project: prod   # here\n\nlimits: {cpu: \"2\"}",
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "inventory.yaml")
			if err := os.WriteFile(p, []byte(orig), 0o644); err != nil {
				t.Fatal(err)
			}
			inv, err := AddTenant(p, Tenant{Name: "acme", Domain: "acme.test", ID: "ACMEACMEACME1"})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := inv.Tenant("acme"); !ok {
				t.Fatalf("acme not added: %+v", inv.Tenants)
			}
			got, _ := os.ReadFile(p)
			head, tail := orig, ""
			if i := strings.Index(orig, "tenants:"); i >= 0 {
				head = orig[:i]
				tail = orig[strings.Index(orig, "limits"):]
				tail = tail[strings.Index(tail, "\n"):] // after the key's own line
			}
			if !strings.HasPrefix(string(got), head) || !strings.HasSuffix(string(got), tail) {
				t.Errorf("the file outside tenants changed:\n%s", got)
			}
			for l, n := range comments([]byte(orig)) {
				if c := comments(got)[l]; c != n {
					t.Errorf("comment %q is in the file %d times after the add, want %d:\n%s", l, c, n, got)
				}
			}
			again, err := Load(p)
			if err != nil || again.Limits.CPU != inv.Limits.CPU || len(again.Tenants) != len(inv.Tenants) {
				t.Fatalf("reloaded: %v, %+v", err, again)
			}
			if _, err := RemoveTenant(p, "acme"); err != nil {
				t.Fatal(err)
			}
			got, _ = os.ReadFile(p)
			want := orig
			if name == "none" { // the section stays, empty
				want = orig + "\ntenants: []\n"
			}
			if string(got) != want {
				t.Errorf("add then remove:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestRemoveLastTenantKeepsTheKeysComment: yaml.v3 writes an emptied block
// list after the key's comment as a line it cannot read back, so the last
// tenant's removal leaves "tenants: [] # comment", and the next add a block
// list again with the comment on the key.
func TestRemoveLastTenantKeepsTheKeysComment(t *testing.T) {
	p := filepath.Join(t.TempDir(), "inventory.yaml")
	orig := "lxd: {project: prod}\ntenants: # our customers\n  - name: demo\n    domain: demo.example.org\nlimits: {cpu: \"2\"}\n"
	os.WriteFile(p, []byte(orig), 0o644)
	if _, err := RemoveTenant(p, "demo"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if want := "lxd: {project: prod}\ntenants: [] # our customers\nlimits: {cpu: \"2\"}\n"; string(got) != want {
		t.Errorf("after removing the last tenant:\n%s\nwant\n%s", got, want)
	}
	if _, err := AddTenant(p, Tenant{Name: "demo", Domain: "demo.example.org"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != orig {
		t.Errorf("after adding it again:\n%s\nwant\n%s", got, orig)
	}
}
