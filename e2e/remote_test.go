package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/balancer/balancertest"
	"github.com/karana-project/karana/pkg/testenv"
)

// remoteLXD is the namespaced daemon(s) e2e/remote-lxd.sh runs.
type remoteLXD struct {
	env map[string]string
}

// startRemote brings up members namespaced LXD daemons (a cluster when
// more than one) with the shared images on the first, and tears them
// down when the test ends (KARANA_E2E_KEEP=1 keeps them).
func startRemote(t *testing.T, members int) *remoteLXD {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the remote LXD e2e needs root (network namespaces, a second daemon)")
	}
	if os.Getenv("KARANA_E2E_REMOTE") == "0" {
		t.Skip("KARANA_E2E_REMOTE=0")
	}
	ensureImages(t)
	if os.Getenv("KARANA_E2E_KEEP") != "1" {
		t.Cleanup(func() {
			if out, err := remoteScript("down"); err != nil {
				t.Errorf("remote-lxd.sh down: %v\n%s", err, out)
			}
		})
	}
	out, err := remoteScript("up", fmt.Sprint(members))
	if err != nil {
		t.Fatalf("remote-lxd.sh up: %v\n%s", err, out)
	}
	r := &remoteLXD{env: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.HasPrefix(k, "KARANA_RL_") {
			r.env[k] = v
		}
	}
	if out, err := remoteScript("images", "karana/balancer", "karana/influxdb", "karana/api", "karana-test/grafana"); err != nil {
		t.Fatalf("remote-lxd.sh images: %v\n%s", err, out)
	}
	return r
}

func remoteScript(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", append([]string{"remote-lxd.sh"}, args...)...).CombinedOutput()
	return string(out), err
}

