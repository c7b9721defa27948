package balancer

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Roll is one rolling reload of the inner balancers behind the outer one:
// every new configuration is checked first, then the balancers are taken
// out of lb0's rotation, reloaded and put back one at a time.
type Roll struct {
	Outer   Runtime            // lb0's runtime socket
	Inner   map[string]Runtime // inner balancers' sockets, by name; a missing one is not waited on
	Targets []Target           // the inner balancers, in rolling order
	Files   map[string]Files   // the new files, by target name

	DrainTimeout  time.Duration // how long to wait for sessions and queue to reach 0
	ReloadTimeout time.Duration // how long a reload may take to show a new worker that lb0 sees UP
	Poll          time.Duration // how often to ask the runtime sockets
	DryRun        bool          // check only: drain and change nothing
	Progress      Reporter
	// Live lets a balancer whose routes alone change (tenant servers, host
	// map, crt-list, certificates) be changed through its runtime API,
	// without a drain or a reload; anything else is reloaded.
	Live bool
	// Force reloads every balancer, even one whose files match: what
	// brings a live state that drifted from its files back to them.
	Force bool

	state map[string]*targetState
}

// targetState is what checkAll learned of one balancer.
type targetState struct {
	have Sums
	plan *livePlan // nil: reload
}

// Reporter shows steps as they run (cmdutil.Progress).
type Reporter interface {
	Start(format string, args ...any)
	End(result string)
	Fail(result string)
}

// ReloadReport says what a rolling reload did to each inner balancer.
type ReloadReport struct {
	DryRun    bool             `json:"dry_run"`
	Balancers []BalancerReport `json:"balancers"`
}

// Actions of a BalancerReport.
const (
	ActionUnchanged  = "unchanged"    // its configuration already matched
	ActionWould      = "would reload" // dry run: the new configuration is valid
	ActionReloaded   = "reloaded"
	ActionRolledBack = "rolled back" // the reload failed; the previous configuration serves
	ActionFailed     = "failed"
	ActionPending    = "not reached"       // an earlier balancer failed
	ActionLive       = "changed live"      // through the runtime API, no reload
	ActionWouldLive  = "would change live" // dry run
)

// BalancerReport is one inner balancer's part of a ReloadReport.
type BalancerReport struct {
	Name         string   `json:"name"`
	Action       string   `json:"action"`
	Changed      []string `json:"changed,omitempty"`       // paths that differed
	Drained      bool     `json:"drained"`                 // sessions and queue reached 0 in time
	SessionsLeft int64    `json:"sessions_left,omitempty"` // when the drain timed out
	Error        string   `json:"error,omitempty"`
	OldPid       int64    `json:"old_pid,omitempty"`
	NewPid       int64    `json:"new_pid,omitempty"`
	Seconds      float64  `json:"seconds,omitempty"` // out of rotation
	Live         []string `json:"live,omitempty"`    // runtime API changes made (or planned)
	Reason       string   `json:"reload_reason,omitempty"`
}

func (r *Roll) defaults() {
	if r.DrainTimeout < 0 {
		r.DrainTimeout = 0
	}
	if r.ReloadTimeout <= 0 {
		r.ReloadTimeout = 60 * time.Second
	}
	if r.Poll <= 0 {
		r.Poll = 200 * time.Millisecond
	}
}

// Run performs the rolling reload. Its error names the balancer at fault;
// the report is complete either way.
func (r *Roll) Run(ctx context.Context) (*ReloadReport, error) {
	r.defaults()
	rep := &ReloadReport{DryRun: r.DryRun}
	for _, t := range r.Targets {
		rep.Balancers = append(rep.Balancers, BalancerReport{Name: t.Name(), Action: ActionPending})
	}
	if err := r.checkAll(ctx, rep); err != nil {
		return rep, err
	}
	if r.DryRun {
		return rep, nil
	}
	// done: changed already, or nothing to change (files match).
	done := make([]bool, len(r.Targets))
	left := 0
	for i := range r.Targets {
		done[i] = rep.Balancers[i].Action == ActionUnchanged
		if !done[i] {
			left++
		}
	}
	retried := make([]bool, len(r.Targets))
	for ; left > 0; left-- {
		i := r.next(ctx, done)
		done[i] = true
		t, br := r.Targets[i], &rep.Balancers[i]
		roll := r.rollOne
		if st := r.state[t.Name()]; st != nil && st.plan != nil {
			roll = r.applyLive
		}
		err := roll(ctx, t, br)
		var pe *peerOutError
		if errors.As(err, &pe) && !retried[i] && r.peerFirst(ctx, pe, done) {
			retried[i], done[i] = true, false
			br.Action, br.Error = ActionPending, ""
			left++
			continue
		}
		if err != nil {
			if br.Error == "" {
				br.Error = err.Error()
			}
			return rep, err
		}
	}
	return rep, nil
}

