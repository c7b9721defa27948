package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestPatchAndPutCountRealChanges(t *testing.T) {
	e := newEnv(t)
	a, ta := e.createUser("alice", "client")
	code, out := e.do("PATCH", "/v1/users/"+a, ta, map[string]any{"name": "alice"})
	if code != http.StatusBadRequest || !strings.Contains(out["error"].(map[string]any)["message"].(string), "name already hold") {
		t.Errorf("PATCH setting the name it has: %d %v, want 400 saying it is no change", code, out)
	}
	if code, out := e.do("PUT", "/v1/users/"+a, ta, map[string]any{"name": "alice", "email": "alice2@example.org"}); code != http.StatusBadRequest {
		t.Errorf("PUT with one real change of two: %d %v, want 400", code, out)
	}
	if code, out := e.do("PUT", "/v1/users/"+a, ta, map[string]any{"name": "Alice", "email": "alice2@example.org"}); code != 200 {
		t.Errorf("PUT with two real changes: %d %v", code, out)
	}
	if code, out := e.do("PATCH", "/v1/users/"+a, e.admin, map[string]any{"credentials": map[string]any{"login": "alice@example.org"}}); code != http.StatusBadRequest {
		t.Errorf("PATCH of the login (in part) to its current value: %d %v, want 400", code, out)
	}
	if code, out := e.do("PATCH", "/v1/users/"+a, ta, map[string]any{"credentials": map[string]any{"password": "password-alice"}}); code != 200 {
		t.Errorf("PATCH of the password (only its hash is stored, so always a change): %d %v", code, out)
	}
}

func TestNamesAreRefusedWhenBlankOrControl(t *testing.T) {
	e := newEnv(t)
	_, ta := e.createUser("alice", "client")
	for _, name := range []string{"   ", "a\x07b", " k", "k\n", "\u0085x"} {
		code, out := e.do("POST", "/v1/karanas/new", ta, map[string]any{"name": name})
		if code != http.StatusBadRequest || errField(out) != "name" {
			t.Errorf("karana name %q: %d %v, want 400 naming name", name, code, out)
		}
	}
	if code, out := e.do("POST", "/v1/karanas/new", ta, map[string]any{"name": "Gärtchen 2"}); code != http.StatusCreated {
		t.Errorf("an ordinary name: %d %v", code, out)
	}
}

// TestLoginLockoutIsPerAddress: a stranger failing logins for alice is
// limited, with the real wait in Retry-After; alice, from her own address,
// still logs in.
func TestLoginLockoutIsPerAddress(t *testing.T) {
	e := newEnv(t)
	e.createUser("alice", "client")
	login := func(addr, pw string) *httptest.ResponseRecorder {
		b, _ := json.Marshal(map[string]string{"user": "alice@example.org", "password": pw})
		req := httptest.NewRequest("POST", "/v1/users/login", bytes.NewReader(b))
		req.RemoteAddr = addr + ":40000"
		rec := httptest.NewRecorder()
		e.app.Handler.ServeHTTP(rec, req)
		return rec
	}
	var last *httptest.ResponseRecorder
	for i := 0; i < 8; i++ {
		last = login("198.51.100.9", "wrong-password")
	}
	if last.Code != http.StatusTooManyRequests {
		t.Fatalf("8 wrong logins from one address: %d, want 429", last.Code)
	}
	if s, err := strconv.Atoi(last.Header().Get("Retry-After")); err != nil || s < 1 || s > 12 {
		t.Errorf("Retry-After = %q, want the real wait (1..12 s: one attempt per 12 s)", last.Header().Get("Retry-After"))
	}
	if rec := login("203.0.113.7", "password-alice"); rec.Code != http.StatusOK {
		t.Errorf("alice from her own address during the attack: %d %s, want 200", rec.Code, rec.Body)
	}
	if rec := login("198.51.100.9", "password-alice"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("the attacker's address with the right password: %d, want still 429", rec.Code)
	}
}

func TestVaryOriginOnEveryResponse(t *testing.T) {
	e := newEnv(t) // cors_origins: http://localhost:3000
	for _, origin := range []string{"http://localhost:3000", "http://evil.example", ""} {
		for _, path := range []string{"/healthz", "/v1/users/", "/nothing"} {
			req := httptest.NewRequest("GET", path, nil)
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			rec := httptest.NewRecorder()
			e.app.Handler.ServeHTTP(rec, req)
			if rec.Header().Get("Vary") != "Origin" {
				t.Errorf("GET %s with Origin %q: Vary = %q, want Origin", path, origin, rec.Header().Get("Vary"))
			}
		}
	}
}
