package provision

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

func running(t *testing.T, name string) *lxdfake.Fake {
	t.Helper()
	f := lxdfake.New()
	f.Images["img"] = lxd.Image{Alias: "img"}
	ctx := context.Background()
	if err := f.CreateInstance(ctx, lxd.InstanceSpec{Name: name, Image: "img"}); err != nil {
		t.Fatal(err)
	}
	f.StartInstance(ctx, name)
	f.Reset()
	return f
}

func TestApplyConvergesThenChangesNothing(t *testing.T) {
	f := running(t, "acme-api")
	active := false
	f.ExecFn = func(name string, cmd []string, _ io.Reader, _, _ io.Writer) (int, error) {
		if slices.Contains(cmd, "is-active") && !active {
			return 3, nil
		}
		if slices.Contains(cmd, "restart") || slices.Contains(cmd, "--now") {
			active = true
		}
		return 0, nil
	}
	role := API(testTenant(t))
	ctx := context.Background()
	did, err := Apply(ctx, f, "acme-api", role, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(did, "3 file(s) written") || !strings.Contains(did, "restarted") {
		t.Errorf("first apply did %q", did)
	}
	if got := f.Files["acme-api"][APIConfigPath]; string(got) != string(role.Files[1].Data) {
		t.Error("api.yaml not pushed")
	}
	if f.Modes["acme-api"][APIConfigPath] != 0o600 {
		t.Errorf("api.yaml pushed with mode %v", f.Modes["acme-api"][APIConfigPath])
	}
	if len(f.CallsTo("Exec acme-api systemctl daemon-reload")) != 1 {
		t.Errorf("unit file written without daemon-reload: %v", f.Calls)
	}

	f.Reset()
	did, err = Apply(ctx, f, "acme-api", role, false)
	if err != nil || did != "" {
		t.Errorf("second apply did %q, %v", did, err)
	}
	if n := len(f.CallsTo("PushFile")); n != 0 {
		t.Errorf("second apply pushed %d files", n)
	}

	// Someone stopped the service: it is started, nothing is pushed.
	active = false
	f.Reset()
	did, _ = Apply(ctx, f, "acme-api", role, false)
	if did != APIUnit+" started" {
		t.Errorf("stopped unit: did %q", did)
	}
}

func TestApplyRestartsOnChangedConfig(t *testing.T) {
	f := running(t, "acme-influx")
	ctx := context.Background()
	tt := testTenant(t)
	if _, err := Apply(ctx, f, "acme-influx", Influx(tt), false); err != nil {
		t.Fatal(err)
	}
	tt.Inv.Services.InfluxDB.Port = 9086
	f.Reset()
	did, err := Apply(ctx, f, "acme-influx", Influx(tt), false)
	if err != nil {
		t.Fatal(err)
	}
	if did != "1 file(s) written, influxdb.service restarted" {
		t.Errorf("did %q", did)
	}
	if len(f.CallsTo("Exec acme-influx systemctl daemon-reload")) != 0 {
		t.Error("daemon-reload without a unit file change")
	}
}

func TestApplyInstallsPackagesOnPlainImage(t *testing.T) {
	f := running(t, "acme-influx")
	f.ExecFn = func(name string, cmd []string, _ io.Reader, _, _ io.Writer) (int, error) {
		if strings.Contains(strings.Join(cmd, " "), "systemctl cat") {
			return 1, nil // unit unknown: packages missing
		}
		return 0, nil
	}
	did, err := Apply(context.Background(), f, "acme-influx", Influx(testTenant(t)), true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(did, "packages installed") {
		t.Errorf("did %q", did)
	}
	var apt bool
	for _, c := range f.CallsTo("Exec") {
		apt = apt || strings.Contains(c, "apt-get install -y -qq influxdb")
	}
	if !apt {
		t.Errorf("no apt-get install: %v", f.Calls)
	}
}

func TestApplyNamesContainerOnFailure(t *testing.T) {
	f := running(t, "acme-grafana")
	f.ExecFn = func(name string, cmd []string, _ io.Reader, stdout, _ io.Writer) (int, error) {
		if slices.Contains(cmd, "restart") {
			io.WriteString(stdout, "Job for grafana-server.service failed\n")
			return 1, nil
		}
		return 0, nil
	}
	_, err := Apply(context.Background(), f, "acme-grafana", Grafana(testTenant(t)), false)
	if err == nil || !strings.Contains(err.Error(), "acme-grafana") || !strings.Contains(err.Error(), "Job for grafana-server.service failed") {
		t.Errorf("error %v", err)
	}
}
