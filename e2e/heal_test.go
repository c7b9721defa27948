package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/testenv"
)

// The heal test's own LXD objects, apart from the lifecycle's.
var (
	healProject = testenv.Name("karana-heal")
	healBridge  = testenv.Name("karanaheal0")
	healSubnet  = testenv.Subnet(34, 1, "/24")
	healLB0     = testenv.Subnet(34, 2, "")
)

func healLXC(args ...string) (string, error) {
	out, err := exec.Command("lxc", append([]string{"--project", healProject}, args...)...).CombinedOutput()
	return string(out), err
}

// deleteHealProject removes every container of the heal project and the
// project itself (its profile goes with it).
func deleteHealProject(t *testing.T) {
	t.Helper()
	out, err := healLXC("list", "--format", "csv", "-c", "n")
	if err != nil {
		if strings.Contains(out, "not found") {
			return
		}
		t.Fatalf("lxc list: %v: %s", err, out)
	}
	for _, c := range strings.Fields(out) {
		if out, err := healLXC("delete", "--force", c); err != nil {
			t.Fatalf("deleting %s: %v: %s", c, err, out)
		}
	}
	exec.Command("lxc", "profile", "delete", healProject, "--project", healProject).Run()
	if out, err := exec.Command("lxc", "project", "delete", healProject).CombinedOutput(); err != nil && !strings.Contains(string(out), "not found") {
		t.Fatalf("deleting project %s: %v: %s", healProject, err, out)
	}
}

