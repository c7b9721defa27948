package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/karana-project/karana/pkg/api"
	"github.com/karana-project/karana/pkg/api/config"
)

// build starts an API on cfg without test mode, as `api serve --config`
// does in a tenant's container.
func build(t *testing.T, cfg *config.Config) *env {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	app, err := api.Build(context.Background(), cfg, api.Options{})
	if err != nil {
		t.Fatalf("building the api: %v", err)
	}
	e := &env{t: t, cfg: cfg, app: app}
	t.Cleanup(func() { app.Close(context.Background()) })
	return e
}

func (e *env) loginStatus(user, password string) int {
	e.t.Helper()
	code, _ := e.do("POST", "/v1/users/login", "", map[string]string{"user": user, "password": password})
	return code
}

// The configured admin is created once; a restart with another configured
// password, and after the admin changed its password, changes nothing.
func TestConfiguredAdmin(t *testing.T) {
	cfg := testConfig(t)
	cfg.Admin = config.Admin{Login: "admin", Email: "admin@acme.test", Password: "first-password"}
	e := build(t, cfg)
	tok := e.login("admin", "first-password")
	code, out := e.do("GET", "/v1/users/", tok, nil)
	if code != http.StatusOK {
		t.Fatalf("the admin cannot list users: %d %v", code, out)
	}
	users := records(t, out)
	if len(users) != 1 {
		t.Fatalf("want exactly the admin, got %v", users)
	}
	var id string
	for k, u := range users {
		id = k
		if r := u.(map[string]any)["role"]; r != "admin" {
			t.Errorf("role = %v, want admin", r)
		}
		if m := u.(map[string]any)["email"]; m != "admin@acme.test" {
			t.Errorf("email = %v", m)
		}
	}
	e.app.Close(context.Background())

	cfg.Admin.Password = "second-password"
	e = build(t, cfg)
	if c := e.loginStatus("admin", "second-password"); c != http.StatusUnauthorized {
		t.Errorf("a restart with a new configured password changed the admin's: login %d", c)
	}
	tok = e.login("admin", "first-password")
	code, out = e.do("PATCH", "/v1/users/"+id, tok, map[string]any{"credentials": map[string]string{"login": "admin", "password": "changed-by-admin"}})
	if code != http.StatusOK {
		t.Fatalf("changing the password: %d %v", code, out)
	}
	e.app.Close(context.Background())

	e = build(t, cfg)
	if c := e.loginStatus("admin", "first-password"); c != http.StatusUnauthorized {
		t.Errorf("the configured password came back after a restart: login %d", c)
	}
	e.login("admin", "changed-by-admin")
	_, out = e.do("GET", "/v1/users/", e.login("admin", "changed-by-admin"), nil)
	if n := len(records(t, out)); n != 1 {
		t.Errorf("%d users after restarts, want 1", n)
	}
}

func TestNoConfiguredAdmin(t *testing.T) {
	e := build(t, testConfig(t))
	if c := e.loginStatus("admin@example.com", "admin"); c != http.StatusUnauthorized {
		t.Errorf("without --test or admin, the test admin logs in: %d", c)
	}
}
