package scrape

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/karana-project/karana/pkg/inventory"
)

const invYAML = `lxd: {project: karana-unit, network: {name: unitbr0, ipv4: 10.0.99.1/24}}
tenants:
  - {name: alpha, domain: alpha.example.org, slot: 0}
  - {name: beta, domain: beta.example.net, slot: 1}
`

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	inv, err := inventory.Parse(filepath.Join(dir, "inv.yaml"), []byte(invYAML))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Config(inv, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var f file
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	var got []string
	for _, j := range f.ScrapeConfigs {
		for _, sc := range j.StaticConfigs {
			got = append(got, j.JobName+" "+sc.Targets[0]+" "+sc.Labels["balancer"]+sc.Labels["tenant"])
		}
	}
	want := "karana-haproxy 10.0.99.2:8405 lb0,karana-haproxy 10.0.99.3:8405 lb1,karana-haproxy 10.0.99.4:8405 lb2," +
		"karana-api 10.0.99.12:9100 alpha,karana-api 10.0.99.15:9100 beta"
	if strings.Join(got, ",") != want {
		t.Errorf("targets\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
	if f.Global.ScrapeInterval != "15s" {
		t.Errorf("interval %q", f.Global.ScrapeInterval)
	}
	if _, err := Config(inv, time.Millisecond); err == nil {
		t.Error("a 1ms interval is accepted")
	}
	// Prometheus's own checker accepts it, when installed (the e2e suite
	// then runs Prometheus on it).
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed")
	}
	p := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(p, b, 0o644)
	if out, err := exec.Command(promtool, "check", "config", p).CombinedOutput(); err != nil {
		t.Errorf("promtool check config: %v\n%s\n%s", err, out, b)
	}
}
