package balancer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// recorder is a Runtime that keeps lb0's servers in memory and records
// every command sent, haproxy-ingress style.
type recorder struct {
	mu      sync.Mutex
	servers []Server
	sent    *[]string
	// drainTicks: a drained server's sessions drop by one per Servers call.
	drainTicks bool
	pids       map[string]int64 // inner worker pids, bumped by a fake reload
}

func newRecorder(log *[]string, backends []string, names ...string) *recorder {
	r := &recorder{sent: log, pids: map[string]int64{}, drainTicks: true}
	for _, be := range backends {
		for _, n := range names {
			r.servers = append(r.servers, Server{Backend: be, Name: n, Admin: "ready", Health: "up", Status: "UP", Sessions: 3})
		}
	}
	for i, n := range names {
		r.pids[n] = int64(100 + i)
	}
	return r
}

func (r *recorder) Servers(context.Context) ([]Server, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.servers {
		if r.servers[i].Admin == "drain" && r.drainTicks && r.servers[i].Sessions > 0 {
			r.servers[i].Sessions--
		}
	}
	return append([]Server(nil), r.servers...), nil
}

func (r *recorder) SetState(_ context.Context, backend, server, state string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.sent = append(*r.sent, fmt.Sprintf("set server %s/%s state %s", backend, server, state))
	for i := range r.servers {
		if r.servers[i].Backend == backend && r.servers[i].Name == server {
			r.servers[i].Admin = state
			return nil
		}
	}
	return errors.New("No such server.")
}

func (r *recorder) Info(context.Context) (Info, error) { return Info{Pid: 1}, nil }

func (r *recorder) set(name string, f func(*Server)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.servers {
		if r.servers[i].Name == name {
			f(&r.servers[i])
		}
	}
}

// innerRT is an inner balancer's socket: its pid changes on reload.
type innerRT struct {
	r    *recorder
	name string
}

func (i innerRT) Servers(context.Context) ([]Server, error)              { return nil, nil }
func (i innerRT) SetState(context.Context, string, string, string) error { return nil }
func (i innerRT) Info(context.Context) (Info, error) {
	i.r.mu.Lock()
	defer i.r.mu.Unlock()
	return Info{Pid: i.r.pids[i.name]}, nil
}

// fakeTarget is a Target in memory that logs what is done to it.
type fakeTarget struct {
	name                string
	cur, staged, prev   Files
	stageErr, reloadErr error
	log                 *[]string
	rt                  *recorder
	onReload            func()
	onCheck             func()
}

func (f *fakeTarget) Name() string { return f.name }
func (f *fakeTarget) Sums(context.Context) (Sums, error) {
	return f.cur.Sums(), nil
}
func (f *fakeTarget) Read(_ context.Context, p string) ([]byte, error) {
	b, ok := f.cur[p]
	if !ok {
		return nil, errors.New(p + ": not found")
	}
	return b, nil
}
func (f *fakeTarget) Prepare(_ context.Context, fs Files, _ Sums) error {
	*f.log = append(*f.log, f.name+": stage")
	f.staged = fs
	return nil
}
func (f *fakeTarget) Check(context.Context) error {
	if f.onCheck != nil {
		f.onCheck()
	}
	return f.stageErr
}
func (f *fakeTarget) Commit(context.Context) error {
	*f.log = append(*f.log, f.name+": commit")
	f.prev, f.cur = f.cur, f.staged
	return nil
}
func (f *fakeTarget) Restore(context.Context) error {
	*f.log = append(*f.log, f.name+": restore")
	f.cur = f.prev
	return nil
}
func (f *fakeTarget) Reload(context.Context) error {
	*f.log = append(*f.log, f.name+": reload")
	if f.reloadErr != nil && !strings.Contains(string(f.cur["/cfg"]), "old") {
		return f.reloadErr
	}
	f.rt.mu.Lock()
	f.rt.pids[f.name] += 10
	f.rt.mu.Unlock()
	if f.onReload != nil {
		f.onReload()
	}
	return nil
}
func (f *fakeTarget) Log(context.Context) string { return "" }

func (r *recorder) Command(_ context.Context, cmd string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*r.sent = append(*r.sent, cmd)
	return "", nil
}

func (i innerRT) Command(context.Context, string) (string, error) { return "", nil }
