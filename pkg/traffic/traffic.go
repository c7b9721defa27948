// Package traffic tells, per backend of the inner balancers, the request
// rate, the 5xx rate and the 99th percentile of the response time over the
// last minute, for `karana status`.
//
// HAProxy 2.6's Prometheus exporter has counters and running averages but
// no latency histogram and no windowed rates, so a one-shot command cannot
// compute "over the last minute" or a percentile from it. The inner
// balancers therefore also log each routed request into an in-memory ring
// (Ring; `log ring@...` in inner.cfg), and this package reads the last
// minute of it through the runtime API (`show events`).
package traffic

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Ring is the name of the inner balancers' request ring; RingSize its size
// in bytes (about 40,000 request lines: a full minute up to ~650 requests a
// second per balancer; beyond that the window shrinks and says so).
const (
	Ring     = "karana_requests"
	RingSize = 8 << 20
	// Window is how far back the figures look.
	Window = time.Minute
)

// Runtime is the part of a balancer's runtime API this package needs
// (pkg/balancer's Runtime has it).
type Runtime interface {
	Command(ctx context.Context, cmd string) (string, error)
}

// Sample is what one balancer logged in the window.
type Sample struct {
	// Window is how much time the lines cover: Window, or less when the
	// balancer started (or reloaded) more recently, or its ring is full.
	Window   time.Duration
	Backends map[string]*Requests
}

// TenantsBackend is render.TenantsBackend (render imports this package;
// a render test keeps the two equal): its servers are the tenant services.
const TenantsBackend = "be_tenants"

// Requests are one backend's requests in a sample.
type Requests struct {
	Count, Count5xx int
	Times           []time.Duration // total active time (%Ta) of each answered request
}

// Stats are one backend's figures over a window, all balancers together.
type Stats struct {
	RequestsPerSecond float64 `json:"requests_per_second"`
	Errors5xxPerSec   float64 `json:"errors_5xx_per_second"`
	P99Millis         float64 `json:"p99_ms"` // -1 when no request was answered
	Requests          int     `json:"requests"`
	WindowSeconds     float64 `json:"window_seconds"`
}

// Read asks one balancer for the last Window of its ring. uptime bounds the
// window: a ring starts empty at each start or reload.
func Read(ctx context.Context, rt Runtime, now time.Time, uptime time.Duration) (*Sample, error) {
	out, err := rt.Command(ctx, "show events "+Ring)
	if err != nil {
		return nil, fmt.Errorf("reading the request ring %s: %w", Ring, err)
	}
	if strings.HasPrefix(out, "No such") || strings.Contains(out, "Unknown") {
		return nil, fmt.Errorf("reading the request ring %s: %s (rendered by an older karana? run karana balancer reload)", Ring, strings.TrimSpace(out))
	}
	return Parse(out, now, min(Window, uptime)), nil
}

// Parse reads `show events` lines in the ring's iso format: an ISO 8601
// time, then HAProxy's httplog line. Lines older than window before now,
// or of another format, are skipped.
func Parse(events string, now time.Time, window time.Duration) *Sample {
	s := &Sample{Window: window, Backends: map[string]*Requests{}}
	from := now.Add(-window)
	oldest := now
	sc := bufio.NewScanner(strings.NewReader(events))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	lines := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// time client [date] frontend backend/server TR/Tw/Tc/Tr/Ta status ...
		if len(f) < 7 || !strings.HasPrefix(f[2], "[") {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, f[0])
		if err != nil {
			continue
		}
		lines++
		if at.Before(oldest) {
			oldest = at
		}
		if at.Before(from) || at.After(now.Add(time.Second)) {
			continue
		}
		backend, server, ok := strings.Cut(f[4], "/")
		if !ok {
			continue
		}
		if backend == TenantsBackend {
			// Every tenant service is a server of be_tenants, named as
			// its container: the figures are the server's.
			backend = server
		}
		status, err := strconv.Atoi(f[6])
		if err != nil {
			continue
		}
		r := s.Backends[backend]
		if r == nil {
			r = &Requests{}
			s.Backends[backend] = r
		}
		r.Count++
		if status >= 500 {
			r.Count5xx++
		}
		timers := strings.Split(f[5], "/")
		if ta, err := strconv.Atoi(timers[len(timers)-1]); err == nil && ta >= 0 && status > 0 {
			r.Times = append(r.Times, time.Duration(ta)*time.Millisecond)
		}
	}
	// A full ring has dropped older lines: its oldest line starts the window.
	if lines > 0 && len(events) >= RingSize*9/10 && now.Sub(oldest) < s.Window {
		s.Window = now.Sub(oldest)
	}
	return s
}

// Combine adds the balancers' samples (lb0 spreads requests over them)
// into figures per backend. Their windows differ after a reload; rates use
// the longest, which is the one that saw the requests of the whole window.
func Combine(samples ...*Sample) map[string]Stats {
	var window time.Duration
	all := map[string]*Requests{}
	for _, s := range samples {
		if s == nil {
			continue
		}
		window = max(window, s.Window)
		for be, r := range s.Backends {
			a := all[be]
			if a == nil {
				a = &Requests{}
				all[be] = a
			}
			a.Count += r.Count
			a.Count5xx += r.Count5xx
			a.Times = append(a.Times, r.Times...)
		}
	}
	out := map[string]Stats{}
	secs := window.Seconds()
	if secs <= 0 {
		return out
	}
	for be, r := range all {
		out[be] = Stats{
			RequestsPerSecond: round(float64(r.Count) / secs), Errors5xxPerSec: round(float64(r.Count5xx) / secs),
			P99Millis: p99(r.Times), Requests: r.Count, WindowSeconds: round(secs),
		}
	}
	return out
}

// p99 is the nearest-rank 99th percentile in milliseconds, -1 for none.
func p99(ts []time.Duration) float64 {
	if len(ts) == 0 {
		return -1
	}
	slices.Sort(ts)
	i := int(math.Ceil(0.99*float64(len(ts)))) - 1
	return float64(ts[max(i, 0)].Microseconds()) / 1000
}

func round(f float64) float64 { return math.Round(f*100) / 100 }
