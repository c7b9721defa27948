package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/api"
	"github.com/karana-project/karana/pkg/api/auth"
	"github.com/karana-project/karana/pkg/api/config"
)

// benchEnv is an API over real loopback HTTP with n stored users, the
// default password cost and git history on (when git is installed).
func benchEnv(b *testing.B, n int) (*env, string) {
	b.Helper()
	t := &testing.T{}
	cfg := config.Default()
	cfg.DataDir = b.TempDir()
	cfg.JWT.Secret = "0123456789abcdef0123456789abcdef"
	_, err := exec.LookPath("git")
	cfg.Git.Disabled = err != nil || os.Getenv("KARANA_BENCH_NOGIT") != ""
	if os.Getenv("KARANA_BENCH_CHEAPHASH") != "" { // the request without the hash's cost
		cfg.Argon2 = auth.Argon2{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}
	}
	if err := writeUsers(cfg.DataDir, n); err != nil {
		b.Fatal(err)
	}
	app, err := api.Build(context.Background(), cfg, api.Options{Test: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { app.Close(context.Background()) })
	e := &env{t: t, cfg: cfg, app: app}
	e.admin = e.login("admin@example.com", "admin")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: app.Handler}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return e, "http://" + ln.Addr().String()
}

func writeUsers(dir string, n int) error {
	h, err := auth.NewHasher(auth.DefaultArgon2)
	if err != nil {
		return err
	}
	hash, _ := h.Hash("bench-password")
	f, err := os.Create(filepath.Join(dir, "table_db.json"))
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprint(f, `{"karanas":{},"users":{`)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		if i > 0 {
			fmt.Fprint(f, ",")
		}
		fmt.Fprintf(f, `%q:{"uuid":%q,"name":"User %d","email":"u%d@bench.org","role":"client","password_influx":"UUTQAMMMLZoZ3RTK",`+
			`"created_at":"2017-03-02T15:26:11.767166+00:00","karanas":[],"credentials":{"login":"u%d@bench.org","password":%q}}`, id, id, i, i, i, hash)
	}
	fmt.Fprint(f, "}}")
	return nil
}

func BenchmarkBareHandler(b *testing.B) {
	e, base := benchEnv(b, 1000)
	id := "00000000-0000-4000-8000-000000000500"
	body := e.raw("GET", "/v1/users/"+id, e.admin, nil).Body.Bytes()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	_ = base
	parallelGet(b, "http://"+ln.Addr().String()+"/v1/users/"+id, "")
}

func BenchmarkGetUser(b *testing.B) {
	e, base := benchEnv(b, 1000)
	parallelGet(b, base+"/v1/users/00000000-0000-4000-8000-000000000500", e.admin)
}

func parallelGet(b *testing.B, url, token string) {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: tr}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := client.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Errorf("GET: %v %v", err, resp)
				return
			}
			var buf [4096]byte
			for {
				if _, err := resp.Body.Read(buf[:]); err != nil {
					break
				}
			}
			resp.Body.Close()
		}
	})
}

// BenchmarkCreateUser10k creates users one after another with 10,000
// stored, reporting p50 and p99 latency (durable write included).
func BenchmarkCreateUser10k(b *testing.B) {
	e, _ := benchEnv(b, 10000)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		email := fmt.Sprintf("new%d@bench.org", i)
		start := time.Now()
		rec := e.raw("POST", "/v1/users/new", e.admin, map[string]any{"name": "N", "email": email,
			"credentials": map[string]string{"login": email, "password": "bench-password"}})
		lat = append(lat, time.Since(start))
		if rec.Code != http.StatusCreated {
			b.Fatalf("create: %d %s", rec.Code, rec.Body.String())
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	e.app.FlushHistory()
}
