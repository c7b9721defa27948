package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/karana-project/karana/e2e/grafanastandin"
	"github.com/karana-project/karana/pkg/api"
	"github.com/karana-project/karana/pkg/api/auth"
	"github.com/karana-project/karana/pkg/api/config"
	"github.com/karana-project/karana/pkg/cmd/api/serve"
	"github.com/karana-project/karana/pkg/grafana"
	"github.com/karana-project/karana/pkg/influx/influxtest"
	"github.com/karana-project/karana/pkg/syncer"
)

// TestSyncWithInfluxAndGrafana: the API's sync endpoint against a real
// influxd on loopback and the Grafana stand-in, through pkg/syncer.
func TestSyncWithInfluxAndGrafana(t *testing.T) {
	if testing.Short() {
		t.Skip("starts influxd")
	}
	ix := influxtest.Start(t)
	gs, gURL := grafanastandin.Start(t, grafanastandin.Options{AdminUser: "admin", AdminPassword: "grafana-admin-pw"})
	sy, err := syncer.New(syncer.Config{InfluxURL: ix.URL, InfluxUser: ix.AdminUser, InfluxPassword: ix.AdminPassword,
		GrafanaURL: gURL, GrafanaUser: "admin", GrafanaPassword: "grafana-admin-pw", TenantID: "SMNTYQIUB4YTC"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir, cfg.Git.Disabled = t.TempDir(), true
	cfg.Argon2 = auth.Argon2{MemoryKiB: 64, Iterations: 1, Parallelism: 1}
	app, err := api.Build(context.Background(), cfg, api.Options{Test: true, Syncer: serve.Adapter{S: sy}})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(context.Background())
	call := func(method, path, token string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req := httptest.NewRequest(method, path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		app.Handler.ServeHTTP(rec, req)
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	_, out := call("POST", "/v1/users/login", "", map[string]string{"user": "admin@example.com", "password": "admin"})
	admin := out["results"].([]any)[0].(map[string]any)["token"].(string)
	code, out := call("POST", "/v1/users/new", admin, map[string]any{"name": "Alice", "email": "alice@example.org",
		"credentials": map[string]string{"login": "alice@example.org", "password": "password-alice"}})
	if code != 201 {
		t.Fatalf("create alice: %d %v", code, out)
	}
	alice := firstKey(out)
	if code, out = call("POST", "/v1/karanas/new", admin, map[string]any{"name": "k1", "owner": alice}); code != 201 {
		t.Fatalf("create karana: %d %v", code, out)
	}
	k1 := firstKey(out)

	gs.Fail("POST", "/api/orgs", http.StatusInternalServerError, 1) // the first user's org creation fails once
	sync := func() []map[string]any {
		code, out := call("POST", "/v1/sync/all/db", admin, nil)
		if code != 200 {
			t.Fatalf("sync: %d %v", code, out)
		}
		var res []map[string]any
		for _, r := range out["results"].([]any) {
			res = append(res, r.(map[string]any))
		}
		return res
	}
	first := sync()
	failed := 0
	for _, r := range first {
		if r["synced"] != true {
			failed++
		}
	}
	if len(first) != 3 || first[0]["resource"] != "karanas" || first[0]["synced"] != true || failed != 1 {
		t.Fatalf("first sync: want the karana synced, then two users of which one failed: %v", first)
	}
	if second := sync(); len(second) != 1 || second[0]["synced"] != true {
		t.Fatalf("second sync retries the failed user only: %v", second)
	}
	if third := sync(); len(third) != 0 {
		t.Errorf("a third sync must change nothing: %v", third)
	}
	dbs, err := ix.Client(t).Databases(context.Background())
	if err != nil || !slices.Contains(dbs, syncer.DatabaseName(alice)) {
		t.Errorf("alice's database %s missing: %v %v", syncer.DatabaseName(alice), dbs, err)
	}

	// Renaming the karana through the API renames its panel on alice's
	// dashboard at the next sync.
	if code, out = call("PATCH", "/v1/karanas/"+k1, admin, map[string]any{"name": "greenhouse"}); code != 200 {
		t.Fatalf("rename karana: %d %v", code, out)
	}
	sync()
	g, _ := grafana.New(gURL, "alice@example.org", password(t, app, alice), nil)
	d, err := g.DashboardByUID(context.Background(), 0, syncer.DashboardUID(alice))
	if err != nil {
		t.Fatalf("alice's dashboard: %v", err)
	}
	panels, _ := d.Dashboard["panels"].([]any)
	if len(panels) != 1 || panels[0].(map[string]any)["title"] != "greenhouse" ||
		panels[0].(map[string]any)["description"] != "karana "+k1 {
		t.Errorf("alice's panels = %v, want one titled greenhouse for karana %s", panels, k1)
	}
}

// password is a user's password_influx as stored (it is also their
// Grafana password).
func password(t *testing.T, app *api.App, id string) string {
	e, ok := app.Store.Get("users", id)
	if !ok {
		t.Fatalf("no user %s", id)
	}
	pw, _ := e.Rec()["password_influx"].(string)
	return pw
}