// peerFirst handles a refusal to take a balancer out because pe.peer is
// out of service, and reports whether the balancer should be tried again.
// A peer that is only DOWN (admin state ready), as balancers still booting
// on a first run are, each backend's checks rising at their own pace, is
// waited for until lb0 sees it UP everywhere (at most peerWait); a peer
// still to be changed that does not come UP goes first instead.
func (r *Roll) peerFirst(ctx context.Context, pe *peerOutError, done []bool) bool {
	if pe.booting {
		r.start("%s: waiting until lb0 sees it UP", pe.peer)
		if err := r.waitUpFor(ctx, pe.peer, min(r.ReloadTimeout, peerWait)); err == nil {
			r.end("up")
			return true
		}
		r.end("not up")
	}
	return r.pending(pe.peer, done)
}

// peerWait bounds how long a refused balancer waits for its booting peer.
const peerWait = 20 * time.Second

// pending reports whether the balancer called name is still to be changed.
func (r *Roll) pending(name string, done []bool) bool {
	for i, t := range r.Targets {
		if t.Name() == name {
			return !done[i]
		}
	}
	return false
}

// next is the balancer to change next among those not done: one lb0 does
// not see UP first (it carries no traffic, and must come up before another
// one may be drained), else the first in the inventory's order. lb0 is
// asked again before each turn: on a first run both are down when the run
// starts, and one may come up while the other is still booting, which an
// order fixed at the start would then refuse to take out.
func (r *Roll) next(ctx context.Context, done []bool) int {
	first := -1
	for i := range r.Targets {
		if !done[i] {
			first = i
			break
		}
	}
	servers, err := r.Outer.Servers(ctx)
	if err != nil {
		return first
	}
	up := map[string]bool{}
	for _, s := range servers {
		up[s.Name] = up[s.Name] || s.Up()
	}
	for i, t := range r.Targets {
		if !done[i] && !up[t.Name()] {
			return i
		}
	}
	return first
}

// checkAll compares and checks every balancer's new files before any is
// changed, so that a broken configuration never reaches a running one: a
// reload's files are staged and checked by `haproxy -c` in the balancer, a
// live change's certificates are checked before any command is sent.
func (r *Roll) checkAll(ctx context.Context, rep *ReloadReport) error {
	r.state = map[string]*targetState{}
	for i, t := range r.Targets {
		br := &rep.Balancers[i]
		want, ok := r.Files[t.Name()]
		if !ok {
			return fmt.Errorf("%s: no rendered configuration for it", t.Name())
		}
		r.start("%s: comparing the configuration", t.Name())
		have, err := t.Sums(ctx)
		if err != nil {
			r.fail(err)
			return err
		}
		st := &targetState{have: have}
		r.state[t.Name()] = st
		br.Changed = want.Sums().Diff(have)
		if len(br.Changed) == 0 && !r.Force {
			br.Action = ActionUnchanged
			r.end("matches, skipped")
			continue
		}
		if r.Live && !r.Force {
			plan, err := r.planLive(ctx, t, want, have)
			if err != nil {
				br.Action, br.Error = ActionFailed, err.Error()
				r.fail("refused")
				return err
			}
			if plan.reason == "" {
				st.plan = plan
				for _, op := range plan.ops {
					br.Live = append(br.Live, op.what)
				}
				if r.DryRun {
					br.Action = ActionWouldLive
				}
				r.end(fmt.Sprintf("%d file(s) differ; %d runtime API change(s), no reload", len(br.Changed), len(plan.ops)))
				continue
			}
			br.Reason = plan.reason
		}
		r.end(fmt.Sprintf("%d file(s) differ", len(br.Changed)))
		r.start("%s: checking the new configuration (haproxy -c)", t.Name())
		err = t.Prepare(ctx, want, have)
		if err == nil {
			err = t.Check(ctx)
		}
		if err != nil {
			br.Action, br.Error = ActionFailed, err.Error()
			r.fail("refused")
			var he *HAProxyError
			if errors.As(err, &he) {
				return fmt.Errorf("%w: %w", ErrRefused, err)
			}
			return err
		}
		r.end("valid")
		if r.DryRun {
			br.Action = ActionWould
		}
	}
	return nil
}

