package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLifecycle is the operator's day, in order: up on a clean project,
// two tenants, isolation through lb0, an unchanged rerun, a tenant add
// killed halfway and resumed, a removal with export.
func TestLifecycle(t *testing.T) {
	cleanProject(t)
	dir := t.TempDir()
	inv := writeInventory(t, dir)
	ensureImages(t)

	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"up", func(t *testing.T) {
			r := mustKarana(t, inv, "up")
			if !strings.Contains(r.stdout, "changed") {
				t.Errorf("no summary: %s", r)
			}
			for _, name := range []string{"lb0", "lb1", "lb2"} {
				if !slices.Contains(instances(t), name) {
					t.Errorf("%s missing after up", name)
				}
			}
			// The tenant containers added next are copies of these:
			// stopped, already shifted, their sleep init gone.
			for _, name := range []string{"karana-influx-template", "karana-grafana-template", "karana-api-template"} {
				out, err := lxc("list", "--format", "csv", "-c", "ns", name)
				idmap, _ := lxc("config", "get", name, "volatile.last_state.idmap")
				raw, _ := lxc("config", "get", name, "raw.lxc")
				if err != nil || strings.TrimSpace(out) != name+",STOPPED" || !strings.Contains(idmap, "Hostid") || strings.TrimSpace(raw) != "" {
					t.Errorf("template %s: %q (%v), idmap %q, raw.lxc %q", name, out, err, idmap, raw)
				}
			}
		}},
		{"add two tenants", func(t *testing.T) {
			r := mustKarana(t, inv, "tenant", "add", "alpha", "--domain", "alpha.e2e.test", "--customer", "Alpha e.V.")
			for _, w := range []string{"Welcome, alpha", "https://api.alpha.e2e.test", "https://grafana.alpha.e2e.test", "https://influx.alpha.e2e.test",
				"login admin", "karana tenant credentials alpha --inventory " + inv} {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("tenant add's welcome lacks %q:\n%s", w, r.stdout)
				}
			}
			mustKarana(t, inv, "tenant", "add", "beta", "--domain", "beta.e2e.test")
			for _, c := range []string{"alpha-influx", "alpha-grafana", "alpha-api", "beta-influx", "beta-grafana", "beta-api"} {
				if !slices.Contains(instances(t), c) {
					t.Errorf("%s missing", c)
				}
			}
		}},
		{"routing and isolation", func(t *testing.T) {
			a, b := tenantSecrets(t, dir, "alpha"), tenantSecrets(t, dir, "beta")
			for _, d := range []string{"alpha.e2e.test", "beta.e2e.test"} {
				wantStatus(t, "api."+d, "/healthz", "", "", 200)
				wantStatus(t, "influx."+d, "/ping", "", "", 204)
				wantStatus(t, "grafana."+d, "/api/health", "", "", 200)
			}
			// api.<domain> reaches that tenant's own API: its /healthz names the tenant.
			for _, tn := range []string{"alpha", "beta"} {
				id := tenantID(t, inv, tn)
				if _, body, err := throughLB0("api."+tn+".e2e.test", "/healthz", "", ""); err != nil || !strings.Contains(body, `"tenant":"`+id+`"`) {
					t.Errorf("api.%s.e2e.test/healthz = %q (%v), want tenant %s", tn, body, err, id)
				}
			}
			// Each tenant's admin credentials open its own services only.
			wantStatus(t, "influx.alpha.e2e.test", "/query?q=SHOW+DATABASES", a.InfluxDB.User, a.InfluxDB.Password, 200)
			wantStatus(t, "influx.beta.e2e.test", "/query?q=SHOW+DATABASES", a.InfluxDB.User, a.InfluxDB.Password, 401)
			wantStatus(t, "influx.beta.e2e.test", "/query?q=SHOW+DATABASES", b.InfluxDB.User, b.InfluxDB.Password, 200)
			wantStatus(t, "influx.alpha.e2e.test", "/query?q=SHOW+DATABASES", "", "", 401)
			wantStatus(t, "grafana.alpha.e2e.test", "/api/user", a.Grafana.User, a.Grafana.Password, 200)
			wantStatus(t, "grafana.beta.e2e.test", "/api/user", a.Grafana.User, a.Grafana.Password, 401)
			wantStatus(t, "api.nobody.e2e.test", "/healthz", "", "", 404)
		}},
		{"customer path", func(t *testing.T) {
			start := time.Now()
			a, b := credentialsOf(t, inv, "alpha"), credentialsOf(t, inv, "beta")
			customerPath(t, inv, "alpha.e2e.test", a)
			foreignCredentials(t, "alpha.e2e.test", b)
			foreignCredentials(t, "beta.e2e.test", a)
			t.Logf("customer path: %s", time.Since(start).Round(time.Millisecond))
		}},
		{"metrics", func(t *testing.T) { checkMetrics(t, dir, inv, "alpha") }},
		{"unchanged rerun", func(t *testing.T) {
			r := mustKarana(t, inv, "up", "-o", "json")
			var res struct {
				Changed bool `json:"changed"`
				Objects []struct {
					Object  string   `json:"object"`
					Changes []string `json:"changes"`
				} `json:"objects"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatalf("up -o json: %v\n%s", err, r)
			}
			if res.Changed {
				t.Errorf("unchanged rerun changed: %+v", res.Objects)
			}
			r = mustKarana(t, inv, "up")
			if !strings.Contains(r.stdout, "Nothing changed") {
				t.Errorf("rerun does not say nothing changed: %s", r)
			}
			t.Logf("unchanged up: %s", r.took)
		}},
		{"killed add resumes", func(t *testing.T) {
			killDuringAdd(t, inv, "gamma", "gamma.e2e.test")
			mustKarana(t, inv, "tenant", "add", "gamma", "--domain", "gamma.e2e.test")
			wantStatus(t, "api.gamma.e2e.test", "/healthz", "", "", 200)
			wantStatus(t, "influx.gamma.e2e.test", "/ping", "", "", 204)
			r := karana(t, inv, "status", "-o", "json")
			var st []struct{ Group, Container, State, Health string }
			json.Unmarshal([]byte(r.stdout), &st)
			for _, s := range st {
				if s.Group == "unknown" || s.State != "Running" || s.Health != "healthy" {
					t.Errorf("after resume: %+v", s)
				}
			}
			if r.code != 0 {
				t.Errorf("status: %s", r)
			}
		}},
		{"remove with export", func(t *testing.T) {
			mustKarana(t, inv, "tenant", "remove", "beta")
			for _, c := range []string{"beta-influx", "beta-grafana", "beta-api"} {
				if slices.Contains(instances(t), c) {
					t.Errorf("%s still exists", c)
				}
				p := filepath.Join(dir, "exports", project, c+".tar.zst")
				if st, err := os.Stat(p); err != nil || st.Size() == 0 {
					t.Errorf("export %s: %v", p, err)
				}
			}
			wantStatus(t, "influx.beta.e2e.test", "/ping", "", "", 404)
			wantStatus(t, "api.beta.e2e.test", "/healthz", "", "", 404)
			wantStatus(t, "api.alpha.e2e.test", "/healthz", "", "", 200)
			r := mustKarana(t, inv, "tenant", "list", "-o", "json")
			var list []struct{ Name string }
			json.Unmarshal([]byte(r.stdout), &list)
			var names []string
			for _, x := range list {
				names = append(names, x.Name)
			}
			if !slices.Equal(names, []string{"alpha", "gamma"}) {
				t.Errorf("tenants after remove: %v", names)
			}
		}},
		{"acme certificates", func(t *testing.T) { checkACME(t, dir, inv) }},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			t.Fatalf("step %q failed; later steps depend on it", s.name)
		}
	}
}

// killDuringAdd starts `tenant add` and SIGKILLs it once it has begun
// creating the containers, leaving them half-made.
func killDuringAdd(t *testing.T, inv, name, domain string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "tenant", "add", name, "--domain", domain, "--inventory", inv)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	killed := false
	for sc.Scan() {
		line := sc.Text()
		t.Logf("add (to be killed): %s", line)
		if strings.HasPrefix(line, "==> containers "+name+"-influx") {
			time.Sleep(1500 * time.Millisecond) // mid-creation
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
			break
		}
	}
	go func() { _, _ = stderrDrain(stderr) }()
	cmd.Wait()
	if !killed {
		t.Fatalf("tenant add %s finished before it could be killed", name)
	}
	r := karana(t, inv, "tenant", "list", "-o", "json")
	if !strings.Contains(r.stdout, `"`+name+`"`) {
		t.Errorf("killed add did not record %s in the inventory first: %s", name, r)
	}
}

func stderrDrain(r interface{ Read([]byte) (int, error) }) (int, error) {
	buf := make([]byte, 4096)
	n := 0
	for {
		m, err := r.Read(buf)
		n += m
		if err != nil {
			return n, err
		}
	}
}

// ensureImages builds the test images when the Grafana stand-in is missing.
func ensureImages(t *testing.T) {
	t.Helper()
	out, _ := exec.Command("lxc", "image", "list", "--project", "default", "--format", "csv", "-c", "l").CombinedOutput()
	if strings.Contains(string(out), "karana-test/grafana") {
		return
	}
	cmd := exec.Command("bash", "images.sh")
	cmd.Env = append(os.Environ(), "KARANA_BIN="+bin)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("e2e/images.sh: %v", err)
	}
}
