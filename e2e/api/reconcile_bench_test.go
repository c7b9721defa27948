package api_test

import (
	"fmt"
	"testing"
)

// BenchmarkReconcile50Users: one full reconcile of 50 users with a karana
// each, nothing to change (real influxd, the Grafana stand-in). It is the
// steady cost of sync.reconcile_interval.
func BenchmarkReconcile50Users(b *testing.B) {
	l := startLive(b, nil)
	for i := 0; i < 50; i++ {
		login := fmt.Sprintf("u%02d@example.org", i)
		u := l.create("users", l.token, map[string]any{"name": "u", "email": login,
			"credentials": map[string]string{"login": login, "password": "password-u"}})
		l.create("karanas", l.token, map[string]any{"name": "k", "owner": u["uuid"]})
	}
	l.sync("/v1/sync/all/reconcile")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, r := range l.sync("/v1/sync/all/reconcile") {
			if r["changed"] == true || r["error"] != nil {
				b.Fatalf("an unchanged reconcile did something: %v", r)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/50, "ms/user")
}
