package balancer

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/haproxytech/client-native/v5/runtime"

	"github.com/haproxytech/client-native/v5/runtime/options"
	"github.com/karana-project/karana/pkg/inventory"
)

// Runtime is the part of HAProxy's runtime API the rolling reload needs. It
// is consumed here so that the drain logic is tested with a recorder; the
// real one speaks to a stats socket through client-native.
type Runtime interface {
	// Servers lists every server of every backend with its state.
	Servers(ctx context.Context) ([]Server, error)
	// SetState sets a server's admin state: "ready", "drain" or "maint".
	SetState(ctx context.Context, backend, server, state string) error
	// Info describes the process answering the socket.
	Info(ctx context.Context) (Info, error)
	// Command sends one runtime API command (a payload after "<<\n"
	// included) and returns HAProxy's answer as it is: the runtime API
	// answers errors in plain text, so callers check the answer.
	Command(ctx context.Context, cmd string) (string, error)
}

// Connector turns a balancer's name into its runtime API client. It is
// the one place that knows how a runtime API is reached: RuntimeFor picks
// HostSockets (the LXD proxy devices' host sockets) for a local daemon and
// ExecRuntime (through LXD exec) for a remote one, unless a caller swaps it.
type Connector func(name string) Runtime

// HostSockets is the Connector of inv's balancers through their host
// sockets in HostSocketDir.
func HostSockets(inv *inventory.Inventory) Connector {
	return func(name string) Runtime { return NewRuntime(HostSocket(inv, name)) }
}

// Server is one backend server as HAProxy sees it.
type Server struct {
	Backend  string `json:"backend"`
	Name     string `json:"name"`
	Admin    string `json:"admin"`  // ready, drain, maint
	Health   string `json:"health"` // up, down, stopping
	Status   string `json:"status"` // HAProxy's own word: UP, DOWN, DRAIN, MAINT, ...
	Check    string `json:"check,omitempty"`
	Sessions int64  `json:"sessions"`
	Queue    int64  `json:"queue"`
}

// Up reports whether the server passes its health checks.
func (s Server) Up() bool { return s.Health == "up" }

// Info is what `show info` says about the answering worker.
type Info struct {
	Pid     int64  `json:"pid"`
	Uptime  int64  `json:"uptime_seconds"`
	Version string `json:"version"`
}

// NativeRuntime is a Runtime over client-native's runtime client, on one
// stats socket (a worker's, not the master's).
type NativeRuntime struct {
	Socket string
	rt     runtime.SingleRuntime
	// via and transportErr, for a socket relayed through LXD
	// (ExecRuntime), say how the socket is reached and why the last
	// connection failed.
	via          string
	transportErr func() error
}

// where names the socket in errors.
func (r *NativeRuntime) where() string {
	if r.via != "" {
		return r.Socket + " (" + r.via + ")"
	}
	return r.Socket
}

// explain adds the transport's own error, when there is one, to what
// client-native said.
func (r *NativeRuntime) explain(msg string) string {
	if r.transportErr != nil {
		if err := r.transportErr(); err != nil {
			return msg + ": " + err.Error()
		}
	}
	return msg
}

// NewRuntime returns a client of the stats socket at path. It does not
// connect until used.
func NewRuntime(path string) *NativeRuntime {
	r := &NativeRuntime{Socket: path}
	// With DoNotCheckRuntimeOnInit, Init only records the path.
	_ = r.rt.Init(path, 0, 0, options.RuntimeOptions{DoNotCheckRuntimeOnInit: true})
	return r
}

// Servers implements Runtime.
func (r *NativeRuntime) Servers(ctx context.Context) ([]Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	stats := r.rt.GetStats()
	if stats.Error != "" {
		return nil, fmt.Errorf("reading stats from %s: %s", r.where(), r.explain(stats.Error))
	}
	var out []Server
	backends := map[string]bool{}
	for _, st := range stats.Stats {
		if st.Type != "server" || st.Stats == nil {
			continue
		}
		s := Server{Backend: st.BackendName, Name: st.Name, Status: st.Stats.Status, Check: st.Stats.CheckStatus}
		if st.Stats.Scur != nil {
			s.Sessions = *st.Stats.Scur
		}
		if st.Stats.Qcur != nil {
			s.Queue = *st.Stats.Qcur
		}
		out = append(out, s)
		backends[s.Backend] = true
	}
	for be := range backends {
		states, err := r.rt.GetServersState(be)
		if err != nil {
			return nil, fmt.Errorf("reading server states of backend %s from %s: %w%s", be, r.where(), err, r.explain(""))
		}
		for _, rs := range states {
			if rs == nil {
				continue
			}
			for i := range out {
				if out[i].Backend == be && out[i].Name == rs.Name {
					out[i].Admin, out[i].Health = rs.AdminState, rs.OperationalState
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Backend != out[j].Backend {
			return out[i].Backend < out[j].Backend
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// SetState implements Runtime.
func (r *NativeRuntime) SetState(ctx context.Context, backend, server, state string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.rt.SetServerState(backend, server, state); err != nil {
		return fmt.Errorf("set server %s/%s state %s on %s: %w%s", backend, server, state, r.where(), err, r.explain(""))
	}
	return nil
}

// Info implements Runtime.
func (r *NativeRuntime) Info(ctx context.Context) (Info, error) {
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	pi := r.rt.GetInfo()
	if pi.Error != "" {
		return Info{}, fmt.Errorf("show info on %s: %s", r.where(), r.explain(pi.Error))
	}
	if pi.Info == nil || pi.Info.Pid == nil {
		return Info{}, errors.New("show info on " + r.where() + ": " + r.explain("no pid in the answer"))
	}
	in := Info{Pid: *pi.Info.Pid, Version: pi.Info.Version}
	if pi.Info.Uptime != nil {
		in.Uptime = *pi.Info.Uptime
	}
	return in, nil
}

// Command implements Runtime.
func (r *NativeRuntime) Command(ctx context.Context, cmd string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	out, err := r.rt.ExecuteRaw(cmd)
	if err != nil {
		return "", fmt.Errorf("runtime API of %s: %w%s", r.where(), err, r.explain(""))
	}
	if out == "" && r.transportErr != nil {
		// A relay that could not reach the container answers nothing.
		if terr := r.transportErr(); terr != nil {
			return "", fmt.Errorf("runtime API of %s: %w", r.where(), terr)
		}
	}
	return out, nil
}
