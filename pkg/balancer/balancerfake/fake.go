// Package balancerfake is lb0 and the inner balancers in memory, for unit
// tests of the logic around balancer.Apply: lb0's servers and admin
// states, each inner balancer's files, worker and live routes, and a log
// of every command, haproxy-ingress style. The real ones are tested in
// pkg/balancer (loopback haproxy) and e2e/reload (LXD).
package balancerfake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/karana-project/karana/pkg/balancer"
)

// Balancers is one lb0 and its inner balancers.
type Balancers struct {
	mu    sync.Mutex
	Outer string
	// Log records every state change, command, stage, check and reload.
	Log     []string
	Servers []balancer.Server // lb0's, one per backend and inner balancer
	Nodes   map[string]*Node
	// OuterNode is lb0's configuration and process (ApplyOuter).
	OuterNode *Node
}

// Node is one inner balancer.
type Node struct {
	b        *Balancers
	name     string
	Files    balancer.Files // live files
	staged   balancer.Files
	prev     balancer.Files
	Pid      int64
	Running  bool  // haproxy runs: its socket answers, lb0 sees it UP
	CheckErr error // what Check returns
	// ReloadErr fails reloads while the staged config holds this text.
	ReloadErr  error
	FailReload string
	// Live is what the runtime API has changed since the last reload
	// (commands that change routes, in order).
	Live []string
	// FailCommand makes the runtime API refuse commands starting with it.
	FailCommand string
}

// New returns lb0 (outer) with inner balancers that run, UP and ready.
func New(outer string, inner ...string) *Balancers {
	b := &Balancers{Outer: outer, Nodes: map[string]*Node{}}
	for _, be := range []string{"be_http", "be_https"} {
		for _, n := range inner {
			b.Servers = append(b.Servers, balancer.Server{Backend: be, Name: n, Admin: "ready", Health: "up", Status: "UP"})
		}
	}
	for i, n := range inner {
		b.Nodes[n] = &Node{b: b, name: n, Files: balancer.Files{}, Pid: int64(100 + 10*i), Running: true}
	}
	b.OuterNode = &Node{b: b, name: outer, Files: balancer.Files{}, Pid: 1, Running: true}
	return b
}

// Stop makes inner balancer name down: no haproxy, lb0 sees it DOWN.
func (b *Balancers) Stop(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Nodes[name].Running = false
	b.setHealth(name, "down")
}

func (b *Balancers) setHealth(name, h string) {
	for i := range b.Servers {
		if b.Servers[i].Name == name {
			b.Servers[i].Health = h
			b.Servers[i].Status = strings.ToUpper(h)
		}
	}
}

func (b *Balancers) log(format string, args ...any) {
	b.Log = append(b.Log, fmt.Sprintf(format, args...))
}

// Logged returns the log so far.
func (b *Balancers) Logged() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.Log)
}

// Connector returns runtime clients of lb0 and the inner balancers.
func (b *Balancers) Connector() balancer.Connector {
	return func(name string) balancer.Runtime { return runtime{b, name} }
}

// Target returns balancer name (lb0 or an inner one) as a balancer.Target.
func (b *Balancers) Target(name string) balancer.Target {
	if name == b.Outer {
		return b.OuterNode
	}
	return b.Nodes[name]
}

type runtime struct {
	b    *Balancers
	name string
}

var errNoSocket = errors.New("dial unix: connect: no such file or directory")

func (r runtime) Servers(context.Context) ([]balancer.Server, error) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	if r.name != r.b.Outer {
		return nil, nil
	}
	return slices.Clone(r.b.Servers), nil
}

func (r runtime) SetState(_ context.Context, backend, server, state string) error {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.b.log("%s: set server %s/%s state %s", r.name, backend, server, state)
	for i := range r.b.Servers {
		if s := &r.b.Servers[i]; s.Backend == backend && s.Name == server {
			s.Admin = state
			return nil
		}
	}
	return errors.New("No such server.")
}

func (r runtime) Info(context.Context) (balancer.Info, error) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	if r.name == r.b.Outer {
		return balancer.Info{Pid: 1}, nil
	}
	n := r.b.Nodes[r.name]
	if n == nil || !n.Running {
		return balancer.Info{}, errNoSocket
	}
	return balancer.Info{Pid: n.Pid}, nil
}

