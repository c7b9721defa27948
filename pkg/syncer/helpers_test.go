package syncer_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/karana-project/karana/e2e/grafanastandin"
	"github.com/karana-project/karana/pkg/influx"
	"github.com/karana-project/karana/pkg/influx/influxtest"
	"github.com/karana-project/karana/pkg/syncer"
)

const tenant = "SMNTYQIUB4YTC"

// env is a real influxd, a Grafana stand-in and a Syncer wired to both
// through a transport that records every mutating request.
type env struct {
	influx  *influxtest.Server
	admin   *influx.Client
	grafana *grafanastandin.Server
	gURL    string
	rec     *recorder
	s       *syncer.Syncer
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{influx: influxtest.Start(t)}
	e.admin = e.influx.Client(t)
	e.grafana, e.gURL = grafanastandin.Start(t, grafanastandin.Options{AdminUser: "admin", AdminPassword: "grafana-admin-pw"})
	e.rec = &recorder{base: http.DefaultTransport}
	s, err := syncer.New(syncer.Config{
		InfluxURL: e.influx.URL, InfluxUser: e.influx.AdminUser, InfluxPassword: e.influx.AdminPassword,
		GrafanaURL: e.gURL, GrafanaUser: "admin", GrafanaPassword: "grafana-admin-pw",
		TenantID: tenant, HTTPClient: &http.Client{Transport: e.rec},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	return e
}

// recorder notes each request that could change state: non-SHOW InfluxQL
// statements and non-GET Grafana calls.
type recorder struct {
	base   http.RoundTripper
	before func(q string) // if set, runs before each InfluxQL statement is sent
	mu     sync.Mutex
	muts   []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	what := ""
	switch {
	case req.URL.Path == "/query" && req.Body != nil:
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if r.before != nil {
			r.before(form.Get("q"))
		}
		if q := strings.TrimSpace(form.Get("q")); !strings.HasPrefix(strings.ToUpper(q), "SHOW") {
			what = "influx " + strings.SplitN(strings.SplitN(q, " WITH PASSWORD", 2)[0], " = '", 2)[0]
		}
	case req.Method != http.MethodGet && req.Method != http.MethodHead:
		what = "grafana " + req.Method + " " + req.URL.Path
	}
	if what != "" {
		r.mu.Lock()
		r.muts = append(r.muts, what)
		r.mu.Unlock()
	}
	return r.base.RoundTrip(req)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.muts
	r.muts = nil
	return out
}

// influxState is SHOW USERS, SHOW DATABASES and every user's grants, as
// text, to compare before and after a sync.
func (e *env) influxState(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	users, err := e.admin.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dbs, err := e.admin.Databases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, u := range users {
		grants, err := e.admin.Grants(ctx, u.Name)
		if err != nil {
			t.Fatal(err)
		}
		for db, p := range grants {
			lines = append(lines, "grant "+u.Name+" "+db+" "+string(p))
		}
		if u.Admin {
			lines = append(lines, "admin "+u.Name)
		}
		lines = append(lines, "user "+u.Name)
	}
	for _, db := range dbs {
		lines = append(lines, "db "+db)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// as returns an InfluxDB client with someone else's credentials.
func (e *env) as(user, password string) *influx.Client { return e.admin.As(user, password) }