// TestHealAndRestore is issue 11's proof on its own project: a tenant
// whose API has a user and a karana that wrote points; a backup; its
// InfluxDB container deleted while `heal --watch` runs; its InfluxDB and
// API containers deleted and one `heal`; the tenant removed and restored
// from its backup; the whole LXD project deleted and brought back by one
// `up`. After each, every point written before the
// backup is there, the user logs in to the API, the karana writes again
// with its old credentials and its owner reads the new point. The figures
// are logged as BENCH lines (e2e/bench-heal.sh prints them).
func TestHealAndRestore(t *testing.T) {
	deleteHealProject(t)
	t.Cleanup(func() {
		if testenv.Keep() {
			return
		}
		if err := testenv.Remove(healProject, healBridge, "lb0", "lb1", "lb2"); err != nil {
			t.Errorf("removing the heal project: %v", err)
		}
	})
	dir := t.TempDir()
	inv := writeHealInventory(t, dir)
	ensureImages(t)
	const domain = "acme.heal.test"
	apiHost, influxHost := "api."+domain, "influx."+domain
	mustKarana(t, inv, "up")
	mustKarana(t, inv, "tenant", "add", "acme", "--domain", domain)
	cred := credentialsOf(t, inv, "acme")

	// The customer: a user and its karana, made through the API and synced.
	login := func(t *testing.T, user, password string) string {
		t.Helper()
		body := hwant(t, seed("POST", apiHost, "/v1/users/login", "", map[string]string{"user": user, "password": password}), 200)
		var out struct{ Results []struct{ Token string } }
		if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.Results) != 1 {
			t.Fatalf("login %s: %v %s", user, err, body)
		}
		return out.Results[0].Token
	}
	admin := login(t, cred.API.Login, cred.API.Password)
	ann := customer{login: "ann@" + domain, password: "password-ann"}
	body := hwant(t, seed("POST", apiHost, "/v1/users/new", admin, map[string]any{
		"name": "ann", "email": ann.login, "credentials": map[string]string{"login": ann.login, "password": ann.password}}), 201)
	var rec map[string]any
	ann.id, rec = oneRecord(t, body)
	ann.influxPassword, _ = rec["password_influx"].(string)
	body = hwant(t, seed("POST", apiHost, "/v1/karanas/new", login(t, ann.login, ann.password), map[string]any{"name": "field-1", "configuration": map[string]any{"interval": 60}}), 201)
	ann.karana, rec = oneRecord(t, body)
	ann.karanaPassword, _ = rec["password_influx"].(string)
	hwant(t, req{method: "POST", host: apiHost, path: "/v1/sync/all/db", bearer: admin}, 200)
	db, kUser, uUser := "u_"+hexID(ann.id), "k_"+hexID(ann.karana), "u_"+hexID(ann.id)

	write := func(t *testing.T, v int) {
		t.Helper()
		hwant(t, req{method: "POST", host: influxHost, path: "/write?db=" + db, user: kUser, password: ann.karanaPassword,
			body: fmt.Sprintf("climate,karana=%s temperature=%d", ann.karana, v), contentType: "text/plain"}, 204)
	}
	points := func(t *testing.T) int {
		t.Helper()
		body := hwant(t, req{host: influxHost, path: "/query?" + form("db", db, "q", "SELECT count(temperature) FROM climate"), user: uUser, password: ann.influxPassword}, 200)
		var res struct {
			Results []struct {
				Series []struct{ Values [][]any } `json:"series"`
			} `json:"results"`
		}
		if json.Unmarshal([]byte(body), &res) != nil || len(res.Results) == 0 || len(res.Results[0].Series) == 0 {
			return 0
		}
		n, _ := res.Results[0].Series[0].Values[0][1].(float64)
		return int(n)
	}
	for v := 1; v <= 5; v++ {
		write(t, v)
	}

	r := mustKarana(t, inv, "backup", "-o", "json")
	var backups []struct {
		Tenant, ID string
		Size       int64
		Parts      []struct{ Role, SHA256 string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &backups); err != nil || len(backups) != 1 || backups[0].ID == "" || len(backups[0].Parts) != 3 {
		t.Fatalf("backup -o json: %v\n%s", err, r)
	}
	backupAt := time.Now()
	t.Logf("BENCH backup of one tenant: %.1f s, %d bytes", r.took.Seconds(), backups[0].Size)

	// check: every point written before the backup is there (and none
	// after it: each restore goes back to the backup, the recovery point),
	// the API and Grafana know ann, the karana writes with its old
	// credentials and ann reads it.
	check := func(t *testing.T, what string) {
		t.Helper()
		const want = 5
		waitUp("influx."+domain, "/ping", 204, time.Minute)
		waitUp(apiHost, "/healthz", 200, time.Minute)
		if n := points(t); n != want {
			t.Errorf("%s: ann reads %d points, want %d (all written before the backup)", what, n, want)
		}
		login(t, ann.login, ann.password)
		waitUp("grafana."+domain, "/api/health", 200, time.Minute)
		hwant(t, req{host: "grafana." + domain, path: "/api/users/lookup?" + form("loginOrEmail", ann.login),
			user: cred.Grafana.Login, password: cred.Grafana.Password}, 200)
		write(t, 100)
		if n := points(t); n != want+1 {
			t.Errorf("%s: after the karana's new write ann reads %d points, want %d", what, n, want+1)
		}
	}

	t.Run("heal --watch one container", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		watch := exec.CommandContext(ctx, bin, "heal", "--watch", "--interval", "1s", "--inventory", inv)
		watch.Cancel = func() error { return watch.Process.Signal(syscall.SIGINT) }
		var out syncBuffer
		watch.Stdout, watch.Stderr = &out, &out
		watch.Env = append(os.Environ(), "NO_COLOR=1")
		if err := watch.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // a healthy round first: nothing to do
		lost := time.Now()
		t.Logf("BENCH recovery point (age of the newest backup at the loss): %.1f s", lost.Sub(backupAt).Seconds())
		if o, err := healLXC("delete", "--force", "acme-influx"); err != nil {
			t.Fatalf("lxc delete: %v: %s", err, o)
		}
		healed := waitUp(influxHost, "/ping", 204, 2*time.Minute)
		took := time.Since(lost)
		// The round goes on with the check through lb0 and the reconcile.
		reported := regexp.MustCompile(`acme-influx\s+missing\s+restored from`)
		for deadline := time.Now().Add(time.Minute); !reported.MatchString(out.String()) && time.Now().Before(deadline); {
			time.Sleep(200 * time.Millisecond)
		}
		cancel()
		watch.Wait()
		t.Logf("heal --watch printed:\n%s", out.String())
		if !healed {
			t.Fatalf("acme-influx did not answer within 2 minutes of its loss")
		}
		t.Logf("BENCH one container (InfluxDB) healed by heal --watch: %.1f s after its loss (goal <= 30 s; shared 2-core machine)", took.Seconds())
		if !reported.MatchString(out.String()) || !strings.Contains(out.String(), "reconciled") {
			t.Errorf("heal did not report a restore and a reconcile")
		}
		check(t, "after heal --watch")
	})
	t.Run("heal InfluxDB and API", func(t *testing.T) {
		for _, c := range []string{"acme-influx", "acme-api"} {
			if o, err := healLXC("delete", "--force", c); err != nil {
				t.Fatalf("lxc delete %s: %v: %s", c, err, o)
			}
		}
		r := mustKarana(t, inv, "heal", "-o", "json")
		var round struct {
			Actions []struct {
				Container, Problem, Did string
				Down                    float64 `json:"down_seconds"`
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &round); err != nil || len(round.Actions) != 2 {
			t.Fatalf("heal -o json: %v\n%s", err, r)
		}
		for _, a := range round.Actions {
			if a.Problem != "missing" || !strings.HasPrefix(a.Did, "restored from") {
				t.Errorf("action %+v", a)
			}
		}
		if !strings.Contains(r.stderr, "reconciled") {
			t.Errorf("heal did not run the API's reconcile:\n%s", r.stderr)
		}
		t.Logf("BENCH two containers (InfluxDB, API) healed by one heal: %.1f s", r.took.Seconds())
		check(t, "after heal of InfluxDB and API")
		// A healthy tenant is left alone.
		r = mustKarana(t, inv, "heal")
		if !strings.Contains(r.stdout, "Every tenant container is healthy") {
			t.Errorf("heal on a healthy tenant: %s", r)
		}
	})
	t.Run("removed tenant restored", func(t *testing.T) {
		mustKarana(t, inv, "tenant", "remove", "acme")
		if code, _, _ := (req{host: influxHost, path: "/ping"}).via(healLB0); code != 404 {
			t.Errorf("removed tenant's InfluxDB answers %d, want 404", code)
		}
		r := mustKarana(t, inv, "tenant", "restore", "acme")
		t.Logf("BENCH whole tenant restored from its backup (3 containers, routes): %.1f s (goal <= 60 s)", r.took.Seconds())
		check(t, "after tenant restore")
	})
	t.Run("whole project lost", func(t *testing.T) {
		deleteHealProject(t)
		// up alone: it creates the tenant's containers and, since the
		// tenant has a backup, fills them from it.
		r := mustKarana(t, inv, "up")
		if strings.Count(r.stderr, "ok restoring acme-") != 3 {
			t.Errorf("up did not restore the three containers from the backup:\n%s", r.stderr)
		}
		t.Logf("BENCH whole project (3 balancers, 1 tenant) back by one up: %.1f s", r.took.Seconds())
		check(t, "after the whole project's loss")
	})
}

