package up

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/balancer/balancerfake"
	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/host"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
	"github.com/karana-project/karana/pkg/provision"
	"github.com/karana-project/karana/pkg/recovery"
	"github.com/karana-project/karana/pkg/secrets"
)

type quiet struct{}

func (quiet) Start(string, ...any) {}
func (quiet) End(string)           {}
func (quiet) Fail(string)          {}

const invYAML = `lxd: {project: karana-unit, network: {name: unitbr0, ipv4: 10.0.99.1/24}}
balancers: {outer: {publish: true}}
limits: {cpu: "1", memory: 512MiB}
tenants:
  - {name: alpha, domain: alpha.example.org, id: AAAAAAAAAAAAA, limits: {memory: 1GiB}}
`

func setup(t *testing.T) (*inventory.Inventory, *lxdfake.Fake) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "inv.yaml")
	os.WriteFile(p, []byte(invYAML), 0o644)
	inv, err := inventory.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	f := lxdfake.New()
	for _, a := range []string{"karana/balancer", "karana/influxdb", "karana/grafana", "karana/api"} {
		f.Images[a] = lxd.Image{Alias: a, Fingerprint: "fp-" + a}
	}
	// What karana's images hold that the tenant roles look for.
	f.ImageFiles["karana/influxdb"] = map[string][]byte{"/lib/systemd/system/influxdb.service": []byte("[Unit]\n")}
	f.ImageFiles["karana/grafana"] = map[string][]byte{"/etc/systemd/system/grafana-server.service": []byte("[Unit]\n"),
		"/etc/systemd/system/multi-user.target.wants/grafana-server.service": []byte("[Unit]\n"),
		"/etc/group": []byte("root:x:0:\ngrafana:x:107:\n")}
	f.ImageFiles["karana/api"] = map[string][]byte{"/usr/bin/git": []byte("git")}
	f.ExecFn = func(name string, cmd []string, _ io.Reader, stdout, _ io.Writer) (int, error) {
		if strings.Contains(strings.Join(cmd, " "), "is-system-running") {
			io.WriteString(stdout, "running\n")
		}
		return 0, nil
	}
	return inv, f
}

// balancers are lb0, lb1 and lb2 behind the LXD fake: their runtime APIs
// and the inner balancers' files, in memory.
var balancers = map[*lxdfake.Fake]*balancerfake.Balancers{}

func engine(inv *inventory.Inventory, f *lxdfake.Fake) *converge.Engine {
	e := converge.NewEngine(f, inv, quiet{})
	b := balancers[f]
	if b == nil {
		b = balancerfake.New("lb0", "lb1", "lb2")
		b.Stop("lb1") // a first run: Debian's haproxy, DOWN on lb0
		b.Stop("lb2")
		balancers[f] = b
	}
	e.Runtime, e.InnerTargets, e.OuterTarget = b.Connector(), b.Target, b.Target
	e.Binary = []byte("karana binary")
	e.WaitHealthy = func(context.Context, netip.Addr, provision.Probe, time.Duration) error { return nil }
	e.Bootstrap = func(context.Context, string, secrets.Credential) error { return nil }
	return e
}

func init() { EnsureBtrfsProgs = func(context.Context) error { return nil } }

var deps = Deps{
	EnsureLXD: func(context.Context, host.Progress) (bool, error) { return false, nil },
	PlanLXD:   func(context.Context) ([]string, error) { return nil, nil },
}

