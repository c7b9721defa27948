package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/api/auth"
)

// TestSessionsEndWhenCredentialsChange: a token issued before its user's
// password, login or role changed, or before the user was deleted, is
// refused; a fresh login works.
func TestSessionsEndWhenCredentialsChange(t *testing.T) {
	e := newEnv(t)
	a, ta := e.createUser("alice", "client")
	get := func(tok string) int { code, _ := e.do("GET", "/v1/users/"+a, tok, nil); return code }
	if get(ta) != 200 {
		t.Fatal("a fresh token does not work")
	}
	steps := []struct {
		name  string
		patch map[string]any
		login string
		pw    string
	}{
		{"password", map[string]any{"credentials": map[string]any{"password": "a-new-password"}}, "alice@example.org", "a-new-password"},
		{"login", map[string]any{"credentials": map[string]any{"login": "alice2@example.org"}}, "alice2@example.org", "a-new-password"},
	}
	login, pw := "alice@example.org", "password-alice"
	for _, st := range steps {
		other := e.login(login, pw)
		if code, out := e.do("PATCH", "/v1/users/"+a, ta, st.patch); code != 200 {
			t.Fatalf("changing the %s: %d %v", st.name, code, out)
		}
		if code := get(ta); code != http.StatusUnauthorized {
			t.Errorf("after a %s change, the token that made it: %d, want 401", st.name, code)
		}
		if code := get(other); code != http.StatusUnauthorized {
			t.Errorf("after a %s change, another session: %d, want 401", st.name, code)
		}
		login, pw = st.login, st.pw
		ta = e.login(login, pw)
		if get(ta) != 200 {
			t.Errorf("after a %s change, a new login does not work", st.name)
		}
	}
	code, _ := e.do("DELETE", "/v1/users/"+a, e.admin, nil)
	if code != 200 || get(ta) != http.StatusUnauthorized {
		t.Errorf("after the user was deleted: delete %d, token %d; want 200, 401", code, get(ta))
	}
}

// TestTokenForAnUndeclaredResource: a validly signed token naming a
// resource the configuration does not declare is a 401, not a dropped
// connection.
func TestTokenForAnUndeclaredResource(t *testing.T) {
	e := newEnv(t)
	tk, err := auth.NewTokens([]byte(e.cfg.JWT.Secret), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := tk.Issue("gadgets", "0d3aac6e-f9e7-4480-aa71-39fa4a01c070", "admin", "")
	if code, out := e.do("GET", "/v1/users/", tok, nil); code != http.StatusUnauthorized {
		t.Errorf("a token for resource gadgets: %d %v, want 401", code, out)
	}
}
