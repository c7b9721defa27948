package balancer

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/render"
)

// configDir is the folder of the haproxy.cfg among files.
func configDir(files Files) (string, bool) {
	for p := range files {
		if path.Base(p) == cfgName {
			return path.Dir(p), true
		}
	}
	return "", false
}

// planLive says how balancer t goes from its files (have) to want through
// its runtime API, or why it cannot (plan.reason). Every certificate the
// plan loads is checked here, before any balancer is changed.
func (r *Roll) planLive(ctx context.Context, t Target, want Files, have Sums) (*livePlan, error) {
	name := t.Name()
	rt := r.Inner[name]
	if rt == nil {
		return &livePlan{reason: "no runtime API for it"}, nil
	}
	if _, err := rt.Info(ctx); err != nil {
		return &livePlan{reason: "its runtime API does not answer"}, nil
	}
	dir, ok := configDir(want)
	if !ok {
		return nil, fmt.Errorf("%s: the new files have no %s", name, cfgName)
	}
	read := func(rel string) ([]byte, error) {
		p := path.Join(dir, rel)
		if _, ok := have[p]; !ok {
			return nil, nil
		}
		return t.Read(ctx, p)
	}
	var cur [3][]byte
	for i, rel := range []string{cfgName, render.MapFile, render.CrtList} {
		b, err := read(rel)
		if err != nil {
			return nil, err
		}
		cur[i] = b
	}
	if cur[0] == nil {
		return &livePlan{reason: "it has no configuration yet"}, nil
	}
	curR, err := parseRoutes(dir, cur[0], cur[1], cur[2], have)
	if err != nil {
		return &livePlan{reason: "its haproxy.cfg is not karana's: " + err.Error()}, nil
	}
	wantR, err := parseRoutes(dir, want[path.Join(dir, cfgName)], want[path.Join(dir, render.MapFile)], want[path.Join(dir, render.CrtList)], want.Sums())
	if err != nil {
		return nil, err
	}
	pems := func(c string) []byte { return want[path.Join(dir, c)] }
	old := func(c string) ([]byte, error) { return t.Read(context.WithoutCancel(ctx), path.Join(dir, c)) }
	plan := planLive(curR, wantR, pems, old)
	for _, c := range plan.certs {
		if err := CheckPEM(pems(c)); err != nil {
			return nil, fmt.Errorf("%w: %s: certificate %s: %w", ErrRefused, name, c, err)
		}
	}
	return plan, nil
}

// applyLive changes balancer t through its runtime API and then puts the
// same files in place, so that a reload or restart loads what runs. The
// files are staged first; if a command fails, the commands done are undone
// and the files stay as they were; if the files cannot be put in place,
// the commands are undone too. Either way live state and files agree.
func (r *Roll) applyLive(ctx context.Context, t Target, br *BalancerReport) error {
	name := t.Name()
	st := r.state[name]
	start := time.Now()
	defer func() { br.Seconds = time.Since(start).Seconds() }()
	want := r.Files[name]
	r.start("%s: staging the new files", name)
	if err := t.Prepare(ctx, want, st.have); err != nil {
		r.fail(err)
		br.Action = ActionFailed
		return err
	}
	r.end("")
	r.start("%s: changing routes live (%d runtime API command groups)", name, len(st.plan.ops))
	rt := r.Inner[name]
	n, err := runOps(ctx, name, rt, st.plan.ops)
	if err != nil {
		r.fail(err)
		br.Action = ActionFailed
		var ue *LiveUndoError
		if !errors.As(err, &ue) {
			br.Action = ActionUnchanged
			return fmt.Errorf("%w (undone: %s serves what it served)", err, name)
		}
		return err
	}
	r.end("")
	r.start("%s: putting the same files in place", name)
	if err := t.Commit(ctx); err != nil {
		r.fail(err)
		errs := []error{err}
		if rerr := t.Restore(context.WithoutCancel(ctx)); rerr != nil && !errors.Is(rerr, lxd.ErrNotFound) {
			errs = append(errs, rerr)
		}
		if _, uerr := runOps(context.WithoutCancel(ctx), name, rt, reverse(st.plan.ops[:n])); uerr != nil {
			errs = append(errs, uerr)
		}
		br.Action = ActionFailed
		return errors.Join(errs...)
	}
	r.end("")
	br.Action = ActionLive
	return nil
}

// reverse turns done ops into the ops that undo them, last first.
func reverse(ops []liveOp) []liveOp {
	out := make([]liveOp, 0, len(ops))
	for i := len(ops) - 1; i >= 0; i-- {
		out = append(out, liveOp{what: "undo " + ops[i].what, do: ops[i].undo, undo: ops[i].do})
	}
	return out
}