func TestUpConvergesThenChangesNothing(t *testing.T) {
	inv, f := setup(t)
	e := engine(inv, f)
	if err := Run(context.Background(), e, deps); err != nil {
		t.Fatal(err)
	}
	if !e.Report.Changed() {
		t.Error("first run reports no change")
	}
	want := map[string]string{"lb0": "10.0.99.2", "lb1": "10.0.99.3", "lb2": "10.0.99.4",
		"alpha-influx": "10.0.99.10", "alpha-grafana": "10.0.99.11", "alpha-api": "10.0.99.12"}
	for name, addr := range want {
		spec, ok := f.Specs[name]
		if !ok {
			t.Errorf("%s not created", name)
			continue
		}
		if spec.IPv4 != addr || spec.Network != "unitbr0" || f.Instances[name].Status != "Running" {
			t.Errorf("%s: %+v status %s", name, spec, f.Instances[name].Status)
		}
	}
	lb0 := f.Specs["lb0"]
	if lb0.Devices["karana-admin"]["listen"] != "unix:/run/karana/karana-unit-lb0.sock" || lb0.Devices["karana-https"]["listen"] != "tcp:0.0.0.0:443" {
		t.Errorf("lb0 devices %v", lb0.Devices)
	}
	if _, ok := f.Specs["lb1"].Devices["karana-https"]; ok {
		t.Error("publish devices on an inner balancer")
	}
	api := f.Specs["alpha-api"].Config
	if api["user.karana.tenant"] != "alpha" || api["user.karana.role"] != "api" || api["limits.memory"] != "1GiB" || api["limits.cpu"] != "1" {
		t.Errorf("alpha-api config %v", api)
	}
	if !strings.Contains(string(f.Files["alpha-influx"][provision.InfluxConfPath]), "auth-enabled = true") {
		t.Error("influxdb.conf not pushed")
	}
	// New tenant containers are configured before their first boot:
	// nothing runs in them, nothing is restarted.
	for _, c := range f.CallsTo("Exec") {
		if strings.HasPrefix(c, "Exec alpha-") {
			t.Errorf("first run ran %s", c)
		}
	}
	if f.Links["alpha-api"]["/etc/systemd/system/multi-user.target.wants/karana-api.service"] != provision.APIUnitPath {
		t.Error("karana-api.service not enabled before the first boot")
	}
	// Both inner balancers are told the services answer (they were
	// started by a reload before the containers, and would stay DOWN).
	for _, lb := range []string{"lb1", "lb2"} {
		told := false
		for _, l := range balancers[f].Logged() {
			told = told || (strings.HasPrefix(l, lb+": set server ") && strings.Contains(l, "be_tenants/alpha-influx health up"))
		}
		if !told {
			t.Errorf("%s not told alpha's services answer:\n%s", lb, strings.Join(balancers[f].Logged(), "\n"))
		}
	}
	// up refills containers it created from backups: it must see them.
	if got := recovery.Created(e.Report, inv.Tenants[0]); len(got) != 3 {
		t.Errorf("created containers seen by the refill: %v", got)
	}
	if len(balancers[f].Nodes["lb1"].Files["/etc/haproxy/haproxy.cfg"]) == 0 || len(balancers[f].OuterNode.Files["/etc/haproxy/haproxy.cfg"]) == 0 {
		t.Error("haproxy.cfg not pushed")
	}
	// The first run reaches the inner balancers by the one path: both
	// checked before either changes, no drain (they carried no traffic).
	log := strings.Join(balancers[f].Logged(), "\n")
	if !strings.Contains(log, "lb1: stage\nlb1: haproxy -c\nlb2: stage\nlb2: haproxy -c\nlb1: commit\nlb1: reload") || strings.Contains(log, "drain") {
		t.Errorf("first run's balancer steps:\n%s", log)
	}
	st, err := os.Stat(filepath.Join(inv.SecretsDir(), "alpha.yaml"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("secrets file: %v", err)
	}

	f.Reset()
	e2 := engine(inv, f)
	if err := Run(context.Background(), e2, deps); err != nil {
		t.Fatal(err)
	}
	for _, r := range e2.Report.Rows() {
		if r.Changed() {
			t.Errorf("second run changed %s: %s", r.Object, r.Result())
		}
	}
	for _, m := range []string{"CreateInstance", "StartInstance", "PushFile"} {
		if c := f.CallsTo(m); len(c) > 0 {
			t.Errorf("second run called %v", c)
		}
	}
}

func TestUpDryRunTouchesNothing(t *testing.T) {
	inv, f := setup(t)
	e := engine(inv, f)
	e.DryRun = true
	if err := Run(context.Background(), e, deps); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Calls {
		m := strings.Fields(c)[0]
		if !strings.HasPrefix(m, "Get") && !strings.HasPrefix(m, "List") && m != "ImageFingerprint" && m != "PullFile" {
			t.Errorf("dry run called %s", c)
		}
	}
	if !e.Report.Changed() {
		t.Error("dry run on an empty host plans nothing")
	}
	if _, err := os.Stat(inv.SecretsDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run wrote secrets: %v", err)
	}
}

func TestUpFailureNamesStepAndContainer(t *testing.T) {
	inv, f := setup(t)
	f.Fail["PushFile alpha-grafana"] = errors.New("disk full")
	err := Run(context.Background(), engine(inv, f), deps)
	if err == nil || !strings.Contains(err.Error(), "alpha-grafana") || !strings.Contains(err.Error(), "configuration") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v", err)
	}
	// Resumed: the next run finishes and creates nothing twice.
	delete(f.Fail, "PushFile alpha-grafana")
	f.Reset()
	if err := Run(context.Background(), engine(inv, f), deps); err != nil {
		t.Fatal(err)
	}
	if c := f.CallsTo("CreateInstance"); len(c) > 0 {
		t.Errorf("resume created again: %v", c)
	}
	if len(f.Files["alpha-grafana"][provision.GrafanaIniPath]) == 0 {
		t.Error("grafana.ini not pushed on resume")
	}
}