// waitUp waits until host answers path with status through lb0, four
// times in a row (lb0 alternates between lb1 and lb2, whose health checks
// each see a new container in their own time).
func waitUp(host, path string, status int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for ok := 0; time.Now().Before(deadline); {
		if code, _, err := (req{host: host, path: path}).via(healLB0); err == nil && code == status {
			if ok++; ok == 4 {
				return true
			}
			continue
		}
		ok = 0
		time.Sleep(200 * time.Millisecond)
	}
	return false
}

// syncBuffer is a strings.Builder safe for a process's two output pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func writeHealInventory(t *testing.T, dir string) string {
	t.Helper()
	return writeInventoryFor(t, dir, healProject, healBridge, healSubnet, "backups: {keep: 2}\n")
}

// via sends q to addr:443 (a suite's lb0).
func (q req) via(addr string) (int, string, error) {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: q.host, InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 3 * time.Second}).DialContext(ctx, network, addr+":443")
		},
	}
	defer tr.CloseIdleConnections()
	if q.method == "" {
		q.method = http.MethodGet
	}
	r, err := http.NewRequest(q.method, "https://"+q.host+q.path, strings.NewReader(q.body))
	if err != nil {
		return 0, "", err
	}
	if q.contentType != "" {
		r.Header.Set("Content-Type", q.contentType)
	}
	if q.bearer != "" {
		r.Header.Set("Authorization", "Bearer "+q.bearer)
	}
	if q.user != "" {
		r.SetBasicAuth(q.user, q.password)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 60 * time.Second}).Do(r)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), nil
}

// hwant sends q through the heal project's lb0 and fails unless it
// answers status.
func hwant(t *testing.T, q req, status int) string {
	t.Helper()
	code, body, err := q.via(healLB0)
	if err != nil || code != status {
		t.Fatalf("%s https://%s%s via %s: %d %s %v, want %d", q.method, q.host, q.path, healLB0, code, body, err, status)
	}
	return body
}
