package cmdutil

import (
	"fmt"
	"sync"
	"time"

	"github.com/karana-project/karana/pkg/iostreams"
)

// Progress reports the steps of a long command on ErrOut: a spinner on a
// terminal, one plain line per step start and end elsewhere.
type Progress struct {
	io    *iostreams.IOStreams
	mu    sync.Mutex
	stop  chan struct{}
	done  chan struct{}
	step  string
	start time.Time
}

// NewProgress returns a reporter writing to io.ErrOut.
func NewProgress(io *iostreams.IOStreams) *Progress { return &Progress{io: io} }

var spinFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// Start begins a step. A step still running is ended first, as done.
func (p *Progress) Start(format string, args ...any) {
	p.End("")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step = fmt.Sprintf(format, args...)
	p.start = time.Now()
	if !p.io.IsStderrTTY() {
		fmt.Fprintf(p.io.ErrOut, "==> %s\n", p.step)
		return
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.spin(p.step, p.stop, p.done)
}

func (p *Progress) spin(step string, stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		fmt.Fprintf(p.io.ErrOut, "\r\033[K%s %s", spinFrames[i%len(spinFrames)], step)
		select {
		case <-stop:
			fmt.Fprint(p.io.ErrOut, "\r\033[K")
			return
		case <-t.C:
		}
	}
}

// End finishes the current step with a short result ("created", "unchanged"
// or an error text). An empty result means "done".
func (p *Progress) End(result string) { p.finish(result, false) }

// Fail finishes the current step as failed.
func (p *Progress) Fail(result string) { p.finish(result, true) }

func (p *Progress) finish(result string, failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.step == "" {
		return
	}
	if p.stop != nil {
		close(p.stop)
		<-p.done
		p.stop = nil
	}
	p.line(p.step, result, failed, time.Since(p.start))
	p.step = ""
}

// Record shows a step that ran elsewhere (beside another step) and took
// took, as its end line. A step still running is ended first, as done.
func (p *Progress) Record(step, result string, failed bool, took time.Duration) {
	p.End("")
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.io.IsStderrTTY() {
		fmt.Fprintf(p.io.ErrOut, "==> %s\n", step)
	}
	p.line(step, result, failed, took)
}

func (p *Progress) line(step, result string, failed bool, took time.Duration) {
	if result == "" {
		result = "done"
	}
	st := p.io.Styles()
	mark, style := "✓", st.Ok
	if failed {
		mark, style = "✗", st.Err
	}
	if !p.io.IsStderrTTY() {
		mark = "ok"
		if failed {
			mark = "FAILED"
		}
	}
	el := took.Round(10 * time.Millisecond)
	fmt.Fprintf(p.io.ErrOut, "%s %s: %s %s\n", style.Render(mark), step, result, st.Dim.Render("("+el.String()+")"))
}