// A run killed just after starting a container leaves it booting: the
// next run finds it Running, and systemctl cannot reach systemd yet.
func TestUpWaitsForARunningContainerStillBooting(t *testing.T) {
	inv, f := setup(t)
	ctx := context.Background()
	spec := converge.TenantSpec(inv, inv.Tenants[0], inventory.RoleGrafana)
	if err := f.CreateInstance(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if _, _, err := engine(inv, f).Secrets.Ensure("alpha", "admin@alpha.example.org"); err != nil {
		t.Fatal(err)
	}
	f.StartInstance(ctx, spec.Name)
	asked := 0
	f.ExecFn = func(name string, cmd []string, _ io.Reader, stdout, stderr io.Writer) (int, error) {
		if name != spec.Name {
			if strings.Contains(strings.Join(cmd, " "), "is-system-running") {
				io.WriteString(stdout, "running\n")
			}
			return 0, nil
		}
		if strings.Contains(strings.Join(cmd, " "), "is-system-running") {
			if asked++; asked < 3 {
				io.WriteString(stdout, "offline\n")
				return 1, nil
			}
			io.WriteString(stdout, "running\n")
			return 0, nil
		}
		if asked < 3 && (slices.Contains(cmd, "systemctl") || strings.Contains(strings.Join(cmd, " "), "systemctl")) {
			io.WriteString(stderr, "Failed to connect to bus: No such file or directory\n")
			return 1, nil
		}
		return 0, nil
	}
	if err := Run(ctx, engine(inv, f), deps); err != nil {
		t.Fatal(err)
	}
	if asked < 3 {
		t.Errorf("is-system-running asked %d times", asked)
	}
}

// A tenant whose containers exist but whose secrets file is gone (a copy
// of the inventory without secrets/) is refused before anything is
// written: new passwords would lock the containers out of each other.
func TestUpRefusesNewCredentialsForExistingContainers(t *testing.T) {
	inv, f := setup(t)
	ctx := context.Background()
	if err := Run(ctx, engine(inv, f), deps); err != nil {
		t.Fatal(err)
	}
	path := engine(inv, f).Secrets.Path("alpha")
	before := string(f.Files["alpha-api"][provision.APIConfigPath])
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	f.Reset()
	err := Run(ctx, engine(inv, f), deps)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "alpha-influx, alpha-grafana, alpha-api exist") {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a new secrets file was written: %v", err)
	}
	if c := f.CallsTo("PushFile"); len(c) > 0 || string(f.Files["alpha-api"][provision.APIConfigPath]) != before {
		t.Errorf("files written after the refusal: %v", c)
	}
}