// lxc runs lxc against member i's unix socket (for the test's own
// checks; karana itself only ever uses HTTPS).
func (r *remoteLXD) lxc(i int, args ...string) (string, error) {
	cmd := exec.Command("lxc", args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("LXD_DIR=/var/lib/karana-rl%d/m%d", testenv.NS(), i))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (r *remoteLXD) instances(t *testing.T, project string) []string {
	t.Helper()
	out, err := r.lxc(0, "list", "--project", project, "--format", "csv", "-c", "n")
	if err != nil {
		t.Fatalf("lxc list on the remote: %v: %s", err, out)
	}
	return strings.Fields(out)
}

// clean deletes the containers a kept earlier run left in project.
func (r *remoteLXD) clean(t *testing.T, project string) {
	t.Helper()
	out, err := r.lxc(0, "list", "--project", project, "--format", "csv", "-c", "n")
	if err != nil {
		return // no such project yet
	}
	for _, name := range strings.Fields(out) {
		if out, err := r.lxc(0, "delete", "--force", "--project", project, name); err != nil {
			t.Fatalf("deleting %s on the remote: %v: %s", name, err, out)
		}
	}
}

// remoteInventory is an inventory for the namespaced daemon over HTTPS,
// with lb0 published on the namespace's own address.
func (r *remoteLXD) inventory(t *testing.T, dir, project, bridge, cidr, tenants string) string {
	t.Helper()
	inv := fmt.Sprintf(`# karana remote e2e inventory
lxd:
  endpoint: %s
  client_cert: lxd/client.crt
  client_key: lxd/client.key
  server_cert: lxd/server.crt
  project: %s
  profile: %s
  storage: {pool: karana, driver: dir}
  network: {name: %s, ipv4: %s}
images:
  balancer: karana/balancer
  influxdb: karana/influxdb
  grafana: karana-test/grafana
  api: karana/api
balancers:
  outer: {name: lb0, http_port: 80, https_port: 443, publish: true}
  inner: [lb1, lb2]
  hard_stop_after: 10s
limits: {cpu: "1", memory: 512MiB}
tenants:%s
`, r.env["KARANA_RL_ENDPOINT_0"], project, project, bridge, cidr, tenants)
	p := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(p, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// viaAddr requests https://host+path from addr (the namespace's address,
// where lb0's published ports are) and wants status.
func viaAddr(t *testing.T, addr, host, path string, status int) {
	t.Helper()
	var code int
	var err error
	for i := 0; i < 40; i++ {
		code, _, err = throughAddr(addr, host, path)
		if err == nil && code == status {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Errorf("https://%s%s via %s: got %d (%v), want %d", host, path, addr, code, err, status)
}

// TestRemote drives a namespaced LXD daemon that the host reaches only
// over HTTPS: trust by token, up, two tenants, routing through lb0's
// published ports on the namespace's address, a rolling reload under
// load without a failed request, status, tenant remove.
func TestRemote(t *testing.T) {
	start := time.Now()
	r := startRemote(t, 1)
	t.Logf("remote daemon ready in %s", time.Since(start).Round(time.Second))
	dir := t.TempDir()
	project := testenv.Name("karana-rl")
	r.clean(t, project)
	bridgeOctet := r.env["KARANA_RL_BRIDGE_OCTET"]
	inv := r.inventory(t, dir, project, testenv.Name("krlbr0"), "10.0."+bridgeOctet+".1/24", " []")
	addr := r.env["KARANA_RL_ADDR_0"]
	lb0Bridge := "10.0." + bridgeOctet + ".2"

	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"trust", func(t *testing.T) {
			if r := karana(t, inv, "status"); r.code != 5 || !strings.Contains(r.stderr, "karana remote trust") {
				t.Errorf("status before trust: exit %d, want 5 (unavailable) naming remote trust: %s", r.code, r)
			}
			token, err := remoteScript("token", "karana-e2e")
			if err != nil {
				t.Fatalf("token: %v: %s", err, token)
			}
			token = strings.TrimSpace(token)
			r1 := mustKarana(t, inv, "remote", "trust", token)
			if !strings.Contains(r1.stdout, "now trusts") || !strings.Contains(r1.stdout, "(generated)") {
				t.Errorf("first trust: %s", r1)
			}
			if st, err := os.Stat(filepath.Join(dir, "lxd", "client.key")); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("client key: %v %v", st, err)
			}
			r2 := mustKarana(t, inv, "remote", "trust", token) // the token is spent; trusted already
			if !strings.Contains(r2.stdout, "already trusted") {
				t.Errorf("second trust: %s", r2)
			}
			if r := karana(t, inv, "remote", "trust", "bm90IGEgdG9rZW4="); r.code != 2 || !strings.Contains(r.stderr, "invalid trust token") {
				t.Errorf("bad token: %s", r)
			}
		}},
		{"image build finds the imported images", func(t *testing.T) {
			r := mustKarana(t, inv, "image", "build", "--role", "balancer", "--role", "influxdb", "--role", "api")
			if strings.Count(r.stdout, "unchanged") < 3 {
				t.Errorf("image build on the remote: %s", r)
			}
		}},
		{"up", func(t *testing.T) {
			r1 := mustKarana(t, inv, "up")
			if strings.Contains(r1.stderr, "LXD installed") {
				t.Errorf("up tried to install LXD for a remote daemon: %s", r1)
			}
			for _, n := range []string{"lb0", "lb1", "lb2"} {
				if !slices.Contains(r.instances(t, project), n) {
					t.Errorf("%s missing on the remote after up", n)
				}
			}
			if _, err := os.Stat(balancer.HostSocket(mustLoad(t, inv), "lb0")); err == nil {
				t.Errorf("a host socket appeared on this machine for a remote balancer")
			}
			// The bridge lives only in the namespace: karana had no
			// direct way to the containers.
			if c, err := net.DialTimeout("tcp", lb0Bridge+":80", time.Second); err == nil {
				c.Close()
				t.Errorf("the host reaches %s directly: the test would not prove the checks go through LXD", lb0Bridge)
			}
		}},
		{"two tenants", func(t *testing.T) {
			mustKarana(t, inv, "tenant", "add", "alpha", "--domain", "alpha.rl.test")
			mustKarana(t, inv, "tenant", "add", "beta", "--domain", "beta.rl.test")
			for _, d := range []string{"alpha.rl.test", "beta.rl.test"} {
				viaAddr(t, addr, "api."+d, "/healthz", 200)
				viaAddr(t, addr, "influx."+d, "/ping", 204)
				viaAddr(t, addr, "grafana."+d, "/api/health", 200)
			}
			viaAddr(t, addr, "api.nobody.rl.test", "/healthz", 404)
			for _, tn := range []string{"alpha", "beta"} {
				id := tenantID(t, inv, tn)
				if _, body, err := throughAddr(addr, "api."+tn+".rl.test", "/healthz"); err != nil || !strings.Contains(body, `"tenant":"`+id+`"`) {
					t.Errorf("api.%s.rl.test/healthz = %q (%v), want tenant %s", tn, body, err, id)
				}
			}
		}},
		{"rolling reload under load", func(t *testing.T) {
			before := balancerPids(t, inv)
			load := &balancertest.Load{URL: "https://" + addr + "/healthz", Host: "api.alpha.rl.test", Insecure: true,
				KeepAlive: 2, NewConns: 2, Rate: 50, MaxTotal: 100_000, MaxTime: 5 * time.Minute}
			load.Start(context.Background())
			time.Sleep(2 * time.Second)
			// A changed inner configuration (hard-stop-after) rolls
			// through lb1 then lb2, drained on lb0 through LXD.
			b, _ := os.ReadFile(inv)
			os.WriteFile(inv, []byte(strings.Replace(string(b), "hard_stop_after: 10s", "hard_stop_after: 11s", 1)), 0o644)
			from := time.Now()
			rr := karana(t, inv, "balancer", "reload", "--drain-timeout", "5s")
			to := time.Now()
			time.Sleep(2 * time.Second)
			samples := load.Stop()
			if rr.code != 0 {
				t.Fatalf("balancer reload: %s", rr)
			}
			during, steady := balancertest.Split(samples, 405, []balancertest.Window{{From: from, To: to}})
			t.Logf("through lb0 over the namespace's address: during the reload (%s): %s; steady: %s", to.Sub(from).Round(time.Millisecond), during, steady)
			if during.Sent == 0 || during.Failed+during.Unexpected+steady.Failed+steady.Unexpected > 0 {
				t.Errorf("requests failed: during %s %v; steady %s %v", during, during.Errors, steady, steady.Errors)
			}
			after := balancerPids(t, inv)
			for _, n := range []string{"lb1", "lb2"} {
				if before[n] == after[n] {
					t.Errorf("%s's worker is still pid %d: the reload did not reach it", n, before[n])
				}
			}
		}},
		{"status", func(t *testing.T) {
			r := mustKarana(t, inv, "status", "-o", "json")
			var st []struct{ Group, Container, State, Health, Location string }
			if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
				t.Fatal(err)
			}
			if len(st) != 9 {
				t.Errorf("status lists %d containers, want 9: %s", len(st), r.stdout)
			}
			for _, s := range st {
				if s.State != "Running" || s.Health != "healthy" {
					t.Errorf("status: %+v", s)
				}
			}
			mustKarana(t, inv, "balancer", "status")
		}},
		{"tenant remove", func(t *testing.T) {
			mustKarana(t, inv, "tenant", "remove", "beta")
			for _, c := range []string{"beta-influx", "beta-grafana", "beta-api"} {
				if slices.Contains(r.instances(t, project), c) {
					t.Errorf("%s still on the remote", c)
				}
				if st, err := os.Stat(filepath.Join(dir, "exports", project, c+".tar.zst")); err != nil || st.Size() == 0 {
					t.Errorf("export of %s: %v", c, err)
				}
			}
			viaAddr(t, addr, "api.beta.rl.test", "/healthz", 404)
			viaAddr(t, addr, "api.alpha.rl.test", "/healthz", 200)
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			t.Fatalf("step %q failed; later steps depend on it", s.name)
		}
	}
	t.Logf("TestRemote wall time (namespaced daemon, lifecycle, teardown excluded): %s", time.Since(start).Round(time.Second))
}

// balancerPids is each inner balancer's worker pid, from balancer status.
func balancerPids(t *testing.T, inv string) map[string]int64 {
	t.Helper()
	r := karana(t, inv, "balancer", "status", "-o", "json")
	var rep balancer.StatusReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("balancer status -o json: %v\n%s", err, r)
	}
	out := map[string]int64{}
	for _, in := range rep.Inner {
		if in.Worker != nil {
			out[in.Name] = in.Worker.Pid
		}
	}
	return out
}
