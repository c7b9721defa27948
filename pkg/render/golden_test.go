package render

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/haproxy"
	"github.com/karana-project/karana/pkg/inventory"
)

var update = flag.Bool("update", false, "rewrite testdata/*/golden and generate missing testdata certificates")

// goldenCases: each renders one inventory with the certificates in
// testdata/<case>/certs (generated once by -update, then committed).
var goldenCases = []struct {
	name, inventory string
}{
	// The shipped default, copied: tests never read inventories/, which
	// the operator changes (`tenant add`). .ci/run checks the copy is equal.
	{"local", "testdata/local/inventory.yaml"},
	{"multi", "testdata/multi/inventory.yaml"},
}

func loadGoldenInventory(t testing.TB, name, path string) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if name == "local" {
		// The default's cert_dir is relative (certs); its test certificates
		// are in testdata/local/certs, beside the copy.
		inv.TLS.CertDir, _ = filepath.Abs(filepath.Join("testdata", name, "certs"))
	}
	return inv
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			inv := loadGoldenInventory(t, tc.name, tc.inventory)
			out, err := Render(inv, Options{GenerateCerts: *update})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Missing) > 0 {
				t.Fatalf("testdata certificates missing: %v (run go test ./pkg/render -update)", out.Missing)
			}
			golden := filepath.Join("testdata", tc.name, "golden")
			checkGolden(t, golden, out)
			if _, err := haproxy.Find(); err != nil {
				t.Skip(err)
			}
			if err := Validate(context.Background(), out); err != nil {
				t.Errorf("golden configuration refused by haproxy: %v", err)
			}
		})
	}
}

// checkGolden compares every text file of out with golden/; certificates
// are compared with their sources by TestCertsCopied instead.
func checkGolden(t *testing.T, golden string, out *Output) {
	t.Helper()
	if *update {
		if err := os.RemoveAll(golden); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, name := range sortedNames(out.Files) {
		if strings.HasSuffix(name, ".pem") {
			continue
		}
		seen[name] = true
		p := filepath.Join(golden, filepath.FromSlash(name))
		if *update {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, out.Files[name], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%v (run go test ./pkg/render -update)", err)
			continue
		}
		if !bytes.Equal(want, out.Files[name]) {
			t.Errorf("%s differs from the golden file (go test ./pkg/render -update rewrites it):\n%s", name, unified(p, "rendered", want, out.Files[name]))
		}
	}
	_ = filepath.WalkDir(golden, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(golden, p)
			if !seen[filepath.ToSlash(rel)] {
				t.Errorf("golden file %s is no longer rendered", p)
			}
		}
		return nil
	})
}