func TestUpMissingImageWithoutBuilder(t *testing.T) {
	inv, f := setup(t)
	delete(f.Images, "karana/api")
	err := Run(context.Background(), engine(inv, f), deps)
	if err == nil || !strings.Contains(err.Error(), "karana image build") {
		t.Fatalf("error %v", err)
	}
}

func TestUpStoragePool(t *testing.T) {
	installs := 0
	old := EnsureBtrfsProgs
	EnsureBtrfsProgs = func(context.Context) error { installs++; return nil }
	defer func() { EnsureBtrfsProgs = old }()
	for _, tt := range []struct {
		name, driver, existing string
		want, wantErr          string
		install                bool
	}{
		{name: "new pool: btrfs on a loop file", want: "btrfs", install: true},
		{name: "dir kept as an inventory choice", driver: "dir", want: "dir"},
		{name: "an existing dir pool keeps working", existing: "dir", want: "dir"},
		{name: "an explicit driver must match", driver: "btrfs", existing: "dir", wantErr: `exists with driver "dir", not "btrfs"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			installs = 0
			inv, f := setup(t)
			inv.LXD.Storage.Driver = tt.driver
			if tt.existing != "" {
				f.Pools["karana"] = tt.existing
			}
			err := Initialise(context.Background(), engine(inv, f))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Pools["karana"]; got != tt.want {
				t.Errorf("pool driver %q, want %q", got, tt.want)
			}
			if (installs > 0) != tt.install {
				t.Errorf("btrfs-progs ensured %d times, want %v", installs, tt.install)
			}
		})
	}
}

type lines struct {
	mu sync.Mutex
	l  []string
}

func (p *lines) Start(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.l = append(p.l, fmt.Sprintf(format, args...))
}
func (p *lines) End(string)  {}
func (p *lines) Fail(string) {}

func TestUpTenantsInParallelFailAlone(t *testing.T) {
	inv, f := setup(t)
	var y strings.Builder
	y.WriteString(strings.SplitAfter(invYAML, "tenants:\n")[0])
	for i := range 6 {
		fmt.Fprintf(&y, "  - {name: t%d, domain: t%d.example.org, id: AAAAAAAAAAAA%d, slot: %d}\n", i, i, i, i)
	}
	os.WriteFile(inv.Path, []byte(y.String()), 0o644)
	inv, err := inventory.Load(inv.Path)
	if err != nil {
		t.Fatal(err)
	}
	f.Fail["CreateInstance t1-api"] = errors.New("quota reached")
	p := &lines{}
	e := engine(inv, f)
	e.Progress = p
	err = Run(context.Background(), e, deps)
	if err == nil || !strings.Contains(err.Error(), "t1-api") || !strings.Contains(err.Error(), "quota reached") {
		t.Fatalf("error %v", err)
	}
	for i := range 6 {
		if i == 1 {
			continue
		}
		if in := f.Instances[fmt.Sprintf("t%d-api", i)]; in == nil || in.Status != "Running" {
			t.Errorf("t%d-api not converged beside the failing t1", i)
		}
	}
	var order []string
	for _, l := range p.l {
		if strings.HasPrefix(l, "credentials of ") {
			order = append(order, strings.TrimPrefix(l, "credentials of "))
		}
	}
	if strings.Join(order, " ") != "t0 t1 t2 t3 t4 t5" {
		t.Errorf("tenants shown in the order %v", order)
	}
}
