package balancer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/karana-project/karana/pkg/render"
)

// The runtime API commands behind a livePlan. Each op takes a context
// through the closure built by runOps.

func srvID(name string) string { return render.TenantsBackend + "/" + name }

func addServerOp(name, line string) liveOp {
	return liveOp{
		what: "add server " + srvID(name),
		do: func(rt Runtime) error {
			ctx := context.Background()
			if _, err := command(ctx, rt, "add server "+srvID(name)+" "+line, "New server registered"); err != nil {
				return err
			}
			if strings.Contains(" "+line+" ", " check ") {
				if _, err := command(ctx, rt, "enable health "+srvID(name), ""); err != nil {
					return err
				}
				// The service answered karana's own check before its route
				// is added: start it UP rather than after `rise` checks
				// (up to 10 s of 503); its checks take it down if it fails.
				if _, err := command(ctx, rt, "set server "+srvID(name)+" health up", ""); err != nil {
					return err
				}
			}
			_, err := command(ctx, rt, "set server "+srvID(name)+" state ready", "")
			return err
		},
		undo: func(rt Runtime) error { return deleteServer(rt, name) },
	}
}

func delServerOp(name, line string) liveOp {
	op := addServerOp(name, line)
	return liveOp{what: "del server " + srvID(name), do: op.undo, undo: op.do}
}

// deleteServer takes a tenant server out: maintenance, its sessions shut,
// then deleted. HAProxy refuses while connections are still attached, so
// that is retried for a few seconds.
func deleteServer(rt Runtime, name string) error {
	ctx := context.Background()
	if _, err := command(ctx, rt, "set server "+srvID(name)+" state maint", ""); err != nil {
		var re *RuntimeError
		if errors.As(err, &re) && strings.Contains(re.Answer, "No such server") {
			return nil
		}
		return err
	}
	_, _ = rt.Command(ctx, "shutdown sessions server "+srvID(name))
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := command(ctx, rt, "del server "+srvID(name), "Server deleted")
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func certOp(path string, pem []byte, sni []string, existed bool, old func(string) ([]byte, error)) liveOp {
	var prev []byte
	return liveOp{
		what: "set ssl cert " + path,
		do: func(rt Runtime) error {
			if existed {
				b, err := old(path)
				if err != nil {
					return err
				}
				prev = b
			}
			return UpdateCert(context.Background(), rt, path, pem, sni...)
		},
		undo: func(rt Runtime) error {
			if prev != nil {
				return UpdateCert(context.Background(), rt, path, prev, sni...)
			}
			return RemoveCert(context.Background(), rt, path)
		},
	}
}

func delCertOp(path string, sni []string, old func(string) ([]byte, error)) liveOp {
	var prev []byte
	return liveOp{
		what: "del ssl cert " + path,
		do: func(rt Runtime) error {
			b, err := old(path)
			if err != nil {
				return err
			}
			prev = b
			return RemoveCert(context.Background(), rt, path)
		},
		undo: func(rt Runtime) error {
			return UpdateCert(context.Background(), rt, path, prev, sni...)
		},
	}
}

func mapOp(host, server, had string, existed bool) liveOp {
	set := func(rt Runtime, v string) error {
		_, err := command(context.Background(), rt, "set map "+render.MapFile+" "+host+" "+v, "")
		return err
	}
	if existed {
		return liveOp{what: "set map " + host,
			do: func(rt Runtime) error { return set(rt, server) }, undo: func(rt Runtime) error { return set(rt, had) }}
	}
	op := delMapOp(host, server)
	return liveOp{what: "add map " + host, do: op.undo, undo: op.do}
}

func delMapOp(host, server string) liveOp {
	return liveOp{
		what: "del map " + host,
		do: func(rt Runtime) error {
			_, err := command(context.Background(), rt, "del map "+render.MapFile+" "+host, "")
			return err
		},
		undo: func(rt Runtime) error {
			_, err := command(context.Background(), rt, "add map "+render.MapFile+" "+host+" "+server, "")
			return err
		},
	}
}

// runOps applies ops in order; when one fails, the ones done are undone
// in reverse, so the balancer serves what it served. The error names the
// op, and says whether the undo was complete.
func runOps(ctx context.Context, name string, rt Runtime, ops []liveOp) (int, error) {
	for i, op := range ops {
		err := ctx.Err()
		if err == nil {
			err = op.do(rt)
		}
		if err == nil {
			continue
		}
		err = fmt.Errorf("%s: %s: %w", name, op.what, err)
		var undoErrs []error
		for j := i - 1; j >= 0; j-- {
			if uerr := ops[j].undo(rt); uerr != nil {
				undoErrs = append(undoErrs, fmt.Errorf("undoing %s: %w", ops[j].what, uerr))
			}
		}
		if len(undoErrs) > 0 {
			return i, &LiveUndoError{Balancer: name, Err: errors.Join(append([]error{err}, undoErrs...)...)}
		}
		return i, err
	}
	return len(ops), nil
}

// LiveUndoError is a live change that failed and could not be fully
// undone: the balancer's running state matches neither the old nor the
// new files. `karana balancer reload --force` reloads it from its files.
type LiveUndoError struct {
	Balancer string
	Err      error
}

func (e *LiveUndoError) Error() string {
	return fmt.Sprintf("%v\n%s: the live state no longer matches its files; `karana balancer reload --force` reloads it from them", e.Err, e.Balancer)
}

func (e *LiveUndoError) Unwrap() error { return e.Err }

// MarkUp tells inner balancer rt that the tenant servers named (their
// containers) answer: karana has just checked them itself. A server that
// a reload started, or that failed its checks while its container booted,
// would otherwise stay DOWN for `rise` checks (up to 10 s), on one inner
// balancer and not the other. Servers the balancer does not have are
// skipped; the commands go in one request.
func MarkUp(ctx context.Context, rt Runtime, servers []string) error {
	if len(servers) == 0 {
		return nil
	}
	cmds := make([]string, len(servers))
	for i, s := range servers {
		cmds[i] = "set server " + srvID(s) + " health up"
	}
	_, err := rt.Command(ctx, strings.Join(cmds, ";"))
	return err
}
