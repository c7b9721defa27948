package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

var testBase = Base{Suite: "bookworm", Mirror: DefaultMirror, Security: DefaultSecurity}

func TestRecipeHashChangesWithWhatMatters(t *testing.T) {
	api, _ := RecipeFor("api")
	bal, _ := RecipeFor("balancer")
	h := api.Hash(testBase)
	if h != api.Hash(testBase) {
		t.Fatal("hash is not stable")
	}
	other := []struct {
		name string
		hash string
	}{
		{"role", bal.Hash(testBase)},
		{"suite", api.Hash(Base{Suite: "trixie", Mirror: DefaultMirror, Security: DefaultSecurity})},
		{"mirror", api.Hash(Base{Suite: "bookworm", Mirror: "http://ftp.de.debian.org/debian", Security: DefaultSecurity})},
		{"files", func() string {
			r := api
			r.Files = []File{{Path: "/etc/x", Data: []byte("1"), Mode: 0o644}}
			return r.Hash(testBase)
		}()},
		{"file content", func() string {
			r := api
			r.Files = []File{{Path: "/etc/x", Data: []byte("2"), Mode: 0o644}}
			return r.Hash(testBase)
		}()},
	}
	seen := map[string]string{"": h}
	for _, o := range other {
		for name, prev := range seen {
			if o.hash == prev {
				t.Errorf("changing %s gives the same hash as %q", o.name, name)
			}
		}
		seen[o.name] = o.hash
	}
}

func TestNormalizeRoleAndRecipes(t *testing.T) {
	if r, err := NormalizeRole("influx"); err != nil || r != "influxdb" {
		t.Errorf("NormalizeRole(influx) = %q, %v", r, err)
	}
	if _, err := NormalizeRole("web"); err == nil || !strings.Contains(err.Error(), `"web"`) {
		t.Errorf("NormalizeRole(web) err = %v", err)
	}
	want := map[string]string{"balancer": "haproxy", "influxdb": "influxdb", "grafana": "grafana", "api": "git"}
	for role, pkg := range want {
		r, err := RecipeFor(role)
		if err != nil || strings.Join(r.Packages, " ") != pkg {
			t.Errorf("RecipeFor(%s) packages = %v, %v; want %q", role, r.Packages, err, pkg)
		}
	}
}

func TestStandinRecipe(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "standin")
	if err := os.WriteFile(bin, []byte("#!fake"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := StandinRecipe(bin)
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	for _, f := range r.Files {
		paths[f.Path] = string(f.Data)
	}
	if paths["/usr/sbin/grafana-server"] != "#!fake" ||
		!strings.Contains(paths["/etc/systemd/system/grafana-server.service"], "--config /etc/grafana/grafana.ini") ||
		r.Enable[0] != "grafana-server.service" || len(r.Packages) != 0 {
		t.Errorf("stand-in recipe = %+v", r)
	}
	if _, err := StandinRecipe(bin + ".missing"); err == nil {
		t.Error("missing binary accepted")
	}
}

func TestMetadataTarball(t *testing.T) {
	r, _ := RecipeFor("api")
	now := time.Unix(1700000000, 0)
	b, err := metadataTarball(properties(r, testBase), now)
	if err != nil {
		t.Fatal(err)
	}
	files := untar(t, b)
	var m metadata
	if err := yaml.Unmarshal(files["metadata.yaml"], &m); err != nil {
		t.Fatal(err)
	}
	if m.CreationDate != now.Unix() || m.Properties["karana.recipe"] != r.Hash(testBase) || m.Properties["karana.role"] != "api" {
		t.Errorf("metadata = %+v", m)
	}
	for path, tpl := range map[string]string{"/etc/hostname": "hostname.tpl", "/etc/hosts": "hosts.tpl"} {
		if m.Templates[path].Template != tpl || !strings.Contains(string(files["templates/"+tpl]), "{{ container.name }}") {
			t.Errorf("template for %s: %+v, content %q", path, m.Templates[path], files["templates/"+tpl])
		}
	}
}

func untar(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name], _ = io.ReadAll(tr)
	}
}

func TestLockRecord(t *testing.T) {
	p := filepath.Join(t.TempDir(), LockName)
	if l, err := ReadLock(p); err != nil || len(l.Images) != 0 {
		t.Fatalf("missing lock = %+v, %v", l, err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(Record(p, "karana/api", Locked{Role: "api", Fingerprint: "aa", Recipe: "r1"}))
	must(Record(p, "karana/balancer", Locked{Role: "balancer", Fingerprint: "bb", Recipe: "r2"}))
	must(Record(p, "karana/api", Locked{Role: "api", Fingerprint: "cc", Recipe: "r3"}))
	l, err := ReadLock(p)
	must(err)
	if l.Images["karana/api"].Fingerprint != "cc" || l.Images["karana/balancer"].Fingerprint != "bb" {
		t.Errorf("lock = %+v", l.Images)
	}
	must(os.WriteFile(p, []byte("images: [oops"), 0o644))
	if _, err := ReadLock(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("bad lock err = %v, want one naming %s", err, p)
	}
}

// Build must not touch debootstrap or LXD's image store when the alias
// already holds an image of the same recipe, nor for remote aliases.
func TestBuildSkips(t *testing.T) {
	ctx := context.Background()
	f := lxdfake.New()
	r, _ := RecipeFor("api")
	f.Images["karana/api"] = lxd.Image{Alias: "karana/api", Fingerprint: "fp1",
		Properties: map[string]string{"karana.recipe": r.Hash(testBase)}}
	lock := filepath.Join(t.TempDir(), LockName)
	opts := Options{Alias: "karana/api", Base: testBase, LockFile: lock, CacheDir: t.TempDir()}
	fp, changed, err := Build(ctx, f, "api", opts)
	if err != nil || changed || fp != "fp1" {
		t.Fatalf("Build = %q, %v, %v; want fp1 unchanged", fp, changed, err)
	}
	if l, _ := ReadLock(lock); l.Images["karana/api"].Fingerprint != "fp1" {
		t.Errorf("skipped build not recorded in the lock: %+v", l.Images)
	}
	fp, changed, err = Build(ctx, f, "api", Options{Alias: "images:debian/12", Base: testBase})
	if err != nil || changed || fp != "" {
		t.Errorf("remote alias: Build = %q, %v, %v; want a silent skip", fp, changed, err)
	}
	if got := f.CallsTo("ImportImage"); len(got) != 0 {
		t.Errorf("skipped builds imported: %v", got)
	}
	if _, _, err := Build(ctx, f, "api", Options{Base: testBase}); err == nil {
		t.Error("no alias accepted")
	}
}
