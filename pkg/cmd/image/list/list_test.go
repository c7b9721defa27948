package list

import (
	"context"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/image"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

func TestListRunStates(t *testing.T) {
	base := image.HostBase("")
	api, _ := image.RecipeFor("api")
	f := lxdfake.New()
	f.Images["karana/api"] = lxd.Image{Fingerprint: "aaaaaaaaaaaaaaaa", Size: 50e6,
		Properties: map[string]string{"karana.recipe": api.Hash(base)}}
	f.Images["karana/balancer"] = lxd.Image{Fingerprint: "bbbbbbbbbbbbbbbb", Properties: map[string]string{"karana.recipe": "old"}}
	f.Images["karana/influxdb"] = lxd.Image{Fingerprint: "cccccccccccccccc"}
	ios, out, _ := iostreams.Test()
	opts := &Options{IO: ios, Output: "json",
		Inventory: func() (*inventory.Inventory, error) {
			return &inventory.Inventory{Images: inventory.Images{Balancer: "karana/balancer",
				InfluxDB: "karana/influxdb", Grafana: "images:x", API: "karana/api"}}, nil
		},
		Connect: func(context.Context, *inventory.Inventory) (lxd.Client, error) { return f, nil },
	}
	if err := listRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"alias": "karana/balancer",` + "\n" + `    "state": "stale"`,
		`"alias": "karana/influxdb",` + "\n" + `    "state": "other"`,
		`"alias": "images:x",` + "\n" + `    "state": "remote"`,
		`"alias": "karana/api",` + "\n" + `    "state": "current"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	delete(f.Images, "karana/api")
	out.Reset()
	opts.Output = "text"
	if err := listRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "api       karana/api               missing") {
		t.Errorf("text output:\n%s", out.String())
	}
}
