package lxd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
)

// tunnelScript connects to a TCP address or a unix socket from inside a
// container and pipes stdin and stdout through it. It needs only Perl's
// core modules, which Debian's perl-base (an essential package, in every
// Debian image) carries: the balancer image needs nothing extra. It
// prints one "+" once connected, so Dial can tell a refused connection
// from an answer; a half-close of stdin is passed on as a shutdown.
const tunnelScript = `use strict; use IO::Socket::UNIX; use IO::Socket::INET; use IO::Select;
my ($kind, $addr) = @ARGV;
my $s = $kind eq "unix" ? IO::Socket::UNIX->new(Peer => $addr, Type => SOCK_STREAM)
  : IO::Socket::INET->new(PeerAddr => $addr, Proto => "tcp", Timeout => 5);
die "connecting to $addr: $!\n" unless $s;
$SIG{PIPE} = "IGNORE"; binmode STDIN; binmode STDOUT;
sub put { my ($fh, $b) = @_; while (length $b) { my $n = syswrite($fh, $b); exit 0 unless $n; substr($b, 0, $n) = "" } }
put(\*STDOUT, "+");
my $sel = IO::Select->new(\*STDIN, $s);
while (my @r = $sel->can_read) {
  for my $h (@r) {
    my $n = sysread($h, my $b, 65536);
    if ($h == $s) { exit 0 unless $n; put(\*STDOUT, $b); next }
    if (!$n) { $sel->remove(\*STDIN); shutdown($s, 1); next }
    put($s, $b);
  }
}`

// ErrTunnel is wrapped by Dial's errors: the container could not connect.
var ErrTunnel = errors.New("no connection through LXD")

// Dial connects to addr ("host:port" for network "tcp", a path for
// "unix") from inside container, through an LXD exec of a small Perl
// pipe: the connection goes wherever the container can reach, and the
// machine running karana needs to reach only the LXD API. ctx bounds the
// connecting; the connection lives until closed.
func Dial(ctx context.Context, c Client, container, network, addr string) (net.Conn, error) {
	kind := "tcp"
	if network == "unix" {
		kind = "unix"
	} else if !strings.HasPrefix(network, "tcp") {
		return nil, fmt.Errorf("dialing %s %s through %s: unsupported network", network, addr, container)
	}
	ectx, cancel := context.WithCancel(context.Background())
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	tc := &tunnelConn{in: inW, out: outR, cancel: cancel, local: tunnelAddr(container), remote: tunnelAddr(addr)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		code, err := c.Exec(ectx, container, []string{"perl", "-e", tunnelScript, kind, addr}, inR, outW, &lockedBuilder{b: &stderr, mu: &tc.mu})
		if err == nil && code != 0 {
			err = fmt.Errorf("exit %d", code)
		}
		outW.CloseWithError(errOrEOF(err))
		inR.Close()
	}()
	ack := make(chan error, 1)
	go func() {
		b := make([]byte, 1)
		_, err := io.ReadFull(outR, b)
		if err == nil && b[0] != '+' {
			err = fmt.Errorf("unexpected first byte %q", b[0])
		}
		ack <- err
	}()
	fail := func(err error) (net.Conn, error) {
		tc.Close()
		<-done
		tc.mu.Lock()
		msg := strings.TrimSpace(stderr.String())
		tc.mu.Unlock()
		if msg != "" {
			err = fmt.Errorf("%s", msg)
		}
		return nil, fmt.Errorf("%w: %s %s from container %s: %v", ErrTunnel, network, addr, container, err)
	}
	select {
	case err := <-ack:
		if err != nil {
			return fail(err)
		}
		return tc, nil
	case <-ctx.Done():
		return fail(ctx.Err())
	}
}

func errOrEOF(err error) error {
	if err == nil {
		return io.EOF
	}
	return err
}

type lockedBuilder struct {
	b  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 4096 {
		l.b.Write(p)
	}
	return len(p), nil
}

// tunnelConn is one Dial'ed connection: writes go to the exec's stdin,
// reads come from its stdout.
type tunnelConn struct {
	in            *io.PipeWriter
	out           *io.PipeReader
	cancel        context.CancelFunc
	local, remote net.Addr

	mu     sync.Mutex
	closed bool
	timer  *time.Timer
}

func (t *tunnelConn) Read(p []byte) (int, error)  { return t.out.Read(p) }
func (t *tunnelConn) Write(p []byte) (int, error) { return t.in.Write(p) }

// CloseWrite half-closes the connection: the far end sees end of input.
func (t *tunnelConn) CloseWrite() error { return t.in.Close() }

func (t *tunnelConn) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	if t.timer != nil {
		t.timer.Stop()
	}
	t.mu.Unlock()
	t.in.Close()
	t.out.CloseWithError(net.ErrClosed)
	t.cancel()
	return nil
}

func (t *tunnelConn) LocalAddr() net.Addr  { return t.local }
func (t *tunnelConn) RemoteAddr() net.Addr { return t.remote }

// SetDeadline closes the connection when d passes: pipes have no
// deadlines, and every user of a tunnel treats a missed deadline as the
// end of the connection anyway.
func (t *tunnelConn) SetDeadline(d time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	if d.IsZero() || t.closed {
		return nil
	}
	t.timer = time.AfterFunc(time.Until(d), func() { t.Close() })
	return nil
}
func (t *tunnelConn) SetReadDeadline(d time.Time) error  { return t.SetDeadline(d) }
func (t *tunnelConn) SetWriteDeadline(d time.Time) error { return t.SetDeadline(d) }

type tunnelAddr string

func (a tunnelAddr) Network() string { return "lxd-exec" }
func (a tunnelAddr) String() string  { return string(a) }

// Dialer opens connections the way the machine running karana reaches
// the back end's containers.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// Through is the Dialer that connects from inside container.
func Through(c Client, container string) Dialer {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return Dial(ctx, c, container, network, addr)
	}
}

type dialerKey struct{}

// WithDialer returns ctx carrying d: health checks made with ctx
// (pkg/provision) connect through it.
func WithDialer(ctx context.Context, d Dialer) context.Context {
	return context.WithValue(ctx, dialerKey{}, d)
}

// Tunneled tells whether ctx carries a Dialer (WithDialer).
func Tunneled(ctx context.Context) bool {
	d, ok := ctx.Value(dialerKey{}).(Dialer)
	return ok && d != nil
}

// DialerFrom is the Dialer ctx carries, else a plain network dialer.
func DialerFrom(ctx context.Context) Dialer {
	if d, ok := ctx.Value(dialerKey{}).(Dialer); ok && d != nil {
		return d
	}
	return (&net.Dialer{Timeout: 3 * time.Second}).DialContext
}

// NetworkContext returns ctx with the Dialer health checks use to reach
// the back end's containers: for a remote daemon (an https endpoint) they
// connect from inside via, the outer balancer, which sits on the bridge
// and reaches every container the inner balancers route to; for a local
// daemon ctx is returned as it is (the host is on the bridge).
func NetworkContext(ctx context.Context, inv *inventory.Inventory, c Client) context.Context {
	if c == nil || !inv.LXD.Remote() {
		return ctx
	}
	return WithDialer(ctx, Through(c, inv.Balancers.Outer.Name))
}
