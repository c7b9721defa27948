// Package metrics is the management API's Prometheus instrumentation:
// requests by route and status with a latency histogram, store writes and
// their fsync time, git commits, sync runs, logins and rate-limit refusals.
// It is served on a listener of its own (metrics_listen), never on the API's
// port, so it is not reachable through api.<domain>.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric name.
const Namespace = "karana_api"

// Metrics holds the API's collectors in a registry of its own.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	writes      *prometheus.CounterVec
	writeTime   prometheus.Histogram
	commits     *prometheus.CounterVec
	commitTime  prometheus.Histogram
	syncs       *prometheus.CounterVec
	syncTime    prometheus.Histogram
	logins      *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
}

// New returns the collectors, registered with the Go runtime's and the
// process's own; tenant is a constant label ("" leaves it out).
func New(tenant string) *Metrics {
	var labels prometheus.Labels
	if tenant != "" {
		labels = prometheus.Labels{"tenant": tenant}
	}
	counter := func(name, help string, vars ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help, ConstLabels: labels}, vars)
	}
	hist := func(name, help string, buckets []float64) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, ConstLabels: labels, Buckets: buckets})
	}
	m := &Metrics{
		reg:      prometheus.NewRegistry(),
		requests: counter("requests_total", "HTTP requests answered, by method, route pattern and status code.", "method", "route", "code"),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "request_duration_seconds",
			Help: "Time from a request's arrival to its last byte, by route pattern.", ConstLabels: labels,
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route"}),
		writes:      counter("store_writes_total", "Writes of the dump (table_db.json), by result (ok, error).", "result"),
		writeTime:   hist("store_write_duration_seconds", "Time to write the dump durably: encode, write, fsync, rename, fsync the folder.", []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}),
		commits:     counter("history_commits_total", "Git commits of the dump, by result (ok, error).", "result"),
		commitTime:  hist("history_commit_duration_seconds", "Time of one git commit of the dump.", []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}),
		syncs:       counter("sync_runs_total", "Runs of POST /v1/sync/all/db, by result (ok, failed: at least one record failed).", "result"),
		syncTime:    hist("sync_run_duration_seconds", "Time of one sync run.", []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}),
		logins:      counter("logins_total", "Login attempts, by result (ok, failed, refused: rate-limited).", "result"),
		rateLimited: counter("rate_limited_total", "Login attempts refused by a rate limit, by limit (login, address).", "limit"),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.writes, m.writeTime, m.commits, m.commitTime, m.syncs, m.syncTime, m.logins, m.rateLimited)
	return m
}

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "only /metrics is served here", http.StatusNotFound)
	})
	return mux
}

// Middleware counts and times every request next answers. It must wrap the
// ServeMux (directly or through handlers that pass the same *http.Request
// on), whose matched pattern becomes the route label: a bounded set, never
// the raw path.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, sw := time.Now(), &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := Route(r.Pattern)
		m.requests.WithLabelValues(r.Method, route, strconv.Itoa(sw.status)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// Route is a ServeMux pattern without its method ("GET /v1/{res}" ->
// "/v1/{res}"); "" (no pattern matched, or a preflight) is "other".
func Route(pattern string) string {
	if _, path, ok := strings.Cut(pattern, " "); ok {
		pattern = path
	}
	if pattern == "" {
		return "other"
	}
	return pattern
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// StoreWrite records one durable dump write.
func (m *Metrics) StoreWrite(d time.Duration, err error) {
	m.writes.WithLabelValues(result(err)).Inc()
	if err == nil {
		m.writeTime.Observe(d.Seconds())
	}
}

// Commit records one git commit of the dump.
func (m *Metrics) Commit(d time.Duration, err error) {
	m.commits.WithLabelValues(result(err)).Inc()
	m.commitTime.Observe(d.Seconds())
}

// SyncRun records one sync run; failed says a record failed to sync.
func (m *Metrics) SyncRun(d time.Duration, failed bool) {
	r := "ok"
	if failed {
		r = "failed"
	}
	m.syncs.WithLabelValues(r).Inc()
	m.syncTime.Observe(d.Seconds())
}

// Login records a login attempt: "ok", "failed" or "refused".
func (m *Metrics) Login(result string) { m.logins.WithLabelValues(result).Inc() }

// RateLimited records a refusal by the "login" or "address" limit.
func (m *Metrics) RateLimited(limit string) { m.rateLimited.WithLabelValues(limit).Inc() }
