package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/testenv"
)

// commandTimeout bounds one karana command of the suite.
const commandTimeout = 4 * time.Minute

// The suite's LXD objects; KARANA_TEST_NS moves them (pkg/testenv).
var (
	project = testenv.Name("karana-e2e")
	bridge  = testenv.Name("karanae2e0")
	subnet  = testenv.Subnet(13, 1, "/24")
	lb0     = testenv.Subnet(13, 2, "")
)

// bin is the karana binary under test: $KARANA_BIN or built once.
var bin string

func TestMain(m *testing.M) {
	if os.Getenv("KARANA_E2E") != "1" {
		fmt.Println("e2e: skipped (set KARANA_E2E=1, or run make e2e)")
		os.Exit(0)
	}
	bin = os.Getenv("KARANA_BIN")
	var tmp string
	if bin == "" {
		var err error
		tmp, err = os.MkdirTemp("", "karana-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		bin = filepath.Join(tmp, "karana")
		build := exec.Command("go", "build", "-o", bin, "../cmd/karana")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: building karana:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	if testenv.Keep() {
		fmt.Printf("e2e: KARANA_E2E_KEEP=1: project %s and bridge %s are kept\n", project, bridge)
	} else {
		start := time.Now()
		if err := testenv.Remove(project, bridge, "lb0", "lb1", "lb2"); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: removing what the suite made:", err)
			if code == 0 {
				code = 1
			}
		}
		fmt.Printf("e2e: removed project %s and bridge %s in %s\n", project, bridge, time.Since(start).Round(time.Second))
	}
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

// result of one karana run.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %s\n--- stdout\n%s--- stderr\n%s", r.code, r.took.Round(time.Millisecond), r.stdout, r.stderr)
}

// karana runs the binary with the suite's inventory.
func karana(t *testing.T, inv string, args ...string) result {
	t.Helper()
	// No karana command takes minutes here; a hang must fail this test with
	// what the command printed, not eat the whole suite's time.
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "--inventory", inv)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) } // Go prints every goroutine's stack
	cmd.WaitDelay = 10 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String(), took: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("karana %s did not finish within %s; it printed:\n%s\n%s", strings.Join(args, " "), commandTimeout, r.stdout, r.stderr)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running karana %v: %v", args, err)
	}
	t.Logf("karana %s: exit %d in %s", strings.Join(args, " "), r.code, r.took.Round(time.Millisecond))
	return r
}

func mustKarana(t *testing.T, inv string, args ...string) result {
	t.Helper()
	r := karana(t, inv, args...)
	if r.code != 0 {
		t.Fatalf("karana %s failed: %s", strings.Join(args, " "), r)
	}
	return r
}

// lxc runs the lxc client in the suite's project.
func lxc(args ...string) (string, error) {
	out, err := exec.Command("lxc", append([]string{"--project", project}, args...)...).CombinedOutput()
	return string(out), err
}

// instances lists the names of the project's containers.
func instances(t *testing.T) []string {
	t.Helper()
	out, err := lxc("list", "--format", "csv", "-c", "n")
	if err != nil {
		if strings.Contains(out, "not found") {
			return nil
		}
		t.Fatalf("lxc list: %v: %s", err, out)
	}
	return strings.Fields(out)
}

// cleanProject deletes every container of the suite's project; images are
// shared from the default project and stay.
func cleanProject(t *testing.T) {
	t.Helper()
	for _, name := range instances(t) {
		if out, err := lxc("delete", "--force", name); err != nil {
			t.Fatalf("deleting %s: %v: %s", name, err, out)
		}
	}
}

// writeInventory writes the suite's inventory into a fresh folder.
func writeInventory(t *testing.T, dir string) string {
	t.Helper()
	return writeInventoryFor(t, dir, project, bridge, subnet, "")
}

// writeInventoryFor writes an inventory of the given LXD project, bridge
// and subnet, with extra top-level YAML, into dir.
func writeInventoryFor(t *testing.T, dir, project, bridge, subnet, extra string) string {
	t.Helper()
	inv := fmt.Sprintf(`# karana e2e inventory
lxd:
  endpoint: unix
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
  outer: {name: lb0, http_port: 80, https_port: 443}
  inner: [lb1, lb2]
  hard_stop_after: 10s
limits: {cpu: "1", memory: 512MiB}
%stenants: []
`, project, project, bridge, subnet, extra)
	p := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(p, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// throughLB0 requests https://host+path via lb0 with SNI and Host set.
func throughLB0(host, path, user, password string) (int, string, error) {
	return request(lb0+":443", host, path, user, password)
}

// throughAddr requests https://host+path from addr (IP, port 443).
func throughAddr(addr, host, path string) (int, string, error) {
	return request(addr+":443", host, path, "", "")
}

func request(hostPort, host, path, user, password string) (int, string, error) {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: host, InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 3 * time.Second}).DialContext(ctx, network, hostPort)
		},
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodGet, "https://"+host+path, nil)
	if err != nil {
		return 0, "", err
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b), nil
}

// wantStatus retries a request through lb0 for a few seconds until it
// answers status.
func wantStatus(t *testing.T, host, path, user, password string, status int) {
	t.Helper()
	var code int
	var body string
	var err error
	for i := 0; i < 40; i++ {
		code, body, err = throughLB0(host, path, user, password)
		if err == nil && code == status {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Errorf("https://%s%s via lb0: got %d %q (%v), want %d", host, path, code, body, err, status)
}

type creds struct {
	InfluxDB struct{ User, Password string } `yaml:"influxdb"`
	Grafana  struct{ User, Password string } `yaml:"grafana"`
}

func tenantSecrets(t *testing.T, invDir, tenant string) creds {
	t.Helper()
	p := filepath.Join(invDir, "secrets", project, tenant+".yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("secrets of %s: %v", tenant, err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", p, st.Mode().Perm())
	}
	var c creds
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// tenantID is the tenant id the inventory records for name.
func tenantID(t *testing.T, invPath, name string) string {
	t.Helper()
	inv, err := inventory.Load(invPath)
	if err != nil {
		t.Fatal(err)
	}
	tn, ok := inv.Tenant(name)
	if !ok || tn.ID == "" {
		t.Fatalf("tenant %s has no id in %s", name, invPath)
	}
	return tn.ID
}

func mustLoad(t *testing.T, path string) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}
