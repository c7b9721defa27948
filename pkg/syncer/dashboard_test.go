package syncer_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/grafana"
	"github.com/karana-project/karana/pkg/syncer"
)

// panels reads the user's dashboard as the user would (their own Grafana
// login) and returns "title=karana uuid" per panel, in order.
func panels(t *testing.T, e *env, u syncer.User) []string {
	t.Helper()
	g, _ := grafana.New(e.gURL, u.Login, u.InfluxPassword, nil)
	d, err := g.DashboardByUID(context.Background(), 0, syncer.DashboardUID(u.UUID))
	if err != nil {
		t.Fatalf("%s reading their dashboard: %v", u.Login, err)
	}
	var out []string
	list, _ := d.Dashboard["panels"].([]any)
	for _, p := range list {
		pm := p.(map[string]any)
		target := pm["targets"].([]any)[0].(map[string]any)
		desc := pm["description"].(string)
		if !strings.Contains(target["query"].(string), strings.TrimPrefix(desc, "karana ")) {
			t.Errorf("panel %v: the query does not select the karana it describes", pm)
		}
		out = append(out, pm["title"].(string)+"="+strings.TrimPrefix(desc, "karana "))
	}
	return out
}

func TestDashboardFollowsTheKaranas(t *testing.T) {
	e := newEnv(t)
	syncAll(t, e)
	ctx := context.Background()
	check := func(step string, u syncer.User, want ...string) {
		t.Helper()
		if got := panels(t, e, u); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: %s's panels = %v, want %v", step, u.Login, got, want)
		}
	}
	check("first sync", ann, "cellar="+k2.UUID, "garden="+k1.UUID)
	check("first sync", bob, "roof="+k3.UUID)

	e.rec.take()
	if changed, err := e.s.SyncUser(ctx, ann, []syncer.Karana{k1, k2}); err != nil || changed {
		t.Fatalf("unchanged sync: changed=%v err=%v", changed, err)
	}
	if muts := e.rec.take(); len(muts) != 0 {
		t.Fatalf("unchanged sync wrote: %v", muts)
	}

	renamed := k1
	renamed.Name = "allotment"
	mustChange(t, e, ann, renamed, k2)
	check("rename", ann, "allotment="+k1.UUID, "cellar="+k2.UUID)

	moved := k2
	moved.Owner = bob.UUID
	mustChange(t, e, bob, k3, moved)
	mustChange(t, e, ann, renamed)
	check("move", ann, "allotment="+k1.UUID)
	check("move", bob, "cellar="+k2.UUID, "roof="+k3.UUID)

	mustChange(t, e, ann)
	check("delete", ann)

	// Someone deletes the dashboard in Grafana: the next sync restores it.
	admin, _ := grafana.New(e.gURL, "admin", "grafana-admin-pw", nil)
	org, _ := admin.OrgByName(ctx, syncer.OrgName(tenant, bob.UUID))
	req, _ := http.NewRequest("DELETE", e.gURL+"/api/dashboards/uid/"+syncer.DashboardUID(bob.UUID), nil)
	req.SetBasicAuth("admin", "grafana-admin-pw")
	req.Header.Set("X-Grafana-Org-Id", jsonNum(org.ID))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("deleting bob's dashboard: %v %v", resp, err)
	}
	mustChange(t, e, bob, k3, moved)
	check("restore", bob, "cellar="+k2.UUID, "roof="+k3.UUID)
}

func mustChange(t *testing.T, e *env, u syncer.User, ks ...syncer.Karana) {
	t.Helper()
	if changed, err := e.s.SyncUser(context.Background(), u, ks); err != nil || !changed {
		t.Fatalf("sync of %s: changed=%v err=%v; want a change", u.Login, changed, err)
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestQueryThroughTheDataSourceProxy: what the user sees in Grafana is
// what their karana wrote, through the panel's data source, and nobody
// else's data.
func TestQueryThroughTheDataSourceProxy(t *testing.T) {
	e := newEnv(t)
	syncAll(t, e)
	ctx := context.Background()
	kc := e.as(syncer.KaranaInfluxUser(k1.UUID), k1.InfluxPassword)
	if err := kc.Write(ctx, syncer.DatabaseName(ann.UUID), "temp,karana="+k1.UUID+" c=21.5"); err != nil {
		t.Fatal(err)
	}
	g, _ := grafana.New(e.gURL, ann.Login, ann.InfluxPassword, nil)
	d, err := g.DashboardByUID(ctx, 0, syncer.DashboardUID(ann.UUID))
	if err != nil {
		t.Fatal(err)
	}
	ds := d.Dashboard["panels"].([]any)[0].(map[string]any)["datasource"].(map[string]any)["uid"].(string)
	query := func(user, pw, db, q string) (int, string) {
		form := url.Values{"db": {db}, "q": {q}}
		req, _ := http.NewRequest("POST", e.gURL+"/api/datasources/proxy/uid/"+ds+"/query", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(user, pw)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	q := strings.NewReplacer("$timeFilter", "time > now() - 1h", "$__interval", "1m").Replace(syncer.PanelQuery(k1.UUID))
	code, body := query(ann.Login, ann.InfluxPassword, syncer.DatabaseName(ann.UUID), q)
	if code != 200 || !strings.Contains(body, "21.5") {
		t.Errorf("ann's panel query through the proxy: %d %s; want the point k1 wrote", code, body)
	}
	code, body = query(ann.Login, ann.InfluxPassword, syncer.DatabaseName(bob.UUID), `SELECT * FROM "temp"`)
	if code != 403 || !strings.Contains(body, "not authorized") {
		t.Errorf("ann reading bob's database through her data source: %d %s; want InfluxDB's refusal", code, body)
	}
	if code, body = query(bob.Login, bob.InfluxPassword, syncer.DatabaseName(ann.UUID), q); code < 400 {
		t.Errorf("bob using ann's data source: %d %s; want a refusal", code, body)
	}
	if code, _ = query(ann.Login, "wrong", syncer.DatabaseName(ann.UUID), q); code != 401 {
		t.Errorf("wrong password: %d, want 401", code)
	}
	if _, err := g.DashboardByUID(ctx, 0, syncer.DashboardUID(bob.UUID)); !errors.Is(err, grafana.ErrNotFound) {
		t.Errorf("ann reading bob's dashboard uid in her org: %v, want 404", err)
	}
}
