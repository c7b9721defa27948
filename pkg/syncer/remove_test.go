package syncer_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/karana-project/karana/pkg/grafana"
	"github.com/karana-project/karana/pkg/influx"
	"github.com/karana-project/karana/pkg/syncer"
)

func TestRemoveKaranaAndUser(t *testing.T) {
	e := newEnv(t)
	syncAll(t, e)
	ctx := context.Background()
	if err := e.s.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	if changed, err := e.s.RemoveKarana(ctx, k1.UUID); err != nil || !changed {
		t.Fatalf("removing k1: changed=%v err=%v", changed, err)
	}
	err := e.as(syncer.KaranaInfluxUser(k1.UUID), k1.InfluxPassword).Write(ctx, syncer.DatabaseName(ann.UUID), "temp c=1")
	if !influx.IsStatus(err, http.StatusUnauthorized) {
		t.Errorf("removed karana writing: got %v, want 401", err)
	}
	e.rec.take()
	if changed, err := e.s.RemoveKarana(ctx, k1.UUID); err != nil || changed {
		t.Errorf("removing k1 again: changed=%v err=%v", changed, err)
	}

	gone := ann
	gone.Karanas = []string{k1.UUID, k2.UUID}
	if changed, err := e.s.RemoveUser(ctx, gone, false); err != nil || !changed {
		t.Fatalf("removing ann: changed=%v err=%v", changed, err)
	}
	if ok, _ := e.admin.Authenticate(ctx, syncer.UserInfluxUser(ann.UUID), ann.InfluxPassword); ok {
		t.Error("removed user can still log in to influx")
	}
	if ok, _ := e.admin.Authenticate(ctx, syncer.KaranaInfluxUser(k2.UUID), k2.InfluxPassword); ok {
		t.Error("removed user's karana can still log in to influx")
	}
	g, _ := grafana.New(e.gURL, ann.Login, ann.InfluxPassword, nil)
	if _, err := g.CurrentUser(ctx); !errors.Is(err, grafana.ErrUnauthorized) {
		t.Errorf("removed user logging in to grafana: got %v, want 401", err)
	}
	admin := g.As("admin", "grafana-admin-pw")
	if _, err := admin.OrgByName(ctx, syncer.OrgName(tenant, ann.UUID)); !errors.Is(err, grafana.ErrNotFound) {
		t.Errorf("removed user's org: got %v, want ErrNotFound", err)
	}
	if muts := e.rec.take(); len(muts) != 4 {
		t.Errorf("removal requests = %q, want 2 influx drops (k1 is already gone), a grafana user and an org delete", muts)
	}
	if changed, err := e.s.RemoveUser(ctx, gone, false); err != nil || changed {
		t.Errorf("removing ann again: changed=%v err=%v", changed, err)
	}
	if muts := e.rec.take(); len(muts) != 0 {
		t.Errorf("second removal made mutating requests: %q", muts)
	}

	// Bob is untouched.
	if err := e.as(syncer.KaranaInfluxUser(k3.UUID), k3.InfluxPassword).Write(ctx, syncer.DatabaseName(bob.UUID), "temp c=1"); err != nil {
		t.Errorf("bob's karana after ann's removal: %v", err)
	}
	if changed, err := e.s.SyncUser(ctx, bob, []syncer.Karana{k3}); err != nil || changed {
		t.Errorf("bob's sync after ann's removal: changed=%v err=%v", changed, err)
	}
}
