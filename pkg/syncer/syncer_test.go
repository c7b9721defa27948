package syncer_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/karana-project/karana/e2e/grafanastandin"
	"github.com/karana-project/karana/pkg/grafana"
	"github.com/karana-project/karana/pkg/influx"
	"github.com/karana-project/karana/pkg/syncer"
)

var (
	ann = syncer.User{UUID: "4e1fcc06-7ccc-4b81-be93-e7bae73daf2a", Name: "Ann", Email: "ann@example.org",
		Login: "ann", Role: "client", InfluxPassword: "UUTQAMMMLZoZ3RTK"}
	bob = syncer.User{UUID: "9b2e61a4-3d0c-4a5e-8f7a-0c1d2e3f4a5b", Name: "Bob", Email: "bob@example.org",
		Login: "bob", Role: "client", InfluxPassword: "bobs-Read-0nly-pw"}
	k1 = syncer.Karana{UUID: "11111111-2222-4333-8444-555555555555", Name: "garden", Owner: ann.UUID, InfluxPassword: "k1-Write-pw-xyz"}
	k2 = syncer.Karana{UUID: "21111111-2222-4333-8444-555555555555", Name: "cellar", Owner: ann.UUID, InfluxPassword: "k2-Write-pw-xyz"}
	k3 = syncer.Karana{UUID: "31111111-2222-4333-8444-555555555555", Name: "roof", Owner: bob.UUID, InfluxPassword: "k3-Write-pw-xyz"}
)

func syncAll(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	if changed, err := e.s.SyncUser(ctx, ann, []syncer.Karana{k1, k2}); err != nil || !changed {
		t.Fatalf("first sync of ann: changed=%v err=%v; want a change and no error", changed, err)
	}
	if changed, err := e.s.SyncUser(ctx, bob, []syncer.Karana{k3}); err != nil || !changed {
		t.Fatalf("first sync of bob: changed=%v err=%v", changed, err)
	}
}

func TestKaranasWriteOnlyToTheirOwnersDatabase(t *testing.T) {
	e := newEnv(t)
	syncAll(t, e)
	ctx := context.Background()
	annDB, bobDB := syncer.DatabaseName(ann.UUID), syncer.DatabaseName(bob.UUID)

	for _, k := range []syncer.Karana{k1, k2} {
		kc := e.as(syncer.KaranaInfluxUser(k.UUID), k.InfluxPassword)
		if err := kc.Write(ctx, annDB, "temp,karana="+k.Name+" c=21.5"); err != nil {
			t.Errorf("karana %s writing into its owner's db: %v", k.Name, err)
		}
		if err := kc.Write(ctx, bobDB, "temp c=1"); !influx.IsStatus(err, http.StatusForbidden) {
			t.Errorf("karana %s writing into another user's db: got %v, want 403", k.Name, err)
		}
		if _, err := kc.QueryDB(ctx, annDB, selectAll()); !influx.IsStatus(err, http.StatusForbidden) {
			t.Errorf("karana %s reading: got %v, want 403 (write only)", k.Name, err)
		}
	}
	if err := e.as(syncer.KaranaInfluxUser(k1.UUID), "wrong-password").Write(ctx, annDB, "temp c=1"); !influx.IsStatus(err, http.StatusUnauthorized) {
		t.Errorf("karana with a wrong password: got %v, want 401", err)
	}

	reader := e.as(syncer.UserInfluxUser(ann.UUID), ann.InfluxPassword)
	series, err := reader.QueryDB(ctx, annDB, selectAll())
	if err != nil || len(series) != 1 || len(series[0].Values) != 2 {
		t.Fatalf("ann reading her db: %v, %v; want the 2 points her karanas wrote", series, err)
	}
	if _, err := reader.QueryDB(ctx, bobDB, selectAll()); !influx.IsStatus(err, http.StatusForbidden) {
		t.Errorf("ann reading bob's db: got %v, want 403", err)
	}
	if err := reader.Write(ctx, annDB, "temp c=0"); !influx.IsStatus(err, http.StatusForbidden) {
		t.Errorf("ann writing into her db: got %v, want 403 (read only)", err)
	}
}

func selectAll() influx.Statement {
	return influx.Statement{Text: `SELECT * FROM "temp"`, Redacted: `SELECT * FROM "temp"`}
}

