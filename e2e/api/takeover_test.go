package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/grafana"
	"github.com/karana-project/karana/pkg/syncer"
)

// TestNoAccountTakeoverThroughTheSync is the audit's case: a client sets
// its login to another user's in another case, then changes its email;
// the other user's Grafana account must stay theirs.
func TestNoAccountTakeoverThroughTheSync(t *testing.T) {
	l := startLive(t, nil)
	ctx := context.Background()
	alice, _ := l.user("alice")
	mallory, mt := l.user("mallory")
	l.sync("/v1/sync/all/db")
	mID := mallory["uuid"].(string)

	for _, login := range []string{"ALICE@example.org", " alice@example.org", "alice@example.org\t"} {
		code, out := l.call("PATCH", "/v1/users/"+mID, mt, map[string]any{"credentials": map[string]any{"login": login}})
		if want := map[bool]int{true: 409, false: 400}[login == "ALICE@example.org"]; code != want {
			t.Errorf("mallory taking the login %q: %d %v, want %d", login, code, out, want)
		}
	}
	if code, out := l.call("PATCH", "/v1/users/"+mID, mt, map[string]any{"email": "Alice@Example.org"}); code != 409 {
		t.Errorf("mallory taking alice's email in another case: %d %v, want 409", code, out)
	}
	if code, out := l.call("POST", "/v1/users/login", "", map[string]string{"user": "ALICE@EXAMPLE.ORG", "password": "password-alice"}); code != 200 {
		t.Errorf("alice logging in with her login in capitals: %d %v (logins compare case-insensitively)", code, out)
	}

	// Even if a record got there (an old dump), the sync refuses to adopt
	// alice's account for mallory: mallory's record is bound to her own.
	ga, _ := grafana.New(l.gURL, "admin", "grafana-admin-pw", nil)
	before, _ := ga.LookupUser(ctx, "alice@example.org")
	if code, out := l.call("PATCH", "/v1/users/"+mID, mt, map[string]any{"email": "mallory2@example.org"}); code != 200 {
		t.Fatalf("mallory changing her email: %d %v", code, out)
	}
	l.sync("/v1/sync/all/db")
	after, _ := ga.UserByID(ctx, before.ID)
	if after != before {
		t.Errorf("alice's grafana account changed: %+v -> %+v", before, after)
	}
	if _, err := ga.As("alice@example.org", alice["password_influx"].(string)).CurrentUser(ctx); err != nil {
		t.Errorf("alice's grafana password: %v", err)
	}
	orgs, _ := ga.UserOrgs(ctx, before.ID)
	if len(orgs) != 1 || orgs[0].Name != syncer.OrgName("SMNTYQIUB4YTC", alice["uuid"].(string)) {
		t.Errorf("alice's grafana orgs: %+v, want only her own", orgs)
	}
	mg, err := ga.LookupUser(ctx, "mallory2@example.org")
	if err != nil || mg.ID == before.ID {
		t.Errorf("mallory's grafana account: %+v %v; want her own, renamed", mg, err)
	}
}

// TestRegeneratePasswordInflux: owner or admin gets a new password_influx;
// after the next sync the new one works and the old one is refused.
func TestRegeneratePasswordInflux(t *testing.T) {
	l := startLive(t, nil)
	ctx := context.Background()
	alice, at := l.user("alice")
	_, bt := l.user("bob")
	k := l.create("karanas", at, map[string]any{"name": "k"})
	aID, kID := alice["uuid"].(string), k["uuid"].(string)
	l.sync("/v1/sync/all/db")
	db := syncer.DatabaseName(aID)

	if code, _ := l.call("POST", "/v1/karanas/"+kID+"/password_influx", bt, nil); code != http.StatusForbidden {
		t.Errorf("bob regenerating alice's karana's password: %d, want 403", code)
	}
	code, out := l.call("POST", "/v1/karanas/"+kID+"/password_influx", at, nil)
	if code != 200 {
		t.Fatalf("alice regenerating her karana's password: %d %v", code, out)
	}
	oldK, newK := k["password_influx"].(string), record(out)["password_influx"].(string)
	code, out = l.call("POST", "/v1/users/"+aID+"/password_influx", l.token, nil)
	if code != 200 {
		t.Fatalf("admin regenerating alice's password: %d %v", code, out)
	}
	oldU, newU := alice["password_influx"].(string), record(out)["password_influx"].(string)
	if oldK == newK || oldU == newU || len(newK) != 16 {
		t.Fatalf("passwords not regenerated: %q -> %q, %q -> %q", oldK, newK, oldU, newU)
	}
	l.sync("/v1/sync/all/db")
	kUser := syncer.KaranaInfluxUser(kID)
	if l.canWrite(kUser, oldK, db) || !l.canWrite(kUser, newK, db) {
		t.Error("after the sync the karana's old password must be refused and the new one work")
	}
	g, _ := grafana.New(l.gURL, "alice@example.org", oldU, nil)
	if _, err := g.CurrentUser(ctx); !errors.Is(err, grafana.ErrUnauthorized) {
		t.Errorf("alice's old password in grafana: %v, want 401", err)
	}
	if _, err := g.As("alice@example.org", newU).CurrentUser(ctx); err != nil {
		t.Errorf("alice's new password in grafana: %v", err)
	}
	if ok, _ := l.admin.Authenticate(ctx, syncer.UserInfluxUser(aID), oldU); ok {
		t.Error("alice's old influx password still works")
	}
	if code, out := l.call("POST", "/v1/users/"+aID+"/password_influx", at, map[string]any{}); code != 200 || strings.Contains(record(out)["password_influx"].(string), newU) {
		t.Errorf("alice regenerating her own: %d %v", code, out)
	}
}
