package store

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"sort"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/api/history"
)

// BenchmarkApply10k: the storage part of a create at 10,000 stored users
// (dump rewritten and fsynced, git committing in the background), without
// the password hash. Reports p50 and p99.
func BenchmarkApply10k(b *testing.B) {
	dir := b.TempDir()
	t := &testing.T{}
	s := open(t, dir)
	for i := 0; i < 10000; i++ {
		e, err := newEntry(s.tables["users"].def, id(i), user(id(i), fmt.Sprintf("u%d@x.org", i)), 0)
		if err != nil {
			b.Fatal(err)
		}
		s.tables["users"].apply(id(i), e)
	}
	// The records went in without Apply: the empty dump Open wrote for the
	// fresh folder no longer describes them, so build this one from scratch.
	s.cur = nil
	if err := s.writeDump(nil, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := exec.LookPath("git"); err == nil {
		g, err := history.Open(context.Background(), dir, "", []string{TableFile, StateFile}, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		defer g.Close(context.Background())
		g.SetRelease(s.Release)
		s.SetCommitter(g)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 100000 + i
		start := time.Now()
		if err := s.Apply("create", Change{Res: "users", ID: id(n), Rec: user(id(n), fmt.Sprintf("n%d@x.org", n))}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
