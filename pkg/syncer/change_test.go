package syncer_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/grafana"
	"github.com/karana-project/karana/pkg/influx"
	"github.com/karana-project/karana/pkg/syncer"
)

func TestPasswordAndProfileChangesAreApplied(t *testing.T) {
	e := newEnv(t)
	syncAll(t, e)
	ctx := context.Background()
	u := ann
	u.InfluxPassword, u.Email, u.Name = "a-New-passw0rd", "ann@new.example", "Ann B."
	k := k1
	k.InfluxPassword = "k1-new-password"
	changed, err := e.s.SyncUser(ctx, u, []syncer.Karana{k, k2})
	if err != nil || !changed {
		t.Fatalf("sync with new passwords: changed=%v err=%v", changed, err)
	}
	for _, c := range []struct{ user, old, new string }{
		{syncer.UserInfluxUser(u.UUID), ann.InfluxPassword, u.InfluxPassword},
		{syncer.KaranaInfluxUser(k.UUID), k1.InfluxPassword, k.InfluxPassword},
	} {
		if ok, err := e.admin.Authenticate(ctx, c.user, c.new); !ok || err != nil {
			t.Errorf("influx user %s refuses its new password: %v", c.user, err)
		}
		if ok, _ := e.admin.Authenticate(ctx, c.user, c.old); ok {
			t.Errorf("influx user %s still accepts its old password", c.user)
		}
	}
	g, _ := grafana.New(e.gURL, u.Login, u.InfluxPassword, nil)
	me, err := g.CurrentUser(ctx)
	if err != nil || me.Email != u.Email || me.Name != u.Name {
		t.Fatalf("grafana user after the change = %+v, %v", me, err)
	}
	if _, err := g.As(u.Login, ann.InfluxPassword).CurrentUser(ctx); !errors.Is(err, grafana.ErrUnauthorized) {
		t.Errorf("grafana still accepts the old password: %v", err)
	}
	for _, ds := range e.grafana.Snapshot().DataSources {
		if ds.User == syncer.UserInfluxUser(u.UUID) && ds.SecureJSONData["password"] != u.InfluxPassword {
			t.Errorf("data source still holds the old password")
		}
	}
	if changed, err := e.s.SyncUser(ctx, u, []syncer.Karana{k, k2}); err != nil || changed {
		t.Errorf("repeat: changed=%v err=%v", changed, err)
	}
}

func TestKaranaMovedToAnotherOwner(t *testing.T) {
	e := newEnv(t)
	syncAll(t, e)
	ctx := context.Background()
	moved := k1
	moved.Owner = bob.UUID
	if changed, err := e.s.SyncKarana(ctx, moved); err != nil || !changed {
		t.Fatalf("moving the karana: changed=%v err=%v", changed, err)
	}
	kc := e.as(syncer.KaranaInfluxUser(k1.UUID), k1.InfluxPassword)
	if err := kc.Write(ctx, syncer.DatabaseName(bob.UUID), "temp c=1"); err != nil {
		t.Errorf("moved karana writing into its new owner's db: %v", err)
	}
	if err := kc.Write(ctx, syncer.DatabaseName(ann.UUID), "temp c=1"); !influx.IsStatus(err, http.StatusForbidden) {
		t.Errorf("moved karana writing into its old owner's db: got %v, want 403", err)
	}
}

