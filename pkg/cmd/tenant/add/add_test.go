package add

import (
	"bytes"
	"context"
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
)

func TestNewCmdAdd(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     Options
		wantErr  string
		wantCode int // 0: cobra's own error, made a usage error by pkg/karana.Run (see add_usage_test.go)
	}{
		{name: "name and domain", args: []string{"acme", "--domain", "acme.example.org"},
			want: Options{Tenant: inventory.Tenant{Name: "acme", Domain: "acme.example.org"}, Output: "text"}},
		{name: "every flag", args: []string{"bintumani", "--domain", "bintumani.org", "--customer", "Acme Ltd", "--id", "SMNTYQIUB4YTC", "--show-secrets", "-o", "json"},
			want: Options{Tenant: inventory.Tenant{Name: "bintumani", Domain: "bintumani.org", Customer: "Acme Ltd", ID: "SMNTYQIUB4YTC"}, ShowSecrets: true, Output: "json"}},
		{name: "missing name", args: []string{"--domain", "acme.example.org"}, wantErr: "accepts 1 arg(s), received 0"},
		{name: "two names", args: []string{"a", "b", "--domain", "acme.example.org"}, wantErr: "accepts 1 arg(s), received 2"},
		{name: "missing domain", args: []string{"acme"}, wantErr: `required flag(s) "domain" not set`},
		{name: "bad output", args: []string{"acme", "--domain", "acme.example.org", "-o", "yaml"}, wantErr: `invalid --output "yaml"`, wantCode: cmdutil.ExitUsage},
		{name: "bad name", args: []string{"Bad_Name", "--domain", "acme.example.org"}, wantErr: `tenant name: "Bad_Name" cannot name a container`, wantCode: cmdutil.ExitUsage},
		{name: "long name", args: []string{strings.Repeat("a", inventory.MaxTenantNameLen+1), "--domain", "acme.example.org"}, wantErr: "tenant name:", wantCode: cmdutil.ExitUsage},
		{name: "domain with newline", args: []string{"acme", "--domain", "acme.example.org\n  server evil 1.2.3.4:80"}, wantErr: "--domain: ", wantCode: cmdutil.ExitUsage},
		{name: "empty domain", args: []string{"acme", "--domain", ""}, wantErr: "--domain: is empty", wantCode: cmdutil.ExitUsage},
		{name: "single-label domain", args: []string{"acme", "--domain", "localhost"}, wantErr: "--domain: \"localhost\" is not a fully qualified", wantCode: cmdutil.ExitUsage},
		{name: "customer control characters", args: []string{"acme", "--domain", "acme.example.org", "--customer", "Acme\nLtd"}, wantErr: "--customer: contains control characters", wantCode: cmdutil.ExitUsage},
		{name: "customer too long", args: []string{"acme", "--domain", "acme.example.org", "--customer", strings.Repeat("x", 201)}, wantErr: "--customer: longer than 200", wantCode: cmdutil.ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr != "" {
				cmdtest.WantError(t, NewCmdAdd, tt.args, tt.wantErr, tt.wantCode)
				return
			}
			got := cmdtest.MustParse(t, NewCmdAdd, tt.args)
			if got.Tenant != tt.want.Tenant || got.ShowSecrets != tt.want.ShowSecrets || got.Output != tt.want.Output {
				t.Errorf("options = %+v, want %+v", *got, tt.want)
			}
			if got.IO == nil || got.InventoryPath == nil || got.Connect == nil || got.Binary == nil {
				t.Errorf("dependencies not wired: %+v", *got)
			}
		})
	}
}

const invYAML = `# two tenants; comments must survive
lxd: {project: karana-unit, network: {name: unitbr0, ipv4: 10.0.99.1/24}}
tenants:
  - {name: alpha, domain: alpha.example.org, id: AAAAAAAAAAAAA, slot: 0}
  - {name: beta, domain: beta.example.net, id: BBBBBBBBBBBBB, slot: 2}
`