// rollOne takes t out of rotation, reloads it and puts it back.
func (r *Roll) rollOne(ctx context.Context, t Target, br *BalancerReport) error {
	name := t.Name()
	backends, inService, err := r.checkOthersUp(ctx, name)
	if err != nil {
		br.Action = ActionFailed
		return err
	}
	out := time.Now()
	defer func() { br.Seconds = time.Since(out).Seconds() }()
	if !inService {
		// Down on lb0 (a new container, say): it carries no traffic, so
		// there is nothing to drain and no other balancer to wait for.
		r.start("%s: down on lb0, carries no traffic", name)
		r.end("reloading without drain")
		br.Drained = true
	} else if err := r.drain(ctx, backends, name, br); err != nil {
		return err
	}
	if err := r.swap(ctx, t, br); err != nil {
		return err
	}
	r.start("%s: back in rotation (state ready)", name)
	if err := r.ready(ctx, backends, name); err != nil {
		r.fail(err)
		br.Action = ActionFailed
		return err
	}
	r.end("")
	br.Action = ActionReloaded
	return nil
}

// drain sets name to drain in its backends and waits for its sessions.
func (r *Roll) drain(ctx context.Context, backends []string, name string, br *BalancerReport) error {
	r.start("%s: draining on lb0 (%s)", name, joinBackends(backends, name))
	if err := r.setState(ctx, backends, name, "drain"); err != nil {
		r.fail(err)
		br.Action = ActionFailed
		return errors.Join(err, r.ready(context.WithoutCancel(ctx), backends, name))
	}
	left, err := r.waitDrained(ctx, name)
	br.Drained, br.SessionsLeft = err == nil && left == 0, left
	switch {
	case err != nil:
		r.fail(err)
		br.Action = ActionFailed
		return errors.Join(err, r.ready(context.WithoutCancel(ctx), backends, name))
	case left > 0 && r.DrainTimeout == 0:
		r.end(fmt.Sprintf("%d session(s) stay with the old worker, which closes each keep-alive connection after its next response", left))
	case left > 0:
		r.end(fmt.Sprintf("timed out after %s with %d session(s) left; the old worker finishes them", r.DrainTimeout, left))
	default:
		r.end("no sessions left")
	}
	return nil
}

// swap commits the staged files and reloads; when that fails it puts the
// previous files back, reloads them and makes the balancer ready again.
func (r *Roll) swap(ctx context.Context, t Target, br *BalancerReport) error {
	name := t.Name()
	br.OldPid = r.pid(ctx, name)
	r.start("%s: putting the new configuration in place", name)
	err := t.Commit(ctx)
	if err == nil {
		r.end("")
		r.start("%s: reloading haproxy", name)
		br.NewPid, err = r.reloadAndWait(ctx, t, br.OldPid)
	}
	if err == nil {
		r.end(fmt.Sprintf("worker %d replaced %d; lb0 sees it UP", br.NewPid, br.OldPid))
		return nil
	}
	r.fail("failed")
	br.Action = ActionFailed
	return r.rollback(context.WithoutCancel(ctx), t, br, err)
}

func (r *Roll) rollback(ctx context.Context, t Target, br *BalancerReport, cause error) error {
	name := t.Name()
	r.start("%s: putting the previous configuration back", name)
	old := r.pid(ctx, name)
	errs := []error{cause}
	if err := t.Restore(ctx); err != nil {
		errs = append(errs, err)
	} else if _, err := r.reloadAndWait(ctx, t, old); err != nil {
		errs = append(errs, fmt.Errorf("reloading the previous configuration: %w", err))
	}
	backends, _ := r.backendsOf(ctx, name)
	if err := r.ready(ctx, backends, name); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		br.Action = ActionRolledBack
		r.end("previous configuration serves, state ready")
	} else {
		r.fail("incomplete")
	}
	return errors.Join(errs...)
}

// reloadAndWait reloads t and waits for a new worker (when its socket is
// known) and for lb0's checks to see it UP.
func (r *Roll) reloadAndWait(ctx context.Context, t Target, oldPid int64) (int64, error) {
	if err := t.Reload(ctx); err != nil {
		return 0, err
	}
	newPid, err := r.waitNewWorker(ctx, t, oldPid)
	if err != nil {
		return 0, err
	}
	return newPid, r.waitUp(ctx, t.Name())
}

// Progress helpers: Progress may be nil.
func (r *Roll) start(format string, args ...any) {
	if r.Progress != nil {
		r.Progress.Start(format, args...)
	}
}

func (r *Roll) end(result string) {
	if r.Progress != nil {
		r.Progress.End(result)
	}
}

func (r *Roll) fail(v any) {
	if r.Progress != nil {
		r.Progress.Fail(fmt.Sprint(v))
	}
}