func TestGrafanaState(t *testing.T) {
	e := newEnv(t)
	syncAll(t, e)
	st := e.grafana.Snapshot()

	var org *grafanastandin.Org
	for _, o := range st.Orgs {
		if o.Name == syncer.OrgName(tenant, ann.UUID) {
			org = o
		}
	}
	if org == nil {
		t.Fatalf("no org %q in %v", syncer.OrgName(tenant, ann.UUID), st.Orgs)
	}
	var user *grafanastandin.User
	for _, u := range st.Users {
		if u.Login == ann.Login {
			user = u
		}
	}
	if user == nil || user.Email != ann.Email || user.Name != ann.Name || user.IsAdmin {
		t.Fatalf("grafana user = %+v, want ann's login, email and name, not admin", user)
	}
	var roles []string
	for _, m := range st.Members {
		if m.UserID == user.ID {
			roles = append(roles, st.Orgs[m.OrgID].Name+"="+m.Role)
		}
	}
	if want := org.Name + "=" + syncer.GrafanaRole; len(roles) != 1 || roles[0] != want {
		t.Errorf("ann's memberships = %v, want only %s (not org 1)", roles, want)
	}
	var dss []*grafanastandin.DataSource
	for _, ds := range st.DataSources {
		if ds.OrgID == org.ID {
			dss = append(dss, ds)
		}
	}
	if len(dss) != 1 {
		t.Fatalf("data sources in ann's org = %v, want 1", dss)
	}
	ds := dss[0]
	db := syncer.DatabaseName(ann.UUID)
	if ds.Type != "influxdb" || ds.Access != "proxy" || ds.URL != e.influx.URL || ds.Database != db ||
		ds.JSONData["dbName"] != db || ds.JSONData["httpMode"] != "POST" || !ds.IsDefault ||
		ds.User != syncer.UserInfluxUser(ann.UUID) || ds.SecureJSONData["password"] != ann.InfluxPassword {
		t.Errorf("data source = %+v, want influxdb proxy to %s db %s with ann's read-only credentials", ds, e.influx.URL, db)
	}

	// Ann logs in with her password and cannot reach bob's org.
	g, _ := grafana.New(e.gURL, ann.Login, ann.InfluxPassword, nil)
	ctx := context.Background()
	if me, err := g.CurrentUser(ctx); err != nil || me.OrgID != org.ID {
		t.Errorf("ann's /api/user = %+v, %v; want her current org %d", me, err, org.ID)
	}
	admin, _ := grafana.New(e.gURL, "admin", "grafana-admin-pw", nil)
	bobOrg, err := admin.OrgByName(ctx, syncer.OrgName(tenant, bob.UUID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.DataSourceByName(ctx, bobOrg.ID, syncer.DataSourceName); !errors.Is(err, grafana.ErrUnauthorized) {
		t.Errorf("ann acting in bob's org: got %v, want 401", err)
	}
}

func TestSecondSyncChangesNothing(t *testing.T) {
	e := newEnv(t)
	syncAll(t, e)
	e.rec.take()
	e.grafana.ResetRequests()
	before := e.influxState(t)
	gBefore, _ := grafanastandin.MarshalState(e.grafana.Snapshot())
	ctx := context.Background()

	for _, tc := range []struct {
		u  syncer.User
		ks []syncer.Karana
	}{{ann, []syncer.Karana{k1, k2}}, {bob, []syncer.Karana{k3}}} {
		if changed, err := e.s.SyncUser(ctx, tc.u, tc.ks); err != nil || changed {
			t.Errorf("second sync of %s: changed=%v err=%v; want no change", tc.u.Login, changed, err)
		}
	}
	if changed, err := e.s.SyncKarana(ctx, k1); err != nil || changed {
		t.Errorf("second sync of karana: changed=%v err=%v", changed, err)
	}
	if muts := e.rec.take(); len(muts) != 0 {
		t.Errorf("second sync made mutating requests: %q", muts)
	}
	for _, r := range e.grafana.Requests() {
		if r.Mutating() {
			t.Errorf("the grafana stand-in saw a mutating request: %+v", r)
		}
	}
	if after := e.influxState(t); after != before {
		t.Errorf("influx state changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if gAfter, _ := grafanastandin.MarshalState(e.grafana.Snapshot()); string(gAfter) != string(gBefore) {
		t.Errorf("grafana state changed by the second sync")
	}
}

func TestGrafanaFailureIsReportedAndTheNextSyncCompletes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.grafana.Fail(http.MethodPost, "/api/datasources", http.StatusInternalServerError, 1)
	changed, err := e.s.SyncUser(ctx, ann, []syncer.Karana{k1})
	if err == nil || !changed {
		t.Fatalf("sync with grafana failing: changed=%v err=%v; want an error after changes", changed, err)
	}
	for _, want := range []string{ann.UUID, "data source", "500", "POST /api/datasources"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if changed, err := e.s.SyncUser(ctx, ann, []syncer.Karana{k1}); err != nil || !changed {
		t.Fatalf("sync after the failure: changed=%v err=%v; want it to finish the work", changed, err)
	}
	if changed, err := e.s.SyncUser(ctx, ann, []syncer.Karana{k1}); err != nil || changed {
		t.Fatalf("third sync: changed=%v err=%v; want nothing left to do", changed, err)
	}
}
