package lxd_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

// hostExec runs Exec's commands on this machine, so that the tunnel's
// Perl pipe is tested for real without LXD.
type hostExec struct {
	lxd.Client
	ran []string
}

func (h *hostExec) Exec(ctx context.Context, name string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	h.ran = append(h.ran, name+": "+cmd[0])
	c := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	c.Stdout, c.Stderr = stdout, stderr
	// LXD ends an exec when the process exits, whatever its stdin does;
	// os/exec would wait for its copy of stdin, so it is copied here.
	in, err := c.StdinPipe()
	if err != nil {
		return -1, err
	}
	if err := c.Start(); err != nil {
		return -1, err
	}
	go func() { io.Copy(in, stdin); in.Close() }()
	err = c.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

func needPerl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
}

// upper answers each line with the line in upper case, and says "bye"
// when the client half-closes.
func upper(t *testing.T, l net.Listener) {
	t.Helper()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					io.WriteString(c, strings.ToUpper(sc.Text())+"\n")
				}
				io.WriteString(c, "bye\n")
			}()
		}
	}()
}

func TestDialPipesBothWaysAndPassesHalfClose(t *testing.T) {
	needPerl(t)
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	sock := filepath.Join(t.TempDir(), "s.sock")
	unix, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close()
	upper(t, tcp)
	upper(t, unix)
	h := &hostExec{Client: lxdfake.New()}
	for _, tc := range []struct{ network, addr string }{{"tcp", tcp.Addr().String()}, {"unix", sock}} {
		t.Run(tc.network, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := lxd.Dial(ctx, h, "lb0", tc.network, tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, "show info\nsecond\n")
			c.(interface{ CloseWrite() error }).CloseWrite()
			got, err := io.ReadAll(c)
			if err != nil || string(got) != "SHOW INFO\nSECOND\nbye\n" {
				t.Errorf("read %q, %v", got, err)
			}
		})
	}
	if len(h.ran) != 2 || h.ran[0] != "lb0: perl" {
		t.Errorf("ran %q, want perl in lb0 twice", h.ran)
	}
}

func TestDialRefusedNamesAddressAndContainer(t *testing.T) {
	needPerl(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = lxd.Dial(ctx, &hostExec{Client: lxdfake.New()}, "lb0", "tcp", addr)
	if !errors.Is(err, lxd.ErrTunnel) || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "lb0") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("err = %v, want ErrTunnel naming %s, lb0 and the refusal", err, addr)
	}
}

func TestDialerFromDefaultsToTheNetwork(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := lxd.DialerFrom(context.Background())(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	called := false
	ctx := lxd.WithDialer(context.Background(), func(context.Context, string, string) (net.Conn, error) {
		called = true
		return nil, errors.New("through the test")
	})
	if _, err := lxd.DialerFrom(ctx)(ctx, "tcp", "10.0.0.1:80"); err == nil || !called {
		t.Errorf("WithDialer's dialer not used: %v", err)
	}
}
