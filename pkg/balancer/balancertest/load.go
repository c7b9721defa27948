// Package balancertest holds what the rolling reload's proofs share: a
// bounded HTTP load generator that accounts for every request, and real
// haproxy processes on loopback.
package balancertest

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Load sends requests to URL until stopped or bounded: keep-alive workers
// hold one connection each, new-connection workers open one per request.
// Requests are POSTs so that Go's client never silently retries one that a
// closing connection dropped: every failure is counted.
type Load struct {
	URL       string
	Host      string // Host header, "" for the URL's
	KeepAlive int    // workers reusing one connection
	NewConns  int    // workers opening a connection per request
	Rate      int    // requests per second per worker, 0 for as fast as possible
	MaxTotal  int64  // stop after this many requests (bound)
	MaxTime   time.Duration
	Insecure  bool // accept any TLS certificate (self-signed test ones)

	mu      sync.Mutex
	samples []Sample
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// Sample is one request.
type Sample struct {
	At      time.Time
	Latency time.Duration
	Status  int    // 0 when the request failed
	Err     string // transport error
}

// Start begins the load in the background.
func (l *Load) Start(ctx context.Context) {
	if l.MaxTime <= 0 {
		l.MaxTime = 10 * time.Minute
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = 5_000_000
	}
	ctx, l.cancel = context.WithTimeout(ctx, l.MaxTime)
	for i := 0; i < l.KeepAlive+l.NewConns; i++ {
		tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableKeepAlives: i >= l.KeepAlive,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: l.Insecure, ServerName: l.serverName()}} //nolint:gosec // test certificates
		l.wg.Add(1)
		go l.worker(ctx, &http.Client{Transport: tr, Timeout: 30 * time.Second})
	}
}

func (l *Load) serverName() string {
	h := l.Host
	if i := strings.LastIndexByte(h, ':'); i > 0 {
		h = h[:i]
	}
	return h
}

// Stop ends the load and returns every sample, in start order.
func (l *Load) Stop() []Sample {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	sort.Slice(l.samples, func(i, j int) bool { return l.samples[i].At.Before(l.samples[j].At) })
	return l.samples
}

func (l *Load) worker(ctx context.Context, c *http.Client) {
	defer l.wg.Done()
	defer c.CloseIdleConnections()
	var gap time.Duration
	if l.Rate > 0 {
		gap = time.Second / time.Duration(l.Rate)
	}
	for ctx.Err() == nil {
		l.mu.Lock()
		full := int64(len(l.samples)) >= l.MaxTotal
		l.mu.Unlock()
		if full {
			return
		}
		s := l.one(ctx, c)
		if ctx.Err() != nil && s.Status == 0 {
			return // cut by Stop, not by the server
		}
		l.mu.Lock()
		l.samples = append(l.samples, s)
		l.mu.Unlock()
		if gap > 0 && s.Latency < gap {
			select {
			case <-ctx.Done():
			case <-time.After(gap - s.Latency):
			}
		}
	}
}

func (l *Load) one(ctx context.Context, c *http.Client) Sample {
	s := Sample{At: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.URL, strings.NewReader("karana"))
	if err != nil {
		s.Err = err.Error()
		return s
	}
	if l.Host != "" {
		req.Host = l.Host
	}
	resp, err := c.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		s.Status = resp.StatusCode
	}
	s.Latency = time.Since(s.At)
	if err != nil {
		s.Status, s.Err = 0, err.Error()
	}
	return s
}

// Window is a span of time, such as one reload.
type Window struct{ From, To time.Time }

// Stats summarises samples.
type Stats struct {
	Sent, Failed, Unexpected int
	P50, P99, Max            time.Duration
	Errors                   []string // the first few, for the log
}

func (s Stats) String() string {
	return fmt.Sprintf("sent %d, failed %d, unexpected status %d, p50 %s, p99 %s, max %s",
		s.Sent, s.Failed, s.Unexpected, s.P50.Round(10*time.Microsecond), s.P99.Round(10*time.Microsecond), s.Max.Round(10*time.Microsecond))
}

// Split summarises the samples that started inside any of windows and
// those that started outside all of them (steady state).
func Split(samples []Sample, want int, windows []Window) (during, steady Stats) {
	var in, out []Sample
	for _, s := range samples {
		inside := false
		for _, w := range windows {
			if !s.At.Before(w.From) && s.At.Before(w.To) {
				inside = true
				break
			}
		}
		if inside {
			in = append(in, s)
		} else {
			out = append(out, s)
		}
	}
	return Summarise(in, want), Summarise(out, want)
}

// Summarise counts samples, failures, statuses other than want, and
// latency percentiles of the answered requests.
func Summarise(samples []Sample, want int) Stats {
	st := Stats{Sent: len(samples)}
	var lat []time.Duration
	for _, s := range samples {
		switch {
		case s.Status == 0:
			st.Failed++
			if len(st.Errors) < 5 {
				st.Errors = append(st.Errors, s.Err)
			}
		case s.Status != want:
			st.Unexpected++
			if len(st.Errors) < 5 {
				st.Errors = append(st.Errors, fmt.Sprintf("status %d", s.Status))
			}
		}
		if s.Status != 0 {
			lat = append(lat, s.Latency)
		}
	}
	if len(lat) == 0 {
		return st
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	st.P50, st.P99, st.Max = lat[len(lat)/2], lat[(len(lat)*99)/100], lat[len(lat)-1]
	return st
}
