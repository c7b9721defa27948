package balancer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
)

// RuntimeFor returns how the runtime API of each balancer is reached: on
// a local daemon through its host socket (HostSocket, an LXD proxy
// device), on a remote one (https endpoint) through LXD itself
// (ExecRuntime). This is the one place that chooses; c may be nil for a
// local daemon.
func RuntimeFor(inv *inventory.Inventory, c lxd.Client) Connector {
	if inv.LXD.Remote() && c != nil {
		return func(name string) Runtime {
			rt, err := ExecRuntime(c, name)
			if err != nil {
				return brokenRuntime{err}
			}
			return rt
		}
	}
	return HostSockets(inv)
}

// ExecRuntime is a client of the runtime API of container's HAProxy
// reached through LXD: karana listens on an abstract unix socket of its
// own (no file, gone with the process) that accepts connections from
// this process only (SO_PEERCRED), and pipes each connection through an
// LXD exec into the container's admin socket (lxd.Dial). client-native
// then talks to that socket as to a local one. The listener is made once
// per container and client and lives as long as the process.
func ExecRuntime(c lxd.Client, container string) (*NativeRuntime, error) {
	key := relayKey{c, container}
	relaysMu.Lock()
	defer relaysMu.Unlock()
	r, ok := relays[key]
	if !ok {
		var err error
		if r, err = startRelay(c, container); err != nil {
			return nil, fmt.Errorf("runtime API of %s through LXD: %w", container, err)
		}
		relays[key] = r
	}
	rt := NewRuntime(r.path)
	rt.via, rt.transportErr = "through LXD exec in "+container, r.lastErr
	return rt, nil
}

// relayState is one container's listener and why its last connection
// through LXD failed, which client-native cannot tell (it sees an empty
// answer).
type relayState struct {
	path string
	mu   sync.Mutex
	err  error
}

func (r *relayState) lastErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *relayState) setErr(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

type relayKey struct {
	c         lxd.Client
	container string
}

var (
	relaysMu sync.Mutex
	relays   = map[relayKey]*relayState{}
)

// relayDialTimeout bounds connecting through LXD; client-native's own
// deadline bounds the rest of a command.
const relayDialTimeout = 15 * time.Second

func startRelay(c lxd.Client, container string) (*relayState, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("@karana-%d-%s-%s", os.Getpid(), container, hex.EncodeToString(b))
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: name, Net: "unix"})
	if err != nil {
		return nil, err
	}
	r := &relayState{path: name}
	go func() {
		for {
			conn, err := l.AcceptUnix()
			if err != nil {
				return
			}
			if !fromThisProcess(conn) {
				conn.Close()
				continue
			}
			go r.relay(c, container, conn)
		}
	}()
	return r, nil
}

// fromThisProcess tells whether the peer of conn is this process: an
// abstract socket has no file permissions, so its credentials decide.
func fromThisProcess(conn *net.UnixConn) bool {
	raw, err := conn.SyscallConn()
	if err != nil {
		return false
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil || cerr != nil {
		return false
	}
	return int(cred.Pid) == os.Getpid() && int(cred.Uid) == os.Getuid()
}

func (r *relayState) relay(c lxd.Client, container string, conn *net.UnixConn) {
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), relayDialTimeout)
	far, err := lxd.Dial(ctx, c, container, "unix", ContainerSocket)
	cancel()
	r.setErr(err)
	if err != nil {
		return // client-native sees the connection end without an answer
	}
	defer far.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(far, conn)
		if cw, ok := far.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		close(done)
	}()
	_, _ = io.Copy(conn, far)
	_ = conn.CloseWrite()
	<-done
}

// brokenRuntime answers every call with the error that prevented making
// the real client.
type brokenRuntime struct{ err error }

func (b brokenRuntime) Servers(context.Context) ([]Server, error)              { return nil, b.err }
func (b brokenRuntime) SetState(context.Context, string, string, string) error { return b.err }
func (b brokenRuntime) Info(context.Context) (Info, error)                     { return Info{}, b.err }
func (b brokenRuntime) Command(context.Context, string) (string, error)        { return "", b.err }
