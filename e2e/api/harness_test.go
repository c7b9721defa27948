package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/karana-project/karana/e2e/grafanastandin"
	"github.com/karana-project/karana/pkg/api"
	"github.com/karana-project/karana/pkg/api/auth"
	"github.com/karana-project/karana/pkg/api/config"
	"github.com/karana-project/karana/pkg/cmd/api/serve"
	"github.com/karana-project/karana/pkg/influx"
	"github.com/karana-project/karana/pkg/influx/influxtest"
	"github.com/karana-project/karana/pkg/syncer"
)

// live is the API in-process, synced to a real influxd and the Grafana
// stand-in.
type live struct {
	t     testing.TB
	ix    *influxtest.Server
	admin *influx.Client // InfluxDB's admin
	gs    *grafanastandin.Server
	gURL  string
	app   *api.App
	cfg   *config.Config
	token string // the API admin's
}

func startLive(t testing.TB, tune func(*config.Config)) *live {
	t.Helper()
	if testing.Short() {
		t.Skip("starts influxd")
	}
	l := &live{t: t, ix: influxtest.Start(t)}
	l.admin = l.ix.Client(t)
	l.gs, l.gURL = grafanastandin.Start(t, grafanastandin.Options{AdminUser: "admin", AdminPassword: "grafana-admin-pw"})
	cfg := config.Default()
	cfg.DataDir, cfg.Git.Disabled = t.TempDir(), true
	cfg.Argon2 = auth.Argon2{MemoryKiB: 64, Iterations: 1, Parallelism: 1}
	cfg.JWT.Secret = "0123456789abcdef0123456789abcdef"
	if tune != nil {
		tune(cfg)
	}
	l.cfg = cfg
	l.open()
	return l
}

// open builds the API on the data folder (again, after close: a restart).
func (l *live) open() {
	l.t.Helper()
	sy, err := syncer.New(syncer.Config{InfluxURL: l.ix.URL, InfluxUser: l.ix.AdminUser, InfluxPassword: l.ix.AdminPassword,
		GrafanaURL: l.gURL, GrafanaUser: "admin", GrafanaPassword: "grafana-admin-pw", TenantID: "SMNTYQIUB4YTC"})
	if err != nil {
		l.t.Fatal(err)
	}
	l.app, err = api.Build(context.Background(), l.cfg, api.Options{Test: true, Syncer: serve.Adapter{S: sy}})
	if err != nil {
		l.t.Fatal(err)
	}
	app := l.app
	l.t.Cleanup(func() { app.Close(context.Background()) })
	l.token = l.login("admin@example.com", "admin")
}

func (l *live) restart() {
	l.t.Helper()
	l.app.Close(context.Background())
	l.open()
}

func (l *live) call(method, path, token string, body any) (int, map[string]any) {
	l.t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	l.app.Handler.ServeHTTP(rec, req)
	var out map[string]any
	json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func (l *live) login(user, pw string) string {
	l.t.Helper()
	code, out := l.call("POST", "/v1/users/login", "", map[string]string{"user": user, "password": pw})
	if code != http.StatusOK {
		l.t.Fatalf("login %s: %d %v", user, code, out)
	}
	return out["results"].([]any)[0].(map[string]any)["token"].(string)
}

// create makes a record as token and returns it.
func (l *live) create(res, token string, body map[string]any) map[string]any {
	l.t.Helper()
	code, out := l.call("POST", "/v1/"+res+"/new", token, body)
	if code != http.StatusCreated {
		l.t.Fatalf("create %s: %d %v", res, code, out)
	}
	return record(out)
}

// record is the one record of a {"results":[{id: {...}}]} answer.
func record(out map[string]any) map[string]any {
	for _, r := range out["results"].([]any) {
		for _, v := range r.(map[string]any) {
			return v.(map[string]any)
		}
	}
	return nil
}

func (l *live) user(name string) (rec map[string]any, token string) {
	l.t.Helper()
	login := name + "@example.org"
	rec = l.create("users", l.token, map[string]any{"name": name, "email": login,
		"credentials": map[string]string{"login": login, "password": "password-" + name}})
	return rec, l.login(login, "password-"+name)
}

// sync runs path (the sync or the reconcile) and returns its results.
func (l *live) sync(path string) []map[string]any {
	l.t.Helper()
	code, out := l.call("POST", path, l.token, nil)
	if code != http.StatusOK {
		l.t.Fatalf("%s: %d %v", path, code, out)
	}
	var res []map[string]any
	for _, r := range out["results"].([]any) {
		res = append(res, r.(map[string]any))
	}
	return res
}

// canWrite reports whether InfluxDB takes a point with these credentials.
func (l *live) canWrite(user, pw, db string) bool {
	return l.admin.As(user, pw).Write(context.Background(), db, "temp c=1") == nil
}
