package converge

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

type recorded struct{ lines []string }

func (r *recorded) Start(format string, args ...any) {
	r.lines = append(r.lines, "start "+fmt.Sprintf(format, args...))
}
func (r *recorded) End(result string)  { r.lines = append(r.lines, "end "+result) }
func (r *recorded) Fail(result string) { r.lines = append(r.lines, "fail "+result) }

type withRecord struct {
	recorded
	took []time.Duration
}

func (r *withRecord) Record(title, result string, failed bool, took time.Duration) {
	r.lines = append(r.lines, fmt.Sprintf("record %s: %s %v", title, result, failed))
	r.took = append(r.took, took)
}

func steps() *Deferred {
	d := &Deferred{}
	d.Start("routes on %s", "lb1")
	time.Sleep(20 * time.Millisecond)
	d.End("changed live")
	d.Start("second")
	d.Start("third") // ends second as done, as Progress does
	d.Fail("refused")
	d.Start("still running") // ended by Replay
	return d
}

func TestDeferredReplaysInOrder(t *testing.T) {
	var plain recorded
	steps().Replay(&plain)
	want := "start routes on lb1|end changed live|start second|end |start third|fail refused|start still running|end "
	if got := strings.Join(plain.lines, "|"); got != want {
		t.Errorf("replayed\n %s\nwant\n %s", got, want)
	}

	var rec withRecord
	d := steps()
	d.Replay(&rec)
	if len(rec.lines) != 4 || rec.lines[2] != "record third: refused true" || rec.took[0] < 20*time.Millisecond {
		t.Errorf("recorded %q, took %v", rec.lines, rec.took)
	}
	d.Replay(&rec)
	if len(rec.lines) != 4 {
		t.Errorf("replayed twice: %q", rec.lines)
	}
}
