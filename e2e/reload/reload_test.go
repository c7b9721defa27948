// Package reload is the end-to-end proof of `karana balancer reload`: a
// back end brought up with the karana binary in its own LXD project, a
// bounded load through lb0 the whole time, ten rolling reloads each with
// a changed inventory, then a broken one that must be refused before any
// balancer is drained. Skipped unless KARANA_E2E=1.
package reload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/testenv"
)

// Only this suite's LXD objects: project, bridge and subnet.
var (
	project = testenv.Name("karana-e2e-lb")
	bridge  = testenv.Name("karanae2elb0")
	subnet  = testenv.Subnet(17, 1, "/24")
)

const (
	hardStop = 10 * time.Second
	cycles   = 10
)

type suite struct {
	t    *testing.T
	bin  string
	dir  string
	inv  string // inventory path
	lxd  lxd.Client
	lb0  string // lb0's bridge address
	base string // inventory text without tenants
}

func setup(t *testing.T) *suite {
	if os.Getenv("KARANA_E2E") != "1" {
		t.Skip("set KARANA_E2E=1 to run the LXD end-to-end suite")
	}
	bin := os.Getenv("KARANA_BIN")
	if bin == "" {
		t.Fatal("KARANA_BIN must name the karana binary (make e2e sets it)")
	}
	s := &suite{t: t, bin: bin, dir: t.TempDir()}
	s.inv = filepath.Join(s.dir, "inventory.yaml")
	s.base = fmt.Sprintf(`lxd:
  endpoint: unix
  project: %s
  profile: %s
  storage: {pool: karana, driver: dir}
  network: {name: %s, ipv4: %s}
images:
  balancer: karana/balancer
  influxdb: karana/influxdb
  grafana: "images:debian/12" # no tenant container is created here: not built
  api: karana/api
balancers:
  outer: {name: lb0, http_port: 80, https_port: 443, publish: false}
  inner: [lb1, lb2]
  hard_stop_after: %s
tls:
  cert_dir: certs
`, project, project, bridge, subnet, hardStop)
	s.writeInventory(nil, "")
	s.karana(t, 0, "up")
	inv, err := inventory.Load(s.inv)
	if err != nil {
		t.Fatal(err)
	}
	s.lb0 = inv.OuterAddr().String()
	if s.lxd, err = lxd.ConnectInventory(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
	if !testenv.Keep() {
		t.Cleanup(s.remove)
	}
	return s
}

// remove deletes what the suite made: containers, project, profile,
// bridge (the images stay for the next run); KARANA_E2E_KEEP=1 keeps them
// to look at.
func (s *suite) remove() {
	if err := testenv.Remove(project, bridge, "lb0", "lb1", "lb2"); err != nil {
		s.t.Errorf("removing what the suite made: %v", err)
	}
}

// writeInventory writes the inventory with tenants t<n> for each n, and
// an extra tenant with certificate file cert when cert is not "".
func (s *suite) writeInventory(tenants []int, cert string) {
	var b strings.Builder
	b.WriteString(s.base)
	if len(tenants) == 0 && cert == "" {
		b.WriteString("tenants: []\n")
	} else {
		b.WriteString("tenants:\n")
	}
	for _, n := range tenants {
		fmt.Fprintf(&b, "  - {name: t%d, domain: t%d.e2e.test, slot: %d}\n", n, n, n)
	}
	if cert != "" {
		fmt.Fprintf(&b, "  - {name: broken, domain: broken.e2e.test, slot: 60, cert: %s}\n", cert)
	}
	if err := os.WriteFile(s.inv, []byte(b.String()), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// karana runs the binary on the suite's inventory and checks its exit code.
func (s *suite) karana(t *testing.T, wantCode int, args ...string) (stdout, stderr string) {
	t.Helper()
	out, errOut, code := s.run(t, args...)
	if code != wantCode {
		t.Fatalf("karana %s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, out, errOut)
	}
	return out, errOut
}

func (s *suite) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, append(args, "--inventory", s.inv)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("karana %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// status is `karana balancer status -o json`; exit 4 (not all healthy)
// is a valid answer.
func (s *suite) status(t *testing.T) balancer.StatusReport {
	t.Helper()
	out, errOut, code := s.run(t, "balancer", "status", "-o", "json")
	var rep balancer.StatusReport
	if code != 0 && code != 4 {
		t.Fatalf("balancer status exited %d:\n%s%s", code, out, errOut)
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("balancer status -o json: %v\n%s", err, out)
	}
	return rep
}

// waitHealthy waits until lb0 sees both inner balancers UP and ready with
// matching configurations: lb0's checks need two passes after `up`.
func (s *suite) waitHealthy(t *testing.T) balancer.StatusReport {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rep := s.status(t)
		if rep.Healthy() {
			return rep
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(rep, "", "  ")
			t.Fatalf("balancer status not healthy after 60s:\n%s", b)
		}
		time.Sleep(time.Second)
	}
}

// haproxyPids lists the haproxy processes (master and workers) in a container.
func (s *suite) haproxyPids(t *testing.T, name string) []string {
	t.Helper()
	var out, errb bytes.Buffer
	script := `for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = haproxy ] && echo ${p#/proc/}; done; true`
	code, err := s.lxd.Exec(context.Background(), name, []string{"sh", "-c", script}, nil, &out, &errb)
	if err != nil || code != 0 {
		t.Fatalf("listing haproxy processes in %s: %v (exit %d) %s", name, err, code, errb.String())
	}
	return strings.Fields(out.String())
}
