package balancertest

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Proc is one haproxy in master-worker mode, started from Dir/haproxy.cfg
// by a test, logging to Dir/haproxy.log, stopped when the test ends.
type Proc struct {
	Name string
	Dir  string
	cmd  *exec.Cmd
	log  *os.File
}

// HAProxy is the haproxy binary, or "" when it is not installed.
func HAProxy() string {
	p, err := exec.LookPath("haproxy")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/haproxy"); serr == nil {
			return "/usr/sbin/haproxy"
		}
		return ""
	}
	return p
}

// StartHAProxy starts haproxy on dir/haproxy.cfg and waits for sock (its
// stats socket) to answer.
func StartHAProxy(t testing.TB, name, dir, sock string) *Proc {
	t.Helper()
	bin := HAProxy()
	if bin == "" {
		t.Skip("haproxy is not installed")
	}
	log, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{Name: name, Dir: dir, log: log}
	p.cmd = exec.Command(bin, "-W", "-f", filepath.Join(dir, "haproxy.cfg"))
	p.cmd.Stdout, p.cmd.Stderr = log, log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting haproxy %s: %v", name, err)
	}
	t.Cleanup(p.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("haproxy %s did not open %s: %v\n%s", name, sock, err, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ReloadCmd reloads this haproxy seamlessly, as systemctl reload does.
func (p *Proc) ReloadCmd() []string {
	return []string{"kill", "-USR2", strconv.Itoa(p.cmd.Process.Pid)}
}

// LogCmd prints haproxy's last log lines.
func (p *Proc) LogCmd() []string {
	return []string{"tail", "-n", "20", filepath.Join(p.Dir, "haproxy.log")}
}

// Workers lists the pids of the master's worker processes, old and new.
func (p *Proc) Workers() ([]int, error) {
	master := p.cmd.Process.Pid
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		rest := b[bytes.LastIndexByte(b, ')')+1:]
		f := strings.Fields(string(rest))
		if len(f) > 1 && f[1] == strconv.Itoa(master) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Stop ends haproxy and its workers.
func (p *Proc) Stop() {
	if p.cmd.Process == nil || p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.log.Close()
}

// FreePort returns a loopback TCP port nobody listens on.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
