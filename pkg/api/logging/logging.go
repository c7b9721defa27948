// Package logging builds the management API's slog logger: to the systemd
// journal (with priorities) when systemd runs the process, else to stderr.
// Nothing secret is ever passed to it: the API logs ids, never tokens or
// passwords.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/coreos/go-systemd/v22/journal"
)

// Level parses debug, info, warn or error.
func Level(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log_level: %q is not one of debug, info, warn, error", s)
	}
	return l, nil
}

// New returns a logger at level: to the journal when JOURNAL_STREAM says
// systemd connected our output to it, else text lines on w.
func New(level slog.Level, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if os.Getenv("JOURNAL_STREAM") != "" && journal.Enabled() {
		jw := &journalWriter{}
		opts.ReplaceAttr = dropTime // the journal stamps entries itself
		return slog.New(&journalHandler{mu: &sync.Mutex{}, w: jw, inner: slog.NewTextHandler(jw, opts)})
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

type journalWriter struct{ prio journal.Priority }

func (j *journalWriter) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	if err := journal.Send(msg, j.prio, map[string]string{"SYSLOG_IDENTIFIER": "karana-api"}); err != nil {
		fmt.Fprintln(os.Stderr, msg) // the journal is gone: keep the line
	}
	return len(p), nil
}

// journalHandler sets the journal priority of each record, then formats it
// with the inner text handler; the mutex ties the two together.
type journalHandler struct {
	mu    *sync.Mutex
	w     *journalWriter
	inner slog.Handler
}

func (h *journalHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *journalHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case r.Level >= slog.LevelError:
		h.w.prio = journal.PriErr
	case r.Level >= slog.LevelWarn:
		h.w.prio = journal.PriWarning
	case r.Level >= slog.LevelInfo:
		h.w.prio = journal.PriInfo
	default:
		h.w.prio = journal.PriDebug
	}
	return h.inner.Handle(ctx, r)
}

func (h *journalHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return &journalHandler{mu: h.mu, w: h.w, inner: h.inner.WithAttrs(a)}
}

func (h *journalHandler) WithGroup(name string) slog.Handler {
	return &journalHandler{mu: h.mu, w: h.w, inner: h.inner.WithGroup(name)}
}
