// Package influxtest runs a real influxd on loopback for tests: a fresh data
// folder, free ports, auth enabled and an admin bootstrapped. The server is
// stopped when the test ends.
package influxtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/influx"
)

// Server is a running influxd.
type Server struct {
	URL           string // http://127.0.0.1:port
	AdminUser     string
	AdminPassword string
	Dir           string // data, meta, wal and the log live here

	cmd  *exec.Cmd
	done chan error
}

// Client returns an admin client for the server.
func (s *Server) Client(t testing.TB) *influx.Client {
	t.Helper()
	c, err := influx.New(s.URL, s.AdminUser, s.AdminPassword, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Binary returns the influxd to run: $INFLUXD if set, else influxd on PATH,
// else /usr/bin/influxd. It returns "" when none exists.
func Binary() string {
	if p := os.Getenv("INFLUXD"); p != "" {
		return p
	}
	if p, err := exec.LookPath("influxd"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/influxd"); err == nil {
		return "/usr/bin/influxd"
	}
	return ""
}

// Start runs influxd for the test, skipping the test (with the reason) only
// when no influxd binary is installed. Any other failure fails the test.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skip("influxtest: influxd is not installed (apt-get install influxdb, or set INFLUXD=/path/to/influxd)")
	}
	dir := t.TempDir()
	var lastErr error
	// A free port found by listening on :0 can be taken by someone else
	// before influxd binds it; retry a few times on a bind failure.
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(bin, filepath.Join(dir, fmt.Sprint(attempt)))
		if err == nil {
			t.Cleanup(s.stop)
			if err := s.bootstrap(); err != nil {
				t.Fatalf("influxtest: %v\n%s", err, s.logTail())
			}
			return s
		}
		lastErr = err
	}
	t.Fatalf("influxtest: starting %s: %v", bin, lastErr)
	return nil
}

func start(bin, dir string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	conf := filepath.Join(dir, "influxdb.conf")
	if err := os.WriteFile(conf, []byte(config(dir, httpAddr, ports[1])), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "influxd.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-config", conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &Server{
		URL: "http://" + httpAddr, AdminUser: "root", AdminPassword: randomPassword(),
		Dir: dir, cmd: cmd, done: make(chan error, 1),
	}
	go func() { s.done <- cmd.Wait(); logf.Close() }()
	if err := s.waitReady(30 * time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w\n%s", err, s.logTail())
	}
	return s, nil
}

func config(dir, httpAddr string, rpcPort int) string {
	return fmt.Sprintf(`reporting-enabled = false
bind-address = "127.0.0.1:%d"
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = %q
  auth-enabled = true
  log-enabled = false
  pprof-enabled = false
[logging]
  level = "warn"
  suppress-logo = true
[continuous_queries]
  enabled = false
`, rpcPort, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), httpAddr)
}

// waitReady polls /ping until influxd answers, it exits, or limit passes.
func (s *Server) waitReady(limit time.Duration) error {
	c, _ := influx.New(s.URL, "", "", &http.Client{Timeout: time.Second})
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("influxd exited before answering: %v", err)
		default:
		}
		if c.Ping(context.Background()) == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("influxd did not answer /ping at %s within %s", s.URL, limit)
}

func (s *Server) bootstrap() error {
	c, err := influx.New(s.URL, s.AdminUser, s.AdminPassword, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.EnsureAdmin(ctx); err != nil {
		return fmt.Errorf("creating admin: %w", err)
	}
	if _, err := c.Users(ctx); err != nil {
		return fmt.Errorf("checking admin: %w", err)
	}
	return nil
}

func (s *Server) stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		s.done <- <-s.done
	}
}

func (s *Server) logTail() string {
	data, _ := os.ReadFile(filepath.Join(s.Dir, "influxd.log"))
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return "influxd log:\n" + string(bytes.TrimSpace(data))
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, errors.Join(errors.New("finding a free port"), err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
