package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/karana-project/karana/pkg/api"
	"github.com/karana-project/karana/pkg/api/auth"
	"github.com/karana-project/karana/pkg/api/config"
	"github.com/karana-project/karana/pkg/api/server"
)

// env is an in-process API on a temporary data folder, with cheap hashes.
type env struct {
	t     *testing.T
	cfg   *config.Config
	app   *api.App
	admin string // the test admin's token
	sync  *fakeSyncer
}

func testConfig(t *testing.T) *config.Config {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Git.Disabled = true
	cfg.Argon2 = auth.Argon2{MemoryKiB: 64, Iterations: 1, Parallelism: 1}
	cfg.JWT.Secret = "0123456789abcdef0123456789abcdef"
	return cfg
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, testConfig(t), &fakeSyncer{})
}

func newEnvWith(t *testing.T, cfg *config.Config, fs *fakeSyncer) *env {
	t.Helper()
	o := api.Options{Test: true}
	if fs != nil {
		o.Syncer = fs
	}
	app, err := api.Build(context.Background(), cfg, o)
	if err != nil {
		t.Fatalf("building the api: %v", err)
	}
	t.Cleanup(func() { app.Close(context.Background()) })
	e := &env{t: t, cfg: cfg, app: app, sync: fs}
	e.admin = e.login(server.TestAdminLogin, server.TestAdminPassword)
	return e
}

// do sends a request; body is sent as is when a string, else as JSON.
func (e *env) do(method, path, token string, body any) (int, map[string]any) {
	e.t.Helper()
	rec := e.raw(method, path, token, body)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		e.t.Fatalf("%s %s: response is not JSON: %q", method, path, rec.Body.String())
	}
	return rec.Code, out
}

func (e *env) raw(method, path, token string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			e.t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.app.Handler.ServeHTTP(rec, req)
	return rec
}

func (e *env) login(user, password string) string {
	e.t.Helper()
	code, out := e.do("POST", "/v1/users/login", "", map[string]string{"user": user, "password": password})
	if code != http.StatusOK {
		e.t.Fatalf("login %s: %d %v", user, code, out)
	}
	return out["results"].([]any)[0].(map[string]any)["token"].(string)
}

// createUser creates a client (or role) user and returns its id and token.
func (e *env) createUser(name, role string) (id, token string) {
	e.t.Helper()
	email := name + "@example.org"
	code, out := e.do("POST", "/v1/users/new", e.admin, map[string]any{
		"name": name, "email": email, "role": role,
		"credentials": map[string]string{"login": email, "password": "password-" + name},
	})
	if code != http.StatusCreated {
		e.t.Fatalf("creating %s: %d %v", name, code, out)
	}
	return onlyID(e.t, out), e.login(email, "password-"+name)
}

func (e *env) createKarana(token, name string) string {
	e.t.Helper()
	code, out := e.do("POST", "/v1/karanas/new", token, map[string]any{"name": name})
	if code != http.StatusCreated {
		e.t.Fatalf("creating karana %s: %d %v", name, code, out)
	}
	return onlyID(e.t, out)
}

// records returns the {"results":[{id: record}]} map.
func records(t *testing.T, out map[string]any) map[string]any {
	t.Helper()
	res, ok := out["results"].([]any)
	if !ok || len(res) != 1 {
		t.Fatalf("results: want one object keyed by uuid, got %v", out)
	}
	return res[0].(map[string]any)
}

func onlyID(t *testing.T, out map[string]any) string {
	t.Helper()
	recs := records(t, out)
	if len(recs) != 1 {
		t.Fatalf("want one record, got %d: %v", len(recs), out)
	}
	for id := range recs {
		return id
	}
	return ""
}

func errField(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	return fmt.Sprint(e["field"])
}

// fakeSyncer records syncs; fail names ids whose sync fails.
type fakeSyncer struct {
	mu      sync.Mutex
	fail    map[string]bool
	synced  map[string]int
	karanas map[string][]string // user id -> karana ids given with it
	removed []string            // "karanas <id>", "users <id> purge=<bool>"
	pruned  []server.Pruned     // what Prune reports
	kept    []string            // what the last Prune was told to keep
}

func (f *fakeSyncer) RemoveKarana(_ context.Context, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[id] {
		return false, fmt.Errorf("influxdb refused to drop %s", id)
	}
	f.removed = append(f.removed, "karanas "+id)
	return true, nil
}

func (f *fakeSyncer) RemoveUser(_ context.Context, u server.SyncUser, purge bool) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[u.UUID] {
		return false, fmt.Errorf("grafana refused to delete %s", u.UUID)
	}
	f.removed = append(f.removed, fmt.Sprintf("users %s purge=%v", u.UUID, purge))
	return true, nil
}

func (f *fakeSyncer) Prune(_ context.Context, users, karanas []string) ([]server.Pruned, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kept = append(append([]string(nil), users...), karanas...)
	out := f.pruned
	f.pruned = nil
	return out, nil
}

func (f *fakeSyncer) SyncKarana(_ context.Context, k server.SyncKarana) (bool, error) {
	return f.record(k.UUID, nil)
}

func (f *fakeSyncer) SyncUser(_ context.Context, u server.SyncUser, ks []server.SyncKarana) (server.UserOutcome, error) {
	var ids []string
	for _, k := range ks {
		ids = append(ids, k.UUID)
	}
	changed, err := f.record(u.UUID, func() {
		if f.karanas == nil {
			f.karanas = map[string][]string{}
		}
		f.karanas[u.UUID] = ids
	})
	return server.UserOutcome{Changed: changed}, err
}

func (f *fakeSyncer) record(id string, also func()) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[id] {
		return false, fmt.Errorf("influxdb refused %s", id)
	}
	if f.synced == nil {
		f.synced = map[string]int{}
	}
	f.synced[id]++
	if also != nil {
		also()
	}
	return f.synced[id] == 1, nil
}

func request(method, path string) *http.Request { return httptest.NewRequest(method, path, nil) }

func recorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
