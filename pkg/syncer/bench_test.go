package syncer_test

import (
	"context"
	"testing"

	"github.com/karana-project/karana/pkg/syncer"
)

// BenchmarkSyncUserUnchanged is the steady state: a user with two karanas,
// already in sync, synced again (reads only).
func BenchmarkSyncUserUnchanged(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	if _, err := e.s.SyncUser(ctx, ann, []syncer.Karana{k1, k2}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if changed, err := e.s.SyncUser(ctx, ann, []syncer.Karana{k1, k2}); err != nil || changed {
			b.Fatalf("changed=%v err=%v", changed, err)
		}
	}
}