func TestDriftIsRepaired(t *testing.T) {
	e := newEnv(t)
	syncAll(t, e)
	ctx := context.Background()
	kuser := syncer.KaranaInfluxUser(k2.UUID)
	for _, st := range []influx.Statement{
		influx.Grant(influx.All, syncer.DatabaseName(bob.UUID), kuser),  // a grant too many
		influx.Grant(influx.Read, syncer.DatabaseName(ann.UUID), kuser), // the wrong privilege
		influx.Grant(influx.All, syncer.DatabaseName(ann.UUID), syncer.UserInfluxUser(ann.UUID)),
	} {
		if err := e.admin.Exec(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	admin, _ := grafana.New(e.gURL, "admin", "grafana-admin-pw", nil)
	gu, err := admin.LookupUser(ctx, ann.Login)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.AddOrgUser(ctx, 1, ann.Login, "Viewer"); err != nil { // back in org 1
		t.Fatal(err)
	}
	org, _ := admin.OrgByName(ctx, syncer.OrgName(tenant, ann.UUID))
	if err := admin.SetOrgUserRole(ctx, org.ID, gu.ID, "Viewer"); err != nil {
		t.Fatal(err)
	}
	ds, _ := admin.DataSourceByName(ctx, org.ID, syncer.DataSourceName)
	ds.URL = "http://elsewhere:8086"
	if err := admin.UpdateDataSource(ctx, org.ID, ds.UID, ds); err != nil {
		t.Fatal(err)
	}

	if changed, err := e.s.SyncUser(ctx, ann, []syncer.Karana{k1, k2}); err != nil || !changed {
		t.Fatalf("sync over drift: changed=%v err=%v", changed, err)
	}
	grants, _ := e.admin.Grants(ctx, kuser)
	if len(grants) != 1 || grants[syncer.DatabaseName(ann.UUID)] != influx.Write {
		t.Errorf("karana grants after repair = %v, want only WRITE on ann's db", grants)
	}
	grants, _ = e.admin.Grants(ctx, syncer.UserInfluxUser(ann.UUID))
	if len(grants) != 1 || grants[syncer.DatabaseName(ann.UUID)] != influx.Read {
		t.Errorf("ann's grants after repair = %v, want only READ on her db", grants)
	}
	orgs, _ := admin.UserOrgs(ctx, gu.ID)
	if len(orgs) != 1 || orgs[0].OrgID != org.ID || orgs[0].Role != syncer.GrafanaRole {
		t.Errorf("ann's orgs after repair = %+v", orgs)
	}
	if ds, _ := admin.DataSourceByName(ctx, org.ID, syncer.DataSourceName); ds.URL != e.influx.URL {
		t.Errorf("data source url after repair = %s", ds.URL)
	}
}

func TestHostileInputStaysData(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := syncer.User{UUID: "0f0e0d0c-0b0a-4908-8706-050403020100", Name: `Robert"); DROP`,
		Email: "r@x.org", Login: `bobby'tables"`, InfluxPassword: `p'w" WITH ALL PRIVILEGES; --\` + "\n"}
	k := syncer.Karana{UUID: "0a0e0d0c-0b0a-4908-8706-050403020100", Name: `k"; DROP DATABASE "x`, Owner: u.UUID,
		InfluxPassword: `'; DROP USER "root"; '` + `\'`}
	if _, err := e.s.SyncUser(ctx, u, []syncer.Karana{k}); err != nil {
		t.Fatal(err)
	}
	users, _ := e.admin.Users(ctx)
	for _, x := range users {
		if x.Admin && x.Name != e.influx.AdminUser {
			t.Errorf("influx user %s became admin", x.Name)
		}
	}
	if len(users) != 3 {
		t.Errorf("influx users = %v, want root, the user and the karana", users)
	}
	if ok, err := e.admin.Authenticate(ctx, syncer.KaranaInfluxUser(k.UUID), k.InfluxPassword); !ok {
		t.Errorf("karana cannot log in with its exact password: %v", err)
	}
	if ok, err := e.admin.Authenticate(ctx, syncer.UserInfluxUser(u.UUID), u.InfluxPassword); !ok {
		t.Errorf("user cannot log in with its exact password: %v", err)
	}
	if changed, err := e.s.SyncUser(ctx, u, []syncer.Karana{k}); err != nil || changed {
		t.Errorf("repeat: changed=%v err=%v", changed, err)
	}
}

func TestBadInputIsRefusedBeforeAnyRequest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name string
		run  func() (bool, error)
		want string
	}{
		{"bad user uuid", func() (bool, error) {
			u := ann
			u.UUID = "not-a-uuid"
			return e.s.SyncUser(ctx, u, nil)
		}, `uuid "not-a-uuid" is not a UUID`},
		{"short password", func() (bool, error) {
			u := ann
			u.InfluxPassword = "short"
			return e.s.SyncUser(ctx, u, nil)
		}, "shorter than 8"},
		{"grafana admin login", func() (bool, error) {
			u := ann
			u.Login = "Admin"
			return e.s.SyncUser(ctx, u, nil)
		}, "refusing"},
		{"karana without owner", func() (bool, error) {
			k := k1
			k.Owner = ""
			return e.s.SyncKarana(ctx, k)
		}, `owner "" is not a UUID`},
	}
	for _, tt := range tests {
		_, err := tt.run()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	if muts := e.rec.take(); len(muts) != 0 {
		t.Errorf("refused input still made mutating requests: %q", muts)
	}
	if _, err := syncer.New(syncer.Config{InfluxURL: "http://x"}); err == nil || !strings.Contains(err.Error(), "GrafanaURL") {
		t.Errorf("New with missing fields: %v", err)
	}
}

func TestEmptyOwnerMeansTheUserAndInputIsNotModified(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	k := k1
	k.Owner = ""
	ks := []syncer.Karana{k}
	if _, err := e.s.SyncUser(ctx, ann, ks); err != nil {
		t.Fatal(err)
	}
	if ks[0].Owner != "" {
		t.Errorf("SyncUser changed the caller's karana: owner %q", ks[0].Owner)
	}
	kc := e.as(syncer.KaranaInfluxUser(k.UUID), k.InfluxPassword)
	if err := kc.Write(ctx, syncer.DatabaseName(ann.UUID), "temp c=1"); err != nil {
		t.Errorf("karana with an empty owner writing into the user's db: %v", err)
	}
}

// When an object appears between the check and the act (another sync, an
// operator), the 409/412 answer is taken as "exists": look up, verify, fix.
func TestConflictsAreExistsThenVerify(t *testing.T) {
	e := newEnv(t)
	syncAll(t, e)
	ctx := context.Background()
	admin, _ := grafana.New(e.gURL, "admin", "grafana-admin-pw", nil)
	gu, _ := admin.LookupUser(ctx, ann.Login)
	if err := admin.SetUserPassword(ctx, gu.ID, "someone-else-set-this"); err != nil {
		t.Fatal(err)
	}
	// The lookups claim nothing exists; the creates then meet the real objects.
	e.grafana.Fail(http.MethodGet, "/api/orgs/name/", http.StatusNotFound, 1)
	e.grafana.Fail(http.MethodGet, "/api/users/lookup", http.StatusNotFound, 2)
	e.grafana.Fail(http.MethodGet, "/api/datasources/name/", http.StatusNotFound, 1)
	e.grafana.ResetRequests()
	if changed, err := e.s.SyncUser(ctx, ann, []syncer.Karana{k1, k2}); err != nil || !changed {
		t.Fatalf("sync through conflicts: changed=%v err=%v", changed, err)
	}
	codes := map[int]int{}
	for _, r := range e.grafana.Requests() {
		codes[r.Status]++
	}
	if codes[http.StatusConflict] != 2 || codes[http.StatusPreconditionFailed] != 1 {
		t.Errorf("answers = %v, want two 409 (org, data source) and one 412 (user)", codes)
	}
	if _, err := admin.As(ann.Login, ann.InfluxPassword).CurrentUser(ctx); err != nil {
		t.Errorf("password not verified and fixed after the 412: %v", err)
	}
	if changed, err := e.s.SyncUser(ctx, ann, []syncer.Karana{k1, k2}); err != nil || changed {
		t.Errorf("next sync: changed=%v err=%v", changed, err)
	}
}

// An InfluxDB user created between SHOW USERS and CREATE USER, with another
// password, answers "user already exists": the sync sets the password.
func TestInfluxUserCreatedMeanwhile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	name := syncer.KaranaInfluxUser(k1.UUID)
	e.rec.before = func(q string) {
		if strings.HasPrefix(q, `CREATE USER "`+name+`"`) {
			e.rec.before = nil
			if err := e.admin.Exec(ctx, influx.CreateUser(name, "an-intruders-password", false)); err != nil {
				t.Error(err)
			}
		}
	}
	if _, err := e.s.SyncKarana(ctx, k1); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.admin.Authenticate(ctx, name, k1.InfluxPassword); !ok {
		t.Errorf("karana's password not set after 'user already exists': %v", err)
	}
	if muts := e.rec.take(); !slices.ContainsFunc(muts, func(m string) bool { return strings.HasPrefix(m, "influx SET PASSWORD") }) {
		t.Errorf("requests %q, want a SET PASSWORD after the failed CREATE USER", muts)
	}
}

func TestKaranaOfAnotherOwnerIsReportedNotSynced(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	changed, err := e.s.SyncUser(ctx, ann, []syncer.Karana{k1, k3})
	if err == nil || !strings.Contains(err.Error(), "karana "+k3.UUID+" (owner "+bob.UUID+")") {
		t.Fatalf("got %v, want an error naming k3 and its owner", err)
	}
	if !changed {
		t.Error("the rest of the user was not synced")
	}
	if err := e.as(syncer.KaranaInfluxUser(k1.UUID), k1.InfluxPassword).Write(ctx, syncer.DatabaseName(ann.UUID), "temp c=1"); err != nil {
		t.Errorf("ann's own karana: %v", err)
	}
	users, _ := e.admin.Users(ctx)
	for _, u := range users {
		if u.Name == syncer.KaranaInfluxUser(k3.UUID) {
			t.Error("bob's karana was synced as part of ann")
		}
	}
}
