package syncer_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/karana-project/karana/pkg/grafana"
	"github.com/karana-project/karana/pkg/syncer"
)

// TestPruneRemovesWhatNoRecordExplains: after bob and k2 are gone from the
// records (deleted while the API was down), a prune drops their InfluxDB
// users, bob's Grafana org and account, and nothing of ann's but k2.
func TestPruneRemovesWhatNoRecordExplains(t *testing.T) {
	e := newEnv(t)
	syncAll(t, e)
	ctx := context.Background()
	pruned, err := e.s.Prune(ctx, []string{ann.UUID}, []string{k1.UUID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pruned {
		got = append(got, p.Resource+" "+p.ID)
	}
	slices.Sort(got)
	want := []string{"karanas " + k2.UUID, "karanas " + k3.UUID, "users " + bob.UUID, "users " + bob.UUID}
	if !slices.Equal(got, want) {
		t.Errorf("pruned %v, want %v", got, want)
	}
	for _, c := range []struct{ user, pw string }{
		{syncer.KaranaInfluxUser(k2.UUID), k2.InfluxPassword}, {syncer.UserInfluxUser(bob.UUID), bob.InfluxPassword},
	} {
		if ok, _ := e.admin.Authenticate(ctx, c.user, c.pw); ok {
			t.Errorf("%s can still log in to influx after the prune", c.user)
		}
	}
	if ok, _ := e.admin.Authenticate(ctx, syncer.KaranaInfluxUser(k1.UUID), k1.InfluxPassword); !ok {
		t.Error("k1, still a record, lost its influx user")
	}
	g, _ := grafana.New(e.gURL, bob.Login, bob.InfluxPassword, nil)
	if _, err := g.CurrentUser(ctx); !errors.Is(err, grafana.ErrUnauthorized) {
		t.Errorf("bob's grafana account after the prune: %v, want gone", err)
	}
	if _, err := g.As(ann.Login, ann.InfluxPassword).CurrentUser(ctx); err != nil {
		t.Errorf("ann's grafana account after the prune: %v", err)
	}
	dbs, _ := e.admin.Databases(ctx)
	if !slices.Contains(dbs, syncer.DatabaseName(bob.UUID)) {
		t.Errorf("the prune dropped bob's database: %v", dbs)
	}
	if again, err := e.s.Prune(ctx, []string{ann.UUID}, []string{k1.UUID}); err != nil || len(again) != 0 {
		t.Errorf("second prune: %v %v, want nothing", again, err)
	}
}

func TestRemoveUserPurgesDataOnlyWhenAsked(t *testing.T) {
	e := newEnv(t)
	syncAll(t, e)
	ctx := context.Background()
	if _, err := e.s.RemoveUser(ctx, bob, false); err != nil {
		t.Fatal(err)
	}
	dbs, _ := e.admin.Databases(ctx)
	if !slices.Contains(dbs, syncer.DatabaseName(bob.UUID)) {
		t.Fatalf("removal without purge dropped the database")
	}
	if changed, err := e.s.RemoveUser(ctx, bob, true); err != nil || !changed {
		t.Fatalf("purge: changed=%v err=%v", changed, err)
	}
	dbs, _ = e.admin.Databases(ctx)
	if slices.Contains(dbs, syncer.DatabaseName(bob.UUID)) || !slices.Contains(dbs, syncer.DatabaseName(ann.UUID)) {
		t.Errorf("after purging bob: %v; want bob's database gone and ann's kept", dbs)
	}
}

// TestNoAccountTakeover: a user whose login (in another case) or email is
// another user's never gets that user's Grafana account.
func TestNoAccountTakeover(t *testing.T) {
	e := newEnv(t)
	syncAll(t, e)
	ctx := context.Background()
	admin, _ := grafana.New(e.gURL, "admin", "grafana-admin-pw", nil)
	annG, _ := admin.LookupUser(ctx, ann.Login)
	bobOut, err := e.s.Sync(ctx, bob, []syncer.Karana{k3})
	if err != nil || bobOut.GrafanaUserID == 0 || bobOut.GrafanaUserID == annG.ID {
		t.Fatalf("bob's sync: %+v %v", bobOut, err)
	}
	for name, evil := range map[string]func(u *syncer.User){
		"login in another case, bound": func(u *syncer.User) { u.Login = "ANN"; u.GrafanaUserID = bobOut.GrafanaUserID },
		"login in another case":        func(u *syncer.User) { u.Login = "ANN" },
		"email of ann, new login":      func(u *syncer.User) { u.Login = "bobby"; u.Email = ann.Email },
	} {
		u := bob
		evil(&u)
		_, err := e.s.Sync(ctx, u, []syncer.Karana{k3})
		var conflict *syncer.ConflictError
		if !errors.As(err, &conflict) {
			t.Errorf("%s: got %v, want a ConflictError", name, err)
		}
		after, _ := admin.UserByID(ctx, annG.ID)
		if after != annG {
			t.Errorf("%s: ann's account changed: %+v -> %+v", name, annG, after)
		}
		if _, err := admin.As(ann.Login, ann.InfluxPassword).CurrentUser(ctx); err != nil {
			t.Errorf("%s: ann's password no longer works: %v", name, err)
		}
	}
	// A renamed login with the binding is the same account, renamed.
	u := bob
	u.Login, u.GrafanaUserID = "robert", bobOut.GrafanaUserID
	out, err := e.s.Sync(ctx, u, []syncer.Karana{k3})
	if err != nil || out.GrafanaUserID != bobOut.GrafanaUserID {
		t.Errorf("bob renamed to robert: %+v %v; want the same account", out, err)
	}
}

// TestRemoveUserWithoutOrgDeletesTheBoundAccount: the org is gone already,
// the recorded account is still removed; without a record nothing is.
func TestRemoveUserWithoutOrgDeletesTheBoundAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out, err := e.s.Sync(ctx, ann, nil)
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := grafana.New(e.gURL, "admin", "grafana-admin-pw", nil)
	org, _ := admin.OrgByName(ctx, syncer.OrgName(tenant, ann.UUID))
	if err := admin.AddOrgUser(ctx, 1, ann.Login, "Viewer"); err != nil { // keep the account alive without its org
		t.Fatal(err)
	}
	if err := admin.DeleteOrg(ctx, org.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.RemoveUser(ctx, ann, false); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UserByID(ctx, out.GrafanaUserID); err != nil {
		t.Fatalf("without a recorded id the account must be left alone (it cannot be told to be ann's): %v", err)
	}
	u := ann
	u.GrafanaUserID = out.GrafanaUserID
	if changed, err := e.s.RemoveUser(ctx, u, false); err != nil || !changed {
		t.Fatalf("removal with the recorded id: changed=%v err=%v", changed, err)
	}
	if _, err := admin.UserByID(ctx, out.GrafanaUserID); !errors.Is(err, grafana.ErrNotFound) {
		t.Errorf("the recorded account after the removal: %v, want gone", err)
	}
}
