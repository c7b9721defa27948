package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bk "github.com/karana-project/karana/pkg/backup"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

func TestNewCmdBackup(t *testing.T) {
	got := cmdtest.MustParse(t, NewCmdBackup, []string{"alpha", "beta", "-o", "json"})
	if strings.Join(got.Tenants, ",") != "alpha,beta" || got.Output != "json" || got.List {
		t.Errorf("options = %+v", *got)
	}
	if got.IO == nil || got.Inventory == nil || got.Connect == nil || got.Now == nil {
		t.Errorf("dependencies not wired: %+v", *got)
	}
	if got := cmdtest.MustParse(t, NewCmdBackup, []string{"--list"}); !got.List || len(got.Tenants) != 0 {
		t.Errorf("--list: %+v", *got)
	}
	cmdtest.WantError(t, NewCmdBackup, []string{"Bad_Name"}, "tenant name: ", cmdutil.ExitUsage)
	cmdtest.WantError(t, NewCmdBackup, []string{"-o", "yaml"}, `invalid --output "yaml"`, cmdutil.ExitUsage)
}

const invYAML = `lxd: {project: karana-unit, network: {name: unitbr0, ipv4: 10.0.99.1/24}}
backups: {keep: 2}
tenants:
  - {name: alpha, domain: alpha.example.org, id: AAAAAAAAAAAAA, slot: 0}
  - {name: beta, domain: beta.example.org, id: BBBBBBBBBBBBB, slot: 1}
`

func setup(t *testing.T) (*Options, *lxdfake.Fake, *iostreams.IOStreams) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(p, []byte(invYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	f := lxdfake.New()
	for _, n := range []string{"alpha-influx", "alpha-grafana", "alpha-api", "beta-influx", "beta-grafana", "beta-api"} {
		f.Instances[n] = &lxd.Instance{Name: n, Status: "Running"}
	}
	f.ExecFn = func(name string, cmd []string, _ io.Reader, stdout, _ io.Writer) (int, error) {
		fmt.Fprintf(stdout, "tar of %s", name)
		return 0, nil
	}
	ios, _, _ := iostreams.Test()
	fac := &cmdutil.Factory{IOStreams: ios, InventoryFlag: p}
	min := 0
	opts := &Options{IO: ios, Inventory: fac.Inventory, Output: "text",
		Connect: func(context.Context, *inventory.Inventory) (lxd.Client, error) { return f, nil },
		Now:     func() time.Time { min++; return time.Date(2026, 12, 1, 10, min, 0, 0, time.UTC) }}
	return opts, f, ios
}

func TestBackupRunAllTenantsThenRetention(t *testing.T) {
	opts, _, ios := setup(t)
	for i := 0; i < 3; i++ {
		if err := backupRun(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
	}
	out := ios.Out.(interface{ String() string }).String()
	for _, want := range []string{"alpha", "beta", "20261201T100500.000Z", "1 old deleted"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	inv, _ := opts.Inventory()
	for _, tn := range []string{"alpha", "beta"} {
		all, _ := bk.List(inv, tn)
		if len(all) != 2 {
			t.Errorf("%s keeps %d backups, want backups.keep = 2", tn, len(all))
		}
	}
}

func TestBackupRunJSONAndFailure(t *testing.T) {
	opts, f, ios := setup(t)
	opts.Output, opts.Tenants = "json", []string{"beta"}
	f.Instances["beta-api"].Status = "Stopped"
	err := backupRun(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "tenant beta") || !strings.Contains(err.Error(), "beta-api") {
		t.Fatalf("err = %v, want the stopped beta-api named", err)
	}
	var res []bk.Result
	if err := json.Unmarshal([]byte(ios.Out.(interface{ String() string }).String()), &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Tenant != "beta" || res[0].Error == "" || res[0].ID != "" {
		t.Errorf("json = %+v", res)
	}
	inv, _ := opts.Inventory()
	if all, _ := bk.List(inv, "beta"); len(all) != 0 {
		t.Errorf("a failed backup is listed: %+v", all)
	}
	opts.Tenants = []string{"nobody"}
	if err := backupRun(context.Background(), opts); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("unknown tenant: %v (exit %d)", err, cmdutil.ExitCode(err))
	}
}

func TestBackupList(t *testing.T) {
	opts, _, ios := setup(t)
	opts.Tenants = []string{"alpha"}
	if err := backupRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	ios2, out, _ := iostreams.Test()
	opts.IO, opts.Output, opts.Tenants = ios2, "json", nil
	if err := listRun(opts); err != nil {
		t.Fatal(err)
	}
	var l []Listed
	if err := json.Unmarshal(out.Bytes(), &l); err != nil || len(l) != 1 || l[0].Tenant != "alpha" || l[0].Size != int64(len("tar of alpha-influx")+len("tar of alpha-grafana")+len("tar of alpha-api")) {
		t.Errorf("list = %+v, %v", l, err)
	}
	_ = ios
}
