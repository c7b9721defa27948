package traffic

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func line(at time.Time, backend string, ta, status int) string {
	return fmt.Sprintf(`%s 10.0.12.2:40000 [01/Dec/2026:15:03:38.403] fe_https~ %s/%s 0/0/0/%d/%d %d 73 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"`,
		at.Format(time.RFC3339Nano), backend, backend, ta, ta, status)
}

func TestParseAndCombine(t *testing.T) {
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	var a, b []string
	for i := 1; i <= 100; i++ { // acme-api: 100 requests in the minute on lb1, ta 1..100 ms
		a = append(a, line(now.Add(-time.Duration(i)*500*time.Millisecond), "acme-api", i, 200))
	}
	a = append(a, line(now.Add(-2*time.Minute), "acme-api", 9999, 200), // too old
		"2026-12-01T14:59:59+00:00 [NOTICE] something else", "garbage")
	for i := 0; i < 20; i++ { // lb2: acme-grafana with 5 errors, one aborted (-1)
		status := 200
		if i < 5 {
			status = 502
		}
		b = append(b, line(now.Add(-time.Second), "acme-grafana", 10, status))
	}
	b = append(b, line(now.Add(-time.Second), "acme-grafana", -1, -1))
	s1 := Parse(strings.Join(a, "\n"), now, time.Minute)
	s2 := Parse(strings.Join(b, "\n"), now, 30*time.Second) // lb2 reloaded 30 s ago
	got := Combine(s1, s2)
	api, gr := got["acme-api"], got["acme-grafana"]
	if api.Requests != 100 || api.RequestsPerSecond != 1.67 || api.P99Millis != 99 || api.Errors5xxPerSec != 0 || api.WindowSeconds != 60 {
		t.Errorf("acme-api: %+v", api)
	}
	if gr.Requests != 21 || gr.Errors5xxPerSec != 0.08 || gr.P99Millis != 10 {
		t.Errorf("acme-grafana: %+v", gr)
	}
	if len(got) != 2 {
		t.Errorf("backends: %v", got)
	}
	if e := Combine(Parse("", now, 0)); len(e) != 0 {
		t.Errorf("empty: %v", e)
	}
}

func TestTenantServersCountAsTheirService(t *testing.T) {
	now := time.Now()
	l := fmt.Sprintf(`%s 10.0.12.2:40000 [01/Dec/2026:15:03:38.403] fe_https~ be_tenants/acme-api 0/0/0/5/5 200 73 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"`,
		now.Add(-time.Second).Format(time.RFC3339Nano))
	s := Parse(l, now, time.Minute)
	if r := s.Backends["acme-api"]; r == nil || r.Count != 1 {
		t.Errorf("a be_tenants/acme-api request is not acme-api's: %+v", s.Backends)
	}
}