// Command answers as HAProxy 2.6 does for the commands karana sends.
func (r runtime) Command(_ context.Context, cmd string) (string, error) {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	n := r.b.Nodes[r.name]
	if n == nil || !n.Running {
		return "", errNoSocket
	}
	head, _, _ := strings.Cut(cmd, " <<")
	if strings.HasPrefix(head, "show ") {
		return n.show(head), nil
	}
	r.b.log("%s: %s", r.name, head)
	if n.FailCommand != "" && strings.HasPrefix(head, n.FailCommand) {
		return "Refused by the fake.\n", nil
	}
	n.Live = append(n.Live, head)
	for prefix, answer := range map[string]string{
		"add server": "New server registered.\n", "del server": "Server deleted.\n",
		"new ssl cert": "New empty certificate store 'x'!\n", "set ssl cert": "Transaction created for certificate x!\n",
		"commit ssl cert": "Committing x\nSuccess!\n", "add ssl crt-list": "Inserting certificate\nSuccess!\n",
		"del ssl crt-list": "Entry 'x' deleted in crtlist 'y'!\n", "del ssl cert": "Certificate 'x' deleted!\n",
	} {
		if strings.HasPrefix(head, prefix) {
			return answer, nil
		}
	}
	return "\n", nil
}

// show answers the show commands from the live files and the commands
// since: enough for UpdateCert's questions.
func (n *Node) show(head string) string {
	certs := map[string]bool{}
	list := map[string]bool{}
	for p := range n.Files {
		if i := strings.Index(p, "/karana/certs/"); i >= 0 {
			certs[p[i+1:]] = true
			list[p[i+1:]] = true
		}
	}
	for _, c := range n.Live {
		f := strings.Fields(c)
		switch {
		case strings.HasPrefix(c, "new ssl cert "):
			certs[f[3]] = true
		case strings.HasPrefix(c, "del ssl cert "):
			delete(certs, f[3])
		case strings.HasPrefix(c, "add ssl crt-list "):
			// the payload's certificate is not in head: count the store
			for k := range certs {
				list[k] = true
			}
		case strings.HasPrefix(c, "del ssl crt-list "):
			delete(list, f[4])
		}
	}
	var out []string
	switch {
	case head == "show ssl cert":
		out = append(out, "# filename")
		out = append(out, sorted(certs)...)
	case strings.HasPrefix(head, "show ssl crt-list "):
		out = append(out, "# "+strings.TrimPrefix(head, "show ssl crt-list "))
		out = append(out, sorted(list)...)
	}
	return strings.Join(out, "\n") + "\n"
}

func sorted(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Name implements balancer.Target.
func (n *Node) Name() string { return n.name }

// Sums implements balancer.Target.
func (n *Node) Sums(context.Context) (balancer.Sums, error) {
	n.b.mu.Lock()
	defer n.b.mu.Unlock()
	return n.Files.Sums(), nil
}

// Read implements balancer.Target.
func (n *Node) Read(_ context.Context, p string) ([]byte, error) {
	n.b.mu.Lock()
	defer n.b.mu.Unlock()
	b, ok := n.Files[p]
	if !ok {
		return nil, fmt.Errorf("%s: %s: not found", n.name, p)
	}
	return b, nil
}

// Prepare implements balancer.Target.
func (n *Node) Prepare(_ context.Context, fs balancer.Files, _ balancer.Sums) error {
	n.b.mu.Lock()
	defer n.b.mu.Unlock()
	n.b.log("%s: stage", n.name)
	n.staged = fs
	return nil
}

// Check implements balancer.Target.
func (n *Node) Check(context.Context) error {
	n.b.mu.Lock()
	defer n.b.mu.Unlock()
	n.b.log("%s: haproxy -c", n.name)
	return n.CheckErr
}

// Commit implements balancer.Target.
func (n *Node) Commit(context.Context) error {
	n.b.mu.Lock()
	defer n.b.mu.Unlock()
	if n.staged == nil {
		return errors.New(n.name + ": nothing staged")
	}
	n.b.log("%s: commit", n.name)
	n.prev, n.Files, n.staged = n.Files, n.staged, nil
	return nil
}

// Restore implements balancer.Target.
func (n *Node) Restore(context.Context) error {
	n.b.mu.Lock()
	defer n.b.mu.Unlock()
	n.b.log("%s: restore", n.name)
	n.Files = n.prev
	return nil
}

// Reload implements balancer.Target: a new worker, seen UP by lb0, the
// live changes folded into the files it loaded.
func (n *Node) Reload(context.Context) error {
	n.b.mu.Lock()
	defer n.b.mu.Unlock()
	n.b.log("%s: reload", n.name)
	if n.ReloadErr != nil {
		for _, b := range n.Files {
			if n.FailReload == "" || strings.Contains(string(b), n.FailReload) {
				return n.ReloadErr
			}
		}
	}
	n.Pid++
	n.Running = true
	n.Live = nil
	n.b.setHealth(n.name, "up")
	return nil
}

// Log implements balancer.Target.
func (n *Node) Log(context.Context) string { return "" }

// Active implements balancer.ActiveTarget.
func (n *Node) Active(context.Context) (bool, error) {
	n.b.mu.Lock()
	defer n.b.mu.Unlock()
	return n.Running, nil
}
