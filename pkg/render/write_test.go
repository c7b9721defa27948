package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteAndDiff(t *testing.T) {
	inv := testInventory(t, 3)
	out := mustRender(t, inv, Options{GenerateCerts: true})
	dir := filepath.Join(t.TempDir(), "rendered")

	if d, err := Diff(dir, out); err != nil || !strings.Contains(d, "only rendered: outer.cfg") {
		t.Fatalf("diff against a missing folder = %q, %v", d, err)
	}
	if err := Write(dir, out); err != nil {
		t.Fatal(err)
	}
	if d, err := Diff(dir, out); err != nil || d != "" {
		t.Fatalf("diff right after Write = %q, %v", d, err)
	}
	for name := range out.Files {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != FileMode(name) {
			t.Errorf("%s has mode %v, want %v", name, st.Mode().Perm(), FileMode(name))
		}
	}

	// A hand edit is shown as a diff of that file, at its line.
	mapPath := filepath.Join(dir, MapFile)
	b, _ := os.ReadFile(mapPath)
	edited := strings.Replace(string(b), "t00001-api", "t00002-api", 1)
	os.WriteFile(mapPath, []byte(edited), 0o644)
	d, err := Diff(dir, out)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"--- " + mapPath, "-api.t00001.example.org t00002-api", "+api.t00001.example.org t00001-api", "@@ -2,7 +2,7 @@"} {
		if !strings.Contains(d, w) {
			t.Errorf("diff lacks %q:\n%s", w, d)
		}
	}

	// A missing file, a changed certificate and a stale one are named; the
	// certificate's content is not printed.
	os.Remove(filepath.Join(dir, OuterFile))
	certPath := filepath.Join(dir, CertsDir, "t00000.example.org.pem")
	os.WriteFile(certPath, []byte("-----BEGIN PRIVATE KEY-----\nsecret\n"), 0o600)
	stale := filepath.Join(dir, CertsDir, "gone.example.org.pem")
	os.WriteFile(stale, []byte("old"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	d, _ = Diff(dir, out)
	for _, w := range []string{"only rendered: outer.cfg", "certificate differs: " + certPath, "stale: " + stale} {
		if !strings.Contains(d, w) {
			t.Errorf("diff lacks %q:\n%s", w, d)
		}
	}
	if strings.Contains(d, "secret") || strings.Contains(d, "notes.txt") {
		t.Errorf("diff shows a key or a file karana does not own:\n%s", d)
	}

	// Write repairs all of it, deletes the stale certificate, keeps notes.txt.
	if err := Write(dir, out); err != nil {
		t.Fatal(err)
	}
	if d, _ := Diff(dir, out); d != "" {
		t.Errorf("diff after a second Write:\n%s", d)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale certificate kept (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Errorf("Write removed a file it does not own: %v", err)
	}
}

func TestWriteRemovesTenant(t *testing.T) {
	inv := testInventory(t, 2)
	dir := t.TempDir()
	if err := Write(dir, mustRender(t, inv, Options{GenerateCerts: true})); err != nil {
		t.Fatal(err)
	}
	inv.Tenants = inv.Tenants[:1] // keeps t00001
	out := mustRender(t, inv, Options{})
	changes, err := Compare(dir, out)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, c := range changes {
		status[c.Path] = c.Status
	}
	if status[CertsDir+"/t00000.example.org.pem"] != StatusRemoved || status[MapFile] != StatusChanged || status[OuterFile] != StatusUnchanged {
		t.Errorf("changes after removing a tenant: %v", status)
	}
	if err := Write(dir, out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, CertsDir, "t00000.example.org.pem")); !os.IsNotExist(err) {
		t.Error("removed tenant's certificate is still in the render folder")
	}
}

func TestUnifiedCapsLongChanges(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < 500; i++ {
		a.WriteString("same\n")
		b.WriteString("new\n")
	}
	d := unified("old", "new", []byte(a.String()), []byte(b.String()))
	if !strings.Contains(d, "... 440 more lines") || strings.Count(d, "\n") > 2*maxDiffLines+10 {
		t.Errorf("diff of 500 changed lines is not capped:\n%.300s", d)
	}
}
