package converge

import (
	"fmt"
	"sync"
	"time"
)

// Deferred is a Reporter for work that runs beside another step: it keeps
// that work's steps and shows them once the other step has ended
// (Replay), so that the terminal shows one step at a time.
type Deferred struct {
	mu    sync.Mutex
	steps []deferredStep
	cur   *deferredStep
}

type deferredStep struct {
	title, result string
	failed        bool
	start         time.Time
	took          time.Duration
}

// Recorder is a Reporter that can show a step that already ran, with the
// time it took (cmdutil.Progress).
type Recorder interface {
	Record(title, result string, failed bool, took time.Duration)
}

// Start begins a step; one still running is ended first, as Progress does.
func (d *Deferred) Start(format string, args ...any) {
	d.End("")
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cur = &deferredStep{title: fmt.Sprintf(format, args...), start: time.Now()}
}

// End ends the current step.
func (d *Deferred) End(result string) { d.finish(result, false) }

// Fail ends the current step as failed.
func (d *Deferred) Fail(result string) { d.finish(result, true) }

func (d *Deferred) finish(result string, failed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur == nil {
		return
	}
	d.cur.result, d.cur.failed, d.cur.took = result, failed, time.Since(d.cur.start)
	d.steps = append(d.steps, *d.cur)
	d.cur = nil
}

// Replay shows the kept steps on p, in order, with the time each took
// when p is a Recorder.
func (d *Deferred) Replay(p Reporter) {
	d.End("")
	d.mu.Lock()
	steps := d.steps
	d.steps = nil
	d.mu.Unlock()
	rec, _ := p.(Recorder)
	for _, s := range steps {
		switch {
		case rec != nil:
			rec.Record(s.title, s.result, s.failed, s.took)
		case s.failed:
			p.Start("%s", s.title)
			p.Fail(s.result)
		default:
			p.Start("%s", s.title)
			p.End(s.result)
		}
	}
}
