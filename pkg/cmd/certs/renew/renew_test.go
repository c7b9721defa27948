package renew

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/acme"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

func TestNewCmdRenew(t *testing.T) {
	got := cmdtest.MustParse(t, NewCmdRenew, []string{"alpha", "--force", "-o", "json"})
	if !got.Force || got.Output != "json" || strings.Join(got.Tenants, ",") != "alpha" || got.Connect == nil || got.Renewer == nil {
		t.Errorf("options %+v", got)
	}
	if got := cmdtest.MustParse(t, NewCmdRenew, nil); got.Force || len(got.Tenants) != 0 {
		t.Errorf("defaults %+v", got)
	}
	cmdtest.WantError(t, NewCmdRenew, []string{"-o", "yaml"}, `invalid --output "yaml"`, cmdutil.ExitUsage)
}

type fakeRenewer struct {
	force bool
	names []string
	res   []acme.Result
	err   error
}

func (f *fakeRenewer) Renew(_ context.Context, force bool, names []string) ([]acme.Result, error) {
	f.force, f.names = force, names
	return f.res, f.err
}

func runRenew(t *testing.T, inv string, opts Options, f *fakeRenewer) (string, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inv.yaml")
	os.WriteFile(p, []byte(inv), 0o644)
	ios, out, _ := iostreams.Test()
	fac := &cmdutil.Factory{IOStreams: ios, InventoryFlag: p}
	opts.IO, opts.Inventory = ios, fac.Inventory
	opts.Connect = func(context.Context, *inventory.Inventory) (lxd.Client, error) { return lxdfake.New(), nil }
	opts.Renewer = func(*inventory.Inventory, lxd.Client, *iostreams.IOStreams) renewer { return f }
	err := run(context.Background(), &opts)
	return out.String(), err
}

const withACME = `lxd: {project: unit, network: {name: unitbr0, ipv4: 10.0.99.1/24}}
tls: {acme: {directory: "https://localhost:14000/dir", email: ops@example.org}}
tenants:
  - {name: alpha, domain: alpha.example.org, slot: 0}
`

func TestRun(t *testing.T) {
	f := &fakeRenewer{res: []acme.Result{{Tenant: "alpha", Action: acme.ActionFailed,
		Failures: []acme.HostFailure{{Host: "api.alpha.example.org", Error: "connection refused"}}}}, err: errors.New("1 of 1 certificate(s) could not be renewed")}
	out, err := runRenew(t, withACME, Options{Force: true, Tenants: []string{"alpha"}}, f)
	if cmdutil.ExitCode(err) != 1 || !f.force || f.names[0] != "alpha" {
		t.Errorf("err %v (code %d), force %v names %v", err, cmdutil.ExitCode(err), f.force, f.names)
	}
	if !strings.Contains(out, "api.alpha.example.org") || !strings.Contains(out, "connection refused") {
		t.Errorf("per-host failure not shown:\n%s", out)
	}
	if _, err := runRenew(t, withACME, Options{Tenants: []string{"nobody"}}, &fakeRenewer{}); cmdutil.ExitCode(err) != cmdutil.ExitInvalid || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("unknown tenant: %v", err)
	}
	noACME := strings.Replace(withACME, `tls: {acme: {directory: "https://localhost:14000/dir", email: ops@example.org}}`+"\n", "", 1)
	if _, err := runRenew(t, noACME, Options{}, &fakeRenewer{}); cmdutil.ExitCode(err) != cmdutil.ExitInvalid || !errors.Is(err, acme.ErrNotConfigured) {
		t.Errorf("without tls.acme: %v", err)
	}
}
