package inventory_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/render"
)

// fuzzSeeds are inventories that exercise the validator's edges, beside
// the shipped default.
var fuzzSeeds = []string{
	"tenants:\n  - name: a\n    domain: \"a.example.org\\n  server evil 1.2.3.4:80\"\n",
	"tenants:\n  - {name: a, domain: a.org}\n  - {name: a, domain: a.org}\n",
	"tenants:\n  - {name: 9Bad_Name, domain: a.org}\n",
	"tenants:\n  - {name: a, domain: a.org, slot: 1}\n  - {name: b, domain: b.org, slot: 1}\n",
	"tenants:\n  - {name: a, domain: \"a.org#x\"}\n  - {name: b, domain: \"b .org\"}\n",
	"lxd:\n  network:\n    ipv4: 10.0.0.1/27\n",
	"balancers:\n  inner: [lb1, \"lb2 \"]\n  hard_stop_after: 1h30m\n",
	"services:\n  grafana: {host: \"g\\tx\", port: 3000}\n",
	"tenants: [\n",
	"",
}

// FuzzParse checks that Parse never panics and that an inventory it
// accepts is one karana can use: it survives a round trip through YAML,
// and every value lands in the HAProxy configuration without being
// refused as unsafe.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/local.yaml"); err == nil {
		f.Add(b)
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := inventory.Parse("fuzz.yaml", data)
		if err != nil {
			var ve *inventory.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("Parse error is not a ValidationError with problems: %v", err)
			}
			return
		}
		checkSafe(t, inv)

		again, err := yaml.Marshal(inv)
		if err != nil {
			t.Fatalf("marshalling an accepted inventory: %v", err)
		}
		inv2, err := inventory.Parse("fuzz.yaml", again)
		if err != nil {
			t.Fatalf("an accepted inventory does not re-validate: %v\n%s", err, again)
		}
		if len(inv2.Tenants) != len(inv.Tenants) {
			t.Fatalf("round trip changed the tenants: %d, then %d", len(inv.Tenants), len(inv2.Tenants))
		}
	})
}

func checkSafe(t *testing.T, inv *inventory.Inventory) {
	t.Helper()
	for _, tn := range inv.Tenants {
		if err := inventory.ValidTenantName(tn.Name); err != nil {
			t.Fatalf("accepted tenant name %q: %v", tn.Name, err)
		}
		if err := inventory.ValidDomain(tn.Domain); err != nil {
			t.Fatalf("accepted domain %q: %v", tn.Domain, err)
		}
		if tn.Slot == nil {
			t.Fatalf("tenant %q has no slot after Parse", tn.Name)
		}
	}
	// Render without touching the file system: no certificates are read
	// from wherever the fuzzed inventory points.
	inv.TLS.CertDir = "/nonexistent/karana-fuzz"
	for i := range inv.Tenants {
		inv.Tenants[i].Cert = ""
	}
	out, err := render.Render(inv, render.Options{})
	if err != nil {
		t.Fatalf("accepted inventory does not render: %v", err)
	}
	hosts := string(out.Files[render.MapFile])
	for _, tn := range inv.Tenants {
		want := inv.Services.Grafana.Host + "." + tn.Domain + " " + tn.ContainerName(inventory.RoleGrafana) + "\n"
		if !strings.Contains(hosts, want) {
			t.Fatalf("host map lacks %q", want)
		}
	}
}

// FuzzTenantEdit checks the in-place edits on any accepted inventory: a
// tenant added and removed again leaves the same inventory, every comment
// line that yaml.v3 keeps is still there, and none is written twice.
func FuzzTenantEdit(f *testing.F) {
	if b, err := os.ReadFile("testdata/local.yaml"); err == nil {
		f.Add(b)
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		"# top\nlxd: {project: p}\n\ntenants:\n  - {name: a, domain: a.org} # a\n\n  # old: b\n\n# next\nlimits: {cpu: \"2\"}\n",
		"tenants:\n- name: a\n  domain: a.org\n# foot\nlimits:\n  cpu: \"2\"\n",
		"lxd: {project: p}\n# only a comment",
		"tenants: []\nlimits: {cpu: \"1\"}\n",
		"tenants:\n  - name: a\n    domain: a.org\n    # inside\nbackups: {keep: 3}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		before, err := inventory.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if _, ok := before.Tenant("zzfuzz"); ok {
			return
		}
		p := t.TempDir() + "/inventory.yaml"
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := inventory.AddTenant(p, inventory.Tenant{Name: "zzfuzz", Domain: "zz.fuzz.test", ID: "ZZFUZZZZFUZZ1"}); err != nil {
			var ve *inventory.ValidationError
			if errors.As(err, &ve) {
				return // a full subnet, say
			}
			t.Fatalf("AddTenant: %v", err)
		}
		added, _ := os.ReadFile(p)
		if _, err := inventory.RemoveTenant(p, "zzfuzz"); err != nil {
			t.Fatalf("RemoveTenant after AddTenant: %v\n%s", err, added)
		}
		after, err := inventory.Load(p)
		if err != nil {
			t.Fatalf("the file after add and remove: %v", err)
		}
		a, _ := yaml.Marshal(before.Tenants)
		b, _ := yaml.Marshal(after.Tenants)
		if string(a) != string(b) || before.LXD != after.LXD || before.Limits != after.Limits {
			t.Fatalf("add then remove changed the inventory:\n%s\nthen\n%s", a, b)
		}
		// The comments yaml.v3 itself keeps through a decode and encode
		// (it drops some of a malformed file's) must all be there.
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		kept, _ := yaml.Marshal(&doc)
		got, _ := os.ReadFile(p)
		for _, text := range []string{string(added), string(got)} {
			want, have := commentLines(string(kept)), commentLines(text)
			for c, n := range want {
				if have[c] < n {
					t.Fatalf("comment %q lost:\n%s\nfrom\n%s", c, text, data)
				}
			}
			for c, n := range have { // an end-of-line comment may come back on its own line
				if n > strings.Count(string(data), c) {
					t.Fatalf("comment %q doubled:\n%s\nfrom\n%s", c, text, data)
				}
			}
		}
	})
}

func commentLines(s string) map[string]int {
	m := map[string]int{}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "#") {
			m[l]++
		}
	}
	return m
}
