package provision

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

// created is a container made from an image holding files, not started.
func created(t *testing.T, name string, files map[string][]byte) *lxdfake.Fake {
	t.Helper()
	f := lxdfake.New()
	f.Images["img"] = lxd.Image{Alias: "img"}
	f.ImageFiles["img"] = files
	if err := f.CreateInstance(context.Background(), lxd.InstanceSpec{Name: name, Image: "img"}); err != nil {
		t.Fatal(err)
	}
	f.Reset()
	return f
}

func TestPreloadAPIWritesEverythingAndEnablesItsUnit(t *testing.T) {
	f := created(t, "acme-api", nil)
	role := API(testTenant(t))
	role.Files[0].Data = make([]byte, largeFileDigest+1) // the binary
	if err := Preload(context.Background(), f, "acme-api", role); err != nil {
		t.Fatal(err)
	}
	if f.Instances["acme-api"].Status != "Stopped" || len(f.CallsTo("Exec")) > 0 {
		t.Errorf("preload started or ran something: %v", f.Calls)
	}
	for _, want := range role.Files {
		if string(f.Files["acme-api"][want.Path]) != string(want.Data) || f.Modes["acme-api"][want.Path] != want.Mode {
			t.Errorf("%s not written as wanted (mode %o)", want.Path, f.Modes["acme-api"][want.Path])
		}
	}
	// The digest Apply compares large files by, so a later run finds it equal.
	if got := strings.TrimSpace(string(f.Files["acme-api"][APIBinaryPath+".sha256"])); got != digest(role.Files[0].Data) {
		t.Errorf("binary digest %q", got)
	}
	if got := f.Links["acme-api"][wantsDir+"/"+APIUnit]; got != APIUnitPath {
		t.Errorf("unit link to %q, want %q", got, APIUnitPath)
	}
	same, err := sameFile(context.Background(), f, "acme-api", role.Files[0])
	if err != nil || !same {
		t.Errorf("Apply would write the binary again: %v %v", same, err)
	}
}

func TestPreloadGrafanaTakesTheImagesGroupAndUnit(t *testing.T) {
	f := created(t, "acme-grafana", map[string][]byte{
		"/etc/group":                           []byte("root:x:0:\nbroken\ngrafana:x:107:\n"),
		"/lib/systemd/system/" + GrafanaUnit:   []byte("[Unit]\n"),
		"/etc/grafana/grafana.ini":             []byte("; the image's\n"),
		"/usr/share/grafana/public/index.html": []byte("<html>"),
	})
	tt := testTenant(t)
	if err := Preload(context.Background(), f, "acme-grafana", Grafana(tt)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(f.Files["acme-grafana"][GrafanaIniPath]), GrafanaHeader) {
		t.Error("grafana.ini is still the image's")
	}
	if gid := f.Groups["acme-grafana"][GrafanaIniPath]; gid != 107 {
		t.Errorf("grafana.ini group %d, want 107", gid)
	}
	if got := f.Links["acme-grafana"][wantsDir+"/"+GrafanaUnit]; got != "/lib/systemd/system/"+GrafanaUnit {
		t.Errorf("unit link to %q", got)
	}
}

func TestPreloadLeavesAnEnabledUnitAlone(t *testing.T) {
	f := created(t, "acme-influx", map[string][]byte{
		"/lib/systemd/system/" + InfluxUnit: []byte("[Unit]\n"),
		wantsDir + "/" + InfluxUnit:         []byte("[Unit]\n"),
	})
	if err := Preload(context.Background(), f, "acme-influx", Influx(testTenant(t))); err != nil {
		t.Fatal(err)
	}
	if c := f.CallsTo("Symlink"); len(c) > 0 {
		t.Errorf("linked an enabled unit: %v", c)
	}
	if len(f.Files["acme-influx"][InfluxConfPath]) == 0 {
		t.Error("influxdb.conf not written")
	}
}

func TestPreloadRefusesImagesItCannotConfigure(t *testing.T) {
	for _, tt := range []struct {
		what  string
		files map[string][]byte
	}{
		{"a plain image without the unit", map[string][]byte{"/etc/group": []byte("root:x:0:\n")}},
		{"an image whose Grafana already ran", map[string][]byte{
			"/lib/systemd/system/" + GrafanaUnit: []byte("[Unit]\n"), GrafanaDB: []byte("sqlite")}},
	} {
		f := created(t, "acme-grafana", tt.files)
		err := Preload(context.Background(), f, "acme-grafana", Grafana(testTenant(t)))
		if !errors.Is(err, ErrNotPreloadable) || !strings.Contains(err.Error(), "acme-grafana") {
			t.Errorf("%s: error %v", tt.what, err)
		}
		if c := f.CallsTo("PushFile"); len(c) > 0 {
			t.Errorf("%s: wrote %v before refusing", tt.what, c)
		}
	}
}

func TestPreloadWriteFailureIsNotARefusal(t *testing.T) {
	f := created(t, "acme-influx", map[string][]byte{"/lib/systemd/system/" + InfluxUnit: []byte("[Unit]\n")})
	f.Fail["PushFile acme-influx"] = errors.New("disk full")
	err := Preload(context.Background(), f, "acme-influx", Influx(testTenant(t)))
	if err == nil || !strings.Contains(err.Error(), "disk full") || errors.Is(err, ErrNotPreloadable) {
		t.Fatalf("error %v", err)
	}
}
