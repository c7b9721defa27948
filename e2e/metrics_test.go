package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkMetrics is the lifecycle's metrics step: every balancer's exporter
// and the tenant's API metrics answer on the bridge and not through lb0;
// Debian's Prometheus, given `karana metrics scrape-config`, sees requests
// made through lb0 in the tenant's counters; `karana status` shows them.
func checkMetrics(t *testing.T, dir, inv, tenant string) {
	for _, addr := range []string{lb0, testenvAddr(3), testenvAddr(4)} {
		if body := get(t, "http://"+addr+":8405/metrics"); !strings.Contains(body, "haproxy_process_start_time_seconds") {
			t.Errorf("%s:8405/metrics is not HAProxy's exporter: %.300s", addr, body)
		}
	}
	apiAddr := containerAddr(t, tenant+"-api")
	if body := get(t, "http://"+apiAddr+":9100/metrics"); !strings.Contains(body, "karana_api_requests_total") {
		t.Errorf("%s-api:9100/metrics: %.300s", tenant, body)
	}
	// Not through lb0: lb0 forwards 80 and 443 only (its :8405 is its own
	// exporter, checked above), and api.<domain>/metrics is the API's 404.
	if c, err := net.DialTimeout("tcp", lb0+":9100", 2*time.Second); err == nil {
		c.Close()
		t.Errorf("lb0 answers on :9100")
	}
	if code, body, _ := throughLB0("api."+tenant+".e2e.test", "/metrics", "", ""); code != 404 || strings.Contains(body, "karana_api") {
		t.Errorf("api.%s.e2e.test/metrics through lb0: %d %.200s", tenant, code, body)
	}

	prom := startPrometheus(t, dir, inv)
	waitFor(t, "prometheus targets up", 60*time.Second, func() bool {
		return promValue(t, prom, `count(up{job=~"karana-haproxy|karana-api"} == 1)`) >= 4
	})
	hq := fmt.Sprintf(`sum(haproxy_server_http_responses_total{job="karana-haproxy",tenant=%q,proxy="be_tenants",server=%q})`, tenant, tenant+"-api")
	aq := fmt.Sprintf(`sum(karana_api_requests_total{job="karana-api",tenant=%q,route="/healthz",code="200"})`, tenant)
	waitFor(t, "tenant series in prometheus", 30*time.Second, func() bool {
		return promValue(t, prom, hq) >= 0 && promValue(t, prom, aq) >= 0
	})
	h0, a0 := promValue(t, prom, hq), promValue(t, prom, aq)
	const n = 25
	for i := 0; i < n; i++ {
		if code, _, err := throughLB0("api."+tenant+".e2e.test", "/healthz", "", ""); code != 200 {
			t.Fatalf("request %d through lb0: %d %v", i, code, err)
		}
	}
	waitFor(t, "the requests in prometheus", 30*time.Second, func() bool {
		return promValue(t, prom, hq)-h0 >= n && promValue(t, prom, aq)-a0 >= n
	})
	t.Logf("prometheus: %s %v -> %v, %s %v -> %v", hq, h0, promValue(t, prom, hq), aq, a0, promValue(t, prom, aq))

	r := mustKarana(t, inv, "status", "-o", "json")
	var rows []struct {
		Container string
		Traffic   *struct {
			Requests int     `json:"requests"`
			P99      float64 `json:"p99_ms"`
		}
		CertExpires *time.Time `json:"cert_expires"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, r)
	}
	for _, row := range rows {
		if row.Container == tenant+"-api" {
			if row.Traffic == nil || row.Traffic.Requests < n || row.Traffic.P99 < 0 || row.CertExpires == nil {
				t.Errorf("status of %s-api after %d requests: %+v (%s)", tenant, n, row, r)
			}
			return
		}
	}
	t.Errorf("status has no %s-api row: %s", tenant, r)
}

// testenvAddr is host n of the suite's subnet (2 lb0, 3 lb1, 4 lb2).
func testenvAddr(n int) string {
	return strings.TrimSuffix(lb0, ".2") + "." + strconv.Itoa(n)
}

func containerAddr(t *testing.T, name string) string {
	t.Helper()
	out, err := lxc("list", name, "--format", "csv", "-c", "4")
	if err != nil {
		t.Fatalf("lxc list %s: %v %s", name, err, out)
	}
	addr, _, _ := strings.Cut(strings.TrimSpace(out), " ")
	if net.ParseIP(addr) == nil {
		t.Fatalf("%s has no address: %q", name, out)
	}
	return addr
}

func get(t *testing.T, u string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Errorf("GET %s: %v", u, err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return string(b)
}

// startPrometheus runs Debian's prometheus on a loopback port with the
// generated scrape configuration (every second), until the test ends.
func startPrometheus(t *testing.T, dir, inv string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus is not installed (e2e/setup.sh installs it)")
	}
	r := mustKarana(t, inv, "metrics", "scrape-config", "--interval", "1s")
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	cmd := exec.CommandContext(ctx, bin, "--config.file="+cfg, "--web.listen-address="+addr,
		"--storage.tsdb.path="+filepath.Join(dir, "prometheus-data"))
	logf, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})
	return "http://" + addr
}

// promValue is the first value of an instant query, -1 when none.
func promValue(t *testing.T, prom, query string) float64 {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(prom + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var out struct {
		Status string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Status != "success" || len(out.Data.Result) == 0 {
		return -1
	}
	s, _ := out.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return -1
	}
	return v
}

func waitFor(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("%s: not within %s", what, limit)
}
