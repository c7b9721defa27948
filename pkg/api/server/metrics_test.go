package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads the API's /metrics as Prometheus would.
func scrape(t *testing.T, e *env) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	e.app.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v\n%s", err, rec.Body)
	}
	return fams
}

// value is the counter or histogram count of the series with these labels
// (a subset), 0 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

func TestMetrics(t *testing.T) {
	cfg := testConfig(t)
	cfg.MetricsListen = "127.0.0.1:0"
	cfg.Tenant.ID = "TENANTID"
	e := newEnvWith(t, cfg, &fakeSyncer{})
	before := scrape(t, e)
	e.createUser("alice", "client") // a store write and an ok login
	e.raw("GET", "/v1/users/nope", e.admin, nil)
	for i := 0; i < 6; i++ { // createUser's login took one of 5 attempts
		e.raw("POST", "/v1/users/login", "", map[string]string{"user": "alice@example.org", "password": "wrong-wrong"})
	}
	if code, _ := e.do("POST", "/v1/sync/all/db", e.admin, nil); code != 200 {
		t.Fatalf("sync: %d", code)
	}
	e.raw("GET", "/no/such/route", "", nil)
	after := scrape(t, e)

	for _, tt := range []struct {
		name   string
		labels map[string]string
		delta  float64
	}{
		{"karana_api_requests_total", map[string]string{"method": "POST", "route": "/v1/{res}/new", "code": "201", "tenant": "TENANTID"}, 1},
		{"karana_api_requests_total", map[string]string{"method": "GET", "route": "/v1/{res}/{id}", "code": "404"}, 1},
		{"karana_api_requests_total", map[string]string{"method": "POST", "route": "/v1/{res}/login", "code": "401"}, 4},
		{"karana_api_requests_total", map[string]string{"method": "POST", "route": "/v1/{res}/login", "code": "429"}, 2},
		{"karana_api_requests_total", map[string]string{"route": "/", "code": "404"}, 1},
		{"karana_api_request_duration_seconds", map[string]string{"route": "/v1/{res}/login"}, 7},
		{"karana_api_logins_total", map[string]string{"result": "ok"}, 1},
		{"karana_api_logins_total", map[string]string{"result": "failed"}, 4},
		{"karana_api_logins_total", map[string]string{"result": "refused"}, 2},
		{"karana_api_rate_limited_total", map[string]string{"limit": "login"}, 2},
		{"karana_api_store_writes_total", map[string]string{"result": "ok"}, 1},
		{"karana_api_store_write_duration_seconds", nil, 1},
		{"karana_api_sync_runs_total", map[string]string{"result": "ok"}, 1},
	} {
		if d := value(after, tt.name, tt.labels) - value(before, tt.name, tt.labels); d < tt.delta {
			t.Errorf("%s%v rose by %v, want %v", tt.name, tt.labels, d, tt.delta)
		}
	}
	if value(after, "karana_api_rate_limited_total", map[string]string{"limit": "address"}) != 0 {
		t.Error("the address limit is counted though it never refused")
	}
	if after["go_goroutines"] == nil || after["process_resident_memory_bytes"] == nil {
		t.Error("the Go runtime and process collectors are missing")
	}
	rec := httptest.NewRecorder()
	e.app.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/v1/users", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("the metrics listener serves the API: %d", rec.Code)
	}
}
