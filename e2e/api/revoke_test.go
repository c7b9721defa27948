package api_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/api/config"
	"github.com/karana-project/karana/pkg/grafana"
	"github.com/karana-project/karana/pkg/influx"
	"github.com/karana-project/karana/pkg/syncer"
)

func state(res []map[string]any, resource, id string) string {
	for _, r := range res {
		if r["resource"] == resource && r["id"] == id {
			s, _ := r["state"].(string)
			return s
		}
	}
	return "absent"
}

// TestDeletionRevokes: a deleted karana's and a deleted user's credentials
// stop working at the next sync, which reports them; a failed removal is
// reported pending and retried, also after a restart; the user's data is
// kept unless purge=true.
func TestDeletionRevokes(t *testing.T) {
	l := startLive(t, nil)
	ctx := context.Background()
	alice, at := l.user("alice")
	bob, _ := l.user("bob")
	k := l.create("karanas", at, map[string]any{"name": "k"})
	aID, bID, kID := alice["uuid"].(string), bob["uuid"].(string), k["uuid"].(string)
	aDB := syncer.DatabaseName(aID)
	l.sync("/v1/sync/all/db")
	kUser, kPW := syncer.KaranaInfluxUser(kID), k["password_influx"].(string)
	if !l.canWrite(kUser, kPW, aDB) {
		t.Fatal("the karana cannot write after the first sync")
	}

	if code, out := l.call("DELETE", "/v1/karanas/"+kID, at, nil); code != 200 {
		t.Fatalf("alice deleting her karana: %d %v", code, out)
	}
	res := l.sync("/v1/sync/all/db")
	if st := state(res, "karanas", kID); st != "removed" {
		t.Errorf("the deleted karana in the sync response: %q, want removed (%v)", st, res)
	}
	if l.canWrite(kUser, kPW, aDB) {
		t.Error("a deleted karana can still write after the sync")
	}

	// Grafana fails once: the user's removal is pending, also across a
	// restart, and the next sync finishes it.
	l.gs.Fail(http.MethodDelete, "/api/orgs/", http.StatusInternalServerError, 1)
	if code, out := l.call("DELETE", "/v1/users/"+aID, l.token, nil); code != 200 {
		t.Fatalf("deleting alice: %d %v", code, out)
	}
	res = l.sync("/v1/sync/all/db")
	if st := state(res, "users", aID); st != "pending_removal" {
		t.Errorf("alice's failed removal: %q, want pending_removal (%v)", st, res)
	}
	l.restart()
	res = l.sync("/v1/sync/all/db")
	if st := state(res, "users", aID); st != "removed" {
		t.Errorf("alice's removal after a restart: %q, want removed (%v)", st, res)
	}
	if ok, _ := l.admin.Authenticate(ctx, syncer.UserInfluxUser(aID), alice["password_influx"].(string)); ok {
		t.Error("a deleted user can still read InfluxDB")
	}
	g, _ := grafana.New(l.gURL, "alice@example.org", alice["password_influx"].(string), nil)
	if _, err := g.CurrentUser(ctx); !errors.Is(err, grafana.ErrUnauthorized) {
		t.Errorf("a deleted user logging in to Grafana: %v, want 401", err)
	}
	if _, err := g.As("admin", "grafana-admin-pw").OrgByName(ctx, syncer.OrgName("SMNTYQIUB4YTC", aID)); !errors.Is(err, grafana.ErrNotFound) {
		t.Errorf("a deleted user's org: %v, want gone", err)
	}
	dbs, _ := l.admin.Databases(ctx)
	if !slices.Contains(dbs, aDB) {
		t.Errorf("the deleted user's database was dropped without purge: %v", dbs)
	}
	if res = l.sync("/v1/sync/all/db"); len(res) != 0 {
		t.Errorf("a sync after the removals: %v, want nothing", res)
	}

	if code, out := l.call("DELETE", "/v1/users/"+bID+"?purge=yes", l.token, nil); code != 400 {
		t.Errorf("purge=yes: %d %v, want 400", code, out)
	}
	if code, out := l.call("DELETE", "/v1/users/"+bID+"?purge=true", l.token, nil); code != 200 {
		t.Fatalf("deleting bob with purge: %d %v", code, out)
	}
	l.sync("/v1/sync/all/db")
	dbs, _ = l.admin.Databases(ctx)
	if slices.Contains(dbs, syncer.DatabaseName(bID)) {
		t.Errorf("purge=true kept bob's database: %v", dbs)
	}
}

