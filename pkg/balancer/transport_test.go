package balancer_test

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/lxd/lxdfake"
)

// hostExec runs Exec's commands on this machine with the container's
// admin socket mapped to a local HAProxy's, so that ExecRuntime's relay
// and the tunnel's Perl pipe run for real without LXD.
type hostExec struct {
	lxd.Client
	socks map[string]string // container -> local admin socket
	fail  error
}

func (h *hostExec) Exec(ctx context.Context, name string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if h.fail != nil {
		return -1, h.fail
	}
	args := append([]string{}, cmd[1:]...)
	if args[len(args)-1] == balancer.ContainerSocket {
		args[len(args)-1] = h.socks[name]
	}
	c := exec.CommandContext(ctx, cmd[0], args...)
	c.Stdout, c.Stderr = stdout, stderr
	in, err := c.StdinPipe()
	if err != nil {
		return -1, err
	}
	if err := c.Start(); err != nil {
		return -1, err
	}
	go func() { io.Copy(in, stdin); in.Close() }()
	if err := c.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), nil
		}
		return -1, err
	}
	return 0, nil
}

func remoteInventory() *inventory.Inventory {
	inv := &inventory.Inventory{}
	inv.LXD.Endpoint = "https://lxd.example.org:8443"
	inv.LXD.Project = "karana-unit"
	return inv
}

func TestRuntimeForRemoteGoesThroughLXD(t *testing.T) {
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
	lb := startLoopback(t, appServer(t))
	h := &hostExec{Client: lxdfake.New(), socks: map[string]string{}}
	h.socks["lb0"] = lb.outer.Socket
	for n, in := range lb.inner {
		h.socks[n] = in.sock
	}
	rt := balancer.RuntimeFor(remoteInventory(), h)
	ctx := context.Background()
	want, err := lb.outer.Servers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rt("lb0").Servers(ctx)
	if err != nil {
		t.Fatalf("lb0 through LXD: %v", err)
	}
	if len(got) != len(want) || len(got) == 0 || got[0].Name != want[0].Name || got[0].Health != want[0].Health {
		t.Errorf("servers through LXD = %+v, want %+v", got, want)
	}
	if err := rt("lb0").SetState(ctx, want[0].Backend, want[0].Name, "drain"); err != nil {
		t.Fatal(err)
	}
	after, _ := lb.outer.Servers(ctx)
	if after[0].Admin != "drain" {
		t.Errorf("SetState through LXD did not reach lb0: %+v", after[0])
	}
	for _, n := range []string{"lb1", "lb2"} {
		if in, err := rt(n).Info(ctx); err != nil || in.Pid == 0 {
			t.Errorf("%s info through LXD: %+v, %v", n, in, err)
		}
	}
}

func TestRuntimeForRemoteSaysWhyLXDFailed(t *testing.T) {
	h := &hostExec{Client: lxdfake.New(), fail: errors.New(`container "lb0" is not running`)}
	_, err := balancer.RuntimeFor(remoteInventory(), h)("lb0").Info(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not running") || !strings.Contains(err.Error(), "through LXD") {
		t.Errorf("err = %v, want the LXD error and how the socket is reached", err)
	}
}

func TestRuntimeForLocalUsesHostSocket(t *testing.T) {
	inv := &inventory.Inventory{}
	inv.LXD.Endpoint, inv.LXD.Project = "unix", "karana-unit"
	rt, ok := balancer.RuntimeFor(inv, lxdfake.New())("lb1").(*balancer.NativeRuntime)
	if !ok || rt.Socket != balancer.HostSocket(inv, "lb1") {
		t.Errorf("local runtime = %+v, want the host socket %s", rt, balancer.HostSocket(inv, "lb1"))
	}
}

// The relay's abstract socket has no file permissions: another process
// that finds its name gets nothing from it.
func TestExecRuntimeRefusesOtherProcesses(t *testing.T) {
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
	lb := startLoopback(t, appServer(t))
	h := &hostExec{Client: lxdfake.New(), socks: map[string]string{"lb0": lb.outer.Socket}}
	rt, err := balancer.ExecRuntime(h, "lb0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Info(context.Background()); err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(rt.Socket, "@")
	out, err := exec.Command("perl", "-e", `use IO::Socket::UNIX; $SIG{PIPE} = "IGNORE"; my $s = IO::Socket::UNIX->new(Peer => "\0".$ARGV[0], Type => SOCK_STREAM) or die "connect: $!\n"; print $s "show info\n"; local $/; my $a = <$s>; print defined $a ? $a : ""`, name).CombinedOutput()
	if err != nil {
		t.Fatalf("connecting from another process: %v: %s", err, out)
	}
	if strings.Contains(string(out), "Pid") {
		t.Errorf("another process read lb0's runtime API through the relay: %s", out)
	}
}
