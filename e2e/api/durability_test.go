// Package api_test runs the built karana binary: `karana api serve` is
// killed with SIGKILL during a stream of writes, and every write it
// acknowledged must be there after a restart, with git history intact.
// Skipped with -short (it builds the binary).
package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

type server struct {
	t    *testing.T
	bin  string
	cfg  string
	base string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "karana")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/karana")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building karana: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *server) start() {
	s.t.Helper()
	s.log = &bytes.Buffer{}
	s.cmd = exec.Command(s.bin, "api", "serve", "--config", s.cfg, "--test")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("the server did not answer /healthz:\n%s", s.log)
}

func (s *server) call(method, path, token string, body any) (int, map[string]any, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.base+path, bytes.NewReader(b))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, out, nil
}

func (s *server) token() string {
	s.t.Helper()
	code, out, err := s.call("POST", "/v1/users/login", "", map[string]string{"user": "admin@example.com", "password": "admin"})
	if err != nil || code != 200 {
		s.t.Fatalf("login: %d %v %v", code, out, err)
	}
	return out["results"].([]any)[0].(map[string]any)["token"].(string)
}

func firstKey(out map[string]any) string {
	for k := range out["results"].([]any)[0].(map[string]any) {
		return k
	}
	return ""
}

func TestSIGKILLLosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "api.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`listen: %q
data_dir: %q
log_level: debug
jwt: {secret: "0123456789abcdef0123456789abcdef", lifetime: 1h}
argon2: {memory_kib: 64, iterations: 1, parallelism: 1}
`, addr, filepath.Join(dir, "data"))), 0o600)
	s := &server{t: t, bin: build(t), cfg: cfg, base: "http://" + addr}
	s.start()
	tok := s.token()

	var mu sync.Mutex
	acked := map[string]string{} // id -> resource
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			owner := "" // the worker's newest user: no user reaches the karanas-per-owner limit
			for i := 0; ctx.Err() == nil; i++ {
				res, body := "karanas", map[string]any{"name": fmt.Sprintf("k%d-%d", w, i), "owner": owner}
				if i%3 == 0 {
					email := fmt.Sprintf("u%d-%d@example.org", w, i)
					res, body = "users", map[string]any{"name": "U", "email": email,
						"credentials": map[string]string{"login": email, "password": "password-123"}}
				}
				code, out, err := s.call("POST", "/v1/"+res+"/new", tok, body)
				if err != nil {
					return // the server is gone
				}
				if code != http.StatusCreated {
					t.Errorf("create %s: %d %v", res, code, out)
					return
				}
				id := firstKey(out)
				if res == "users" {
					owner = id
				}
				mu.Lock()
				acked[id] = res
				mu.Unlock()
			}
		}(w)
	}
	time.Sleep(1500 * time.Millisecond)
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.cmd.Wait()
	cancel()
	wg.Wait()
	if len(acked) < 20 {
		t.Fatalf("only %d writes were acknowledged before the kill", len(acked))
	}

	s.start()
	tok = s.token()
	for _, res := range []string{"users", "karanas"} {
		code, out, err := s.call("GET", "/v1/"+res+"/", tok, nil)
		if err != nil || code != 200 {
			t.Fatalf("listing %s after restart: %d %v", res, code, err)
		}
		have := out["results"].([]any)[0].(map[string]any)
		for id, r := range acked {
			if r == res && have[id] == nil {
				t.Errorf("acknowledged %s %s is missing after the restart", res, id)
			}
		}
	}
	t.Logf("%d acknowledged writes all present after SIGKILL and restart", len(acked))

	// a graceful stop: exit 0, git then has exactly the dump
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("SIGTERM: the server exited with %v\n%s", err, s.log)
	}
	data := filepath.Join(dir, "data")
	if out, err := exec.Command("git", "-C", data, "fsck", "--full", "--strict").CombinedOutput(); err != nil {
		t.Errorf("git fsck: %v\n%s", err, out)
	}
	head, err := exec.Command("git", "-C", data, "show", "HEAD:table_db.json").Output()
	disk, _ := os.ReadFile(filepath.Join(data, "table_db.json"))
	if err != nil || !bytes.Equal(head, disk) {
		t.Errorf("git HEAD's table_db.json differs from the dump after a graceful stop (%v)", err)
	}
	if status, _ := exec.Command("git", "-C", data, "status", "--porcelain", "table_db.json").Output(); len(status) != 0 {
		t.Errorf("git status shows the dump as changed: %s", status)
	}
}