// TestReconcileAfterAServiceIsReplaced: InfluxDB and Grafana lose what
// the sync made (a recreated container); the sync still thinks all is in
// sync, the reconcile restores it and removes orphans.
func TestReconcileAfterAServiceIsReplaced(t *testing.T) {
	l := startLive(t, nil)
	ctx := context.Background()
	alice, at := l.user("alice")
	k := l.create("karanas", at, map[string]any{"name": "k"})
	aID, kID := alice["uuid"].(string), k["uuid"].(string)
	l.sync("/v1/sync/all/db")
	kUser, kPW := syncer.KaranaInfluxUser(kID), k["password_influx"].(string)

	wipe(t, l, aID, kID)
	if res := l.sync("/v1/sync/all/db"); len(res) != 0 || l.canWrite(kUser, kPW, syncer.DatabaseName(aID)) {
		t.Fatalf("the plain sync after the wipe: %v; want nothing done (that is the bug a reconcile fixes)", res)
	}
	_, client := l.user("carol")
	if code, _ := l.call("POST", "/v1/sync/all/reconcile", client, nil); code != http.StatusForbidden {
		t.Errorf("a client's reconcile: %d, want 403", code)
	}
	orphan := "k_0123456789abcdef0123456789abcdef"
	if err := l.admin.Exec(ctx, influx.CreateUser(orphan, "orphan-pw-123", false)); err != nil {
		t.Fatal(err)
	}
	res := l.sync("/v1/sync/all/reconcile")
	if st := state(res, "karanas", kID); st != "synced" {
		t.Errorf("reconcile: karana %q, want synced (%v)", st, res)
	}
	if st := state(res, "karanas", "01234567-89ab-cdef-0123-456789abcdef"); st != "removed" {
		t.Errorf("reconcile: the orphan influx user %q, want removed (%v)", st, res)
	}
	if !l.canWrite(kUser, kPW, syncer.DatabaseName(aID)) {
		t.Error("the karana cannot write after the reconcile")
	}
	g, _ := grafana.New(l.gURL, "alice@example.org", alice["password_influx"].(string), nil)
	if _, err := g.DashboardByUID(ctx, 0, syncer.DashboardUID(aID)); err != nil {
		t.Errorf("alice's dashboard after the reconcile: %v", err)
	}
	if users, _ := l.admin.Users(ctx); slices.ContainsFunc(users, func(u influx.User) bool { return u.Name == orphan }) {
		t.Error("the orphan influx user survived the reconcile")
	}
	for _, r := range l.sync("/v1/sync/all/reconcile") {
		if r["changed"] == true {
			t.Errorf("a second reconcile changed %v", r)
		}
	}
}

// wipe drops what the sync made for alice and her karana, as a recreated
// InfluxDB and Grafana would have lost it.
func wipe(t *testing.T, l *live, aID, kID string) {
	t.Helper()
	ctx := context.Background()
	for _, u := range []string{syncer.KaranaInfluxUser(kID), syncer.UserInfluxUser(aID)} {
		if err := l.admin.DropUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	ga, _ := grafana.New(l.gURL, "admin", "grafana-admin-pw", nil)
	org, err := ga.OrgByName(ctx, syncer.OrgName("SMNTYQIUB4YTC", aID))
	if err != nil {
		t.Fatal(err)
	}
	gu, _ := ga.LookupUser(ctx, "alice@example.org")
	if err := ga.DeleteUser(ctx, gu.ID); err != nil {
		t.Fatal(err)
	}
	if err := ga.DeleteOrg(ctx, org.ID); err != nil {
		t.Fatal(err)
	}
}

// TestPeriodicReconcile: with sync.reconcile_interval set, the server
// repairs a wiped service by itself.
func TestPeriodicReconcile(t *testing.T) {
	l := startLive(t, func(c *config.Config) { c.Sync.ReconcileInterval = 300 * time.Millisecond })
	alice, at := l.user("alice")
	k := l.create("karanas", at, map[string]any{"name": "k"})
	aID, kID := alice["uuid"].(string), k["uuid"].(string)
	l.sync("/v1/sync/all/db")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.app.Serve(ctx, "127.0.0.1:0", func(net.Addr) {}) }()
	defer func() { cancel(); <-done }()
	wipe(t, l, aID, kID)
	deadline := time.Now().Add(20 * time.Second)
	for !l.canWrite(syncer.KaranaInfluxUser(kID), k["password_influx"].(string), syncer.DatabaseName(aID)) {
		if time.Now().After(deadline) {
			t.Fatal("the karana still cannot write 20 s after the wipe: no periodic reconcile")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