func writeInventory(t *testing.T) (string, []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(p, []byte(invYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, []byte(invYAML)
}

// options returns Options whose LXD connection fails with errNoLXD and
// counts its calls.
func options(t *testing.T, path string, tn inventory.Tenant, connects *int) (*Options, *bytes.Buffer, *bytes.Buffer) {
	ios, out, errOut := iostreams.Test()
	return &Options{IO: ios, InventoryPath: func() string { return path }, Tenant: tn, Output: "text",
		Connect: func(context.Context, *inventory.Inventory) (lxd.Client, error) { *connects++; return nil, errNoLXD },
		Binary:  func() ([]byte, error) { t.Error("binary read"); return nil, errors.New("unexpected") },
	}, out, errOut
}

var errNoLXD = errors.New("no lxd in unit tests")

func TestAddRunRefusesConflicts(t *testing.T) {
	tests := []struct {
		name    string
		tenant  inventory.Tenant
		wantErr []string
	}{
		{"existing name, other domain", inventory.Tenant{Name: "alpha", Domain: "other.example.org"},
			[]string{`tenant "alpha" is already in`, `with domain "alpha.example.org", not "other.example.org"`}},
		{"domain of another tenant", inventory.Tenant{Name: "gamma", Domain: "beta.example.net"},
			[]string{`domain "beta.example.net" already belongs to tenant "beta"`}},
		{"id of another tenant", inventory.Tenant{Name: "gamma", Domain: "gamma.example.org", ID: "BBBBBBBBBBBBB"},
			[]string{`tenant id "BBBBBBBBBBBBB" already belongs to tenant "beta"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, before := writeInventory(t)
			connects := 0
			opts, out, _ := options(t, path, tt.tenant, &connects)
			err := addRun(context.Background(), opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tt.wantErr, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if cmdutil.ExitCode(err) != cmdutil.ExitFailure {
				t.Errorf("exit code %d, want %d", cmdutil.ExitCode(err), cmdutil.ExitFailure)
			}
			after, rerr := os.ReadFile(path)
			if rerr != nil || !bytes.Equal(before, after) {
				t.Errorf("inventory changed (%v):\n%s", rerr, after)
			}
			if connects != 0 || out.Len() != 0 {
				t.Errorf("connected %d times, stdout %q", connects, out)
			}
		})
	}
}

// The tenant is recorded before LXD is reached, so that a failure later
// leaves an inventory the same command resumes from.
func TestAddRunRecordsFirst(t *testing.T) {
	path, _ := writeInventory(t)
	connects := 0
	opts, _, errOut := options(t, path, inventory.Tenant{Name: "gamma", Domain: "gamma.example.org", Customer: "Gamma AG"}, &connects)
	err := addRun(context.Background(), opts)
	if !errors.Is(err, errNoLXD) || cmdutil.ExitCode(err) != cmdutil.ExitUnavailable || connects != 1 {
		t.Fatalf("err %v (code %d), %d connects", err, cmdutil.ExitCode(err), connects)
	}
	inv, lerr := inventory.Load(path)
	if lerr != nil {
		t.Fatal(lerr)
	}
	g, ok := inv.Tenant("gamma")
	if !ok {
		t.Fatal("gamma not recorded")
	}
	if g.Domain != "gamma.example.org" || g.Customer != "Gamma AG" || g.Slot == nil || *g.Slot != 1 || len(g.ID) != 13 {
		t.Errorf("recorded %+v (slot %v), want the lowest free slot 1 and a 13-character id", g, g.Slot)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), "# two tenants; comments must survive") {
		t.Errorf("comment lost:\n%s", raw)
	}
	if !strings.Contains(errOut.String(), "recording gamma in "+path) {
		t.Errorf("stderr %q does not report the recording", errOut)
	}

	// A rerun finds gamma recorded and changes nothing in the file.
	before := raw
	connects = 0
	opts, _, errOut = options(t, path, inventory.Tenant{Name: "gamma", Domain: "gamma.example.org"}, &connects)
	if err := addRun(context.Background(), opts); !errors.Is(err, errNoLXD) || connects != 1 {
		t.Fatalf("rerun: err %v, %d connects", err, connects)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("rerun changed the inventory:\n%s", after)
	}
	if strings.Contains(errOut.String(), "recording") {
		t.Errorf("rerun recorded again: %q", errOut)
	}
}
