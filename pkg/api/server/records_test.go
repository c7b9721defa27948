package server_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestSeedExamples(t *testing.T) {
	e := newEnv(t)
	// httpie: http POST :8000/v1/users/new data='{"name":"Micha", ...}' Authorization:"bearer ..."
	code, out := e.do("POST", "/v1/users/new", e.admin, map[string]string{
		"data": `{"name":"Micha", "role": "admin", "email": "micha@all.de", "credentials":{"login":"micha@all.de","password":"12345678"}}`,
	})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	}
	id := onlyID(t, out)
	rec := records(t, out)[id].(map[string]any)
	for _, k := range []string{"uuid", "name", "email", "credentials", "role", "password_influx", "created_at", "karanas"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("created record lacks %s: %v", k, rec)
		}
	}
	if _, ok := rec["credentials"].(map[string]any)["password"]; ok {
		t.Errorf("the password hash was returned: %v", rec)
	}
	code, out = e.do("GET", "/v1/users/", e.admin, nil)
	if code != http.StatusOK || len(records(t, out)) != 2 {
		t.Fatalf("list: %d %v", code, out)
	}
	if strings.Contains(e.raw("GET", "/v1/users/", e.admin, nil).Body.String(), "$argon2id$") {
		t.Error("a listing contains a password hash")
	}
	tok := e.login("micha@all.de", "12345678")
	if code, _ := e.do("GET", "/v1/users/"+id, tok, nil); code != http.StatusOK {
		t.Errorf("new admin reading itself: %d", code)
	}
}

func TestClientScope(t *testing.T) {
	e := newEnv(t)
	a, ta := e.createUser("alice", "client")
	b, tb := e.createUser("bob", "client")
	ka := e.createKarana(ta, "alice-k")
	kb := e.createKarana(tb, "bob-k")
	tests := []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"read own user", "GET", "/v1/users/" + a, ta, nil, 200},
		{"read other user", "GET", "/v1/users/" + b, ta, nil, 403},
		{"change other user", "PATCH", "/v1/users/" + b, ta, map[string]any{"name": "x"}, 403},
		{"put other user", "PUT", "/v1/users/" + b, ta, map[string]any{"name": "x", "email": "x@example.org"}, 403},
		{"delete other user", "DELETE", "/v1/users/" + b, ta, nil, 403},
		{"delete own user", "DELETE", "/v1/users/" + a, ta, nil, 403},
		{"read other karana", "GET", "/v1/karanas/" + kb, ta, nil, 403},
		{"change other karana", "PATCH", "/v1/karanas/" + kb, ta, map[string]any{"name": "x"}, 403},
		{"delete other karana", "DELETE", "/v1/karanas/" + kb, ta, nil, 403},
		{"give karana away", "PATCH", "/v1/karanas/" + ka, ta, map[string]any{"owner": b}, 403},
		{"create karana for other", "POST", "/v1/karanas/new", ta, map[string]any{"name": "k", "owner": b}, 403},
		{"create user", "POST", "/v1/users/new", ta, map[string]any{"name": "m"}, 403},
		{"escalate via PATCH", "PATCH", "/v1/users/" + a, ta, map[string]any{"role": "admin"}, 403},
		{"escalate via PUT", "PUT", "/v1/users/" + a, ta, map[string]any{"role": "admin", "name": "A"}, 403},
		{"set uuid", "PATCH", "/v1/users/" + a, ta, map[string]any{"uuid": b}, 400},
		{"set created_at", "PATCH", "/v1/users/" + a, ta, map[string]any{"created_at": "2017-03-02T15:26:11+00:00"}, 400},
		{"set password_influx", "PATCH", "/v1/users/" + a, ta, map[string]any{"password_influx": "x"}, 400},
		{"set karanas", "PATCH", "/v1/users/" + a, ta, map[string]any{"karanas": []string{}}, 400},
		{"sync", "POST", "/v1/sync/all/db", ta, nil, 403},
		{"change own name", "PATCH", "/v1/users/" + a, ta, map[string]any{"name": "Alice"}, 200},
		{"change own karana", "PUT", "/v1/karanas/" + ka, ta, map[string]any{"name": "k2", "configuration": map[string]any{"rate": 5}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := e.do(tt.method, tt.path, tt.token, tt.body)
			if code != tt.want {
				t.Errorf("%s %s: got %d %v, want %d", tt.method, tt.path, code, out, tt.want)
			}
		})
	}
	code, out := e.do("GET", "/v1/users/", ta, nil)
	if code != 200 || len(records(t, out)) != 1 || records(t, out)[a] == nil {
		t.Errorf("a client's listing must hold only itself: %v", out)
	}
	code, out = e.do("GET", "/v1/karanas/", ta, nil)
	if code != 200 || len(records(t, out)) != 1 || records(t, out)[ka] == nil {
		t.Errorf("a client's karana listing must hold only its own: %v", out)
	}
	if code, _ := e.do("DELETE", "/v1/karanas/"+ka, ta, nil); code != 200 {
		t.Errorf("deleting own karana: %d", code)
	}
}

func TestAdminManagesEverything(t *testing.T) {
	e := newEnv(t)
	a, ta := e.createUser("alice", "client")
	k := e.createKarana(ta, "k")
	code, out := e.do("GET", "/v1/users/"+a, e.admin, nil)
	if got := records(t, out)[a].(map[string]any)["karanas"].([]any); code != 200 || len(got) != 1 || got[0] != k {
		t.Fatalf("the owner's karanas list should hold %s: %v", k, out)
	}
	if code, out := e.do("DELETE", "/v1/users/"+a, e.admin, nil); code != http.StatusConflict {
		t.Errorf("deleting a user who owns karanas: %d %v", code, out)
	}
	if code, _ := e.do("PUT", "/v1/users/"+a, e.admin, map[string]any{"role": "admin", "name": "Alice"}); code != 200 {
		t.Errorf("admin promoting: %d", code)
	}
	if code, _ := e.do("POST", "/v1/sync/all/db", ta, nil); code != http.StatusUnauthorized {
		t.Errorf("a promoted user's old token: %d, want 401 (a role change ends the sessions)", code)
	}
	if code, _ := e.do("POST", "/v1/sync/all/db", e.login("alice@example.org", "password-alice"), nil); code != 200 {
		t.Errorf("a promoted user's new token carries the new role: %d", code)
	}
	b, _ := e.createUser("bob", "client")
	if code, out := e.do("PATCH", "/v1/karanas/"+k, e.admin, map[string]any{"owner": b}); code != 200 {
		t.Fatalf("admin moving a karana: %d %v", code, out)
	}
	for owner, want := range map[string]int{a: 0, b: 1} {
		_, out := e.do("GET", "/v1/users/"+owner, e.admin, nil)
		if got := records(t, out)[owner].(map[string]any)["karanas"].([]any); len(got) != want {
			t.Errorf("after the move %s lists %v, want %d karanas", owner, got, want)
		}
	}
	if code, _ := e.do("DELETE", "/v1/karanas/"+k, e.admin, nil); code != 200 {
		t.Errorf("admin deleting a karana: %d", code)
	}
	_, out = e.do("GET", "/v1/users/"+b, e.admin, nil)
	if got := records(t, out)[b].(map[string]any)["karanas"].([]any); len(got) != 0 {
		t.Errorf("the deleted karana stays in the owner's list: %v", got)
	}
	if code, _ := e.do("DELETE", "/v1/users/"+a, e.admin, nil); code != 200 {
		t.Errorf("admin deleting a user: %d", code)
	}
	if code, _ := e.do("GET", "/v1/users/"+a, ta, nil); code != http.StatusUnauthorized {
		t.Errorf("a deleted user's token: %d, want 401", code)
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	a, _ := e.createUser("alice", "client")
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	tests := []struct {
		name, method, path string
		body               any
		want               int
		field              string
	}{
		{"over 1 MiB", "POST", "/v1/users/new", `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, 413, ""},
		{"deeply nested", "POST", "/v1/karanas/new", deep, 400, "body"},
		{"deeply nested in data", "POST", "/v1/karanas/new", map[string]string{"data": deep}, 400, "data"},
		{"invalid UTF-8", "POST", "/v1/karanas/new", []byte("{\"name\":\"\xff\xfe\"}"), 400, "body"},
		{"not JSON", "POST", "/v1/karanas/new", "name=x", 400, "body"},
		{"not an object", "POST", "/v1/karanas/new", "[1]", 400, "body"},
		{"trailing data", "POST", "/v1/karanas/new", `{"name":"k"} {}`, 400, "body"},
		{"unknown resource", "GET", "/v1/nothing/", nil, 404, ""},
		{"unknown resource id", "GET", "/v1/nothing/" + a, nil, 404, ""},
		{"unknown id", "GET", "/v1/users/0b6bb1a4-6c4b-4b47-9b3c-3c4b0a3ab0f1", nil, 404, ""},
		{"unknown endpoint", "GET", "/v2/users/", nil, 404, ""},
		{"wrong method", "POST", "/v1/users/" + a, map[string]any{"name": "x"}, 405, ""},
		{"wrong method on sync", "GET", "/v1/sync/all/db", nil, 405, ""},
		{"PUT with one change", "PUT", "/v1/users/" + a, map[string]any{"name": "x"}, 400, ""},
		{"PATCH with two", "PATCH", "/v1/users/" + a, map[string]any{"name": "x", "email": "y@example.org"}, 400, ""},
		{"PATCH with none", "PATCH", "/v1/users/" + a, map[string]any{}, 400, ""},
		{"missing field", "POST", "/v1/users/new", map[string]any{"name": "x"}, 400, "email"},
		{"bad email", "POST", "/v1/users/new", map[string]any{"name": "x", "email": "nope", "credentials": map[string]any{"login": "l", "password": "12345678"}}, 400, "email"},
		{"short password", "PATCH", "/v1/users/" + a, map[string]any{"credentials": map[string]any{"password": "short"}}, 400, "credentials.password"},
		{"unknown field", "POST", "/v1/karanas/new", map[string]any{"name": "k", "colour": "red"}, 400, "colour"},
		{"bad role", "PATCH", "/v1/users/" + a, map[string]any{"role": "root"}, 400, "role"},
		{"owner not a user", "POST", "/v1/karanas/new", map[string]any{"name": "k", "owner": "0b6bb1a4-6c4b-4b47-9b3c-3c4b0a3ab0f1"}, 400, "owner"},
		{"taken email", "PATCH", "/v1/users/" + a, map[string]any{"email": "admin@example.com"}, 409, "email"},
		{"taken login", "PATCH", "/v1/users/" + a, map[string]any{"credentials": map[string]any{"login": "admin@example.com"}}, 409, "credentials.login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := e.do(tt.method, tt.path, e.admin, tt.body)
			if code != tt.want || (tt.field != "" && errField(out) != tt.field) {
				t.Errorf("got %d %v, want %d naming %q", code, out, tt.want, tt.field)
			}
		})
	}
}

func TestPasswordChangeAndCORS(t *testing.T) {
	e := newEnv(t)
	a, ta := e.createUser("alice", "client")
	if code, out := e.do("PATCH", "/v1/users/"+a, ta, map[string]any{"credentials": map[string]any{"password": "a-new-password"}}); code != 200 {
		t.Fatalf("changing own password: %d %v", code, out)
	}
	e.login("alice@example.org", "a-new-password")
	rec := e.raw("GET", "/healthz", "", nil)
	if rec.Code != 200 || rec.Body.String() != "{\"status\":\"ok\"}\n" {
		t.Errorf("healthz: %d %q", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "http://localhost:3000" {
		t.Errorf("CORS origin: %q", got)
	}
}

func TestConcurrentKaranasKeepTheOwnersList(t *testing.T) {
	e := newEnv(t)
	a, ta := e.createUser("alice", "client")
	done := make(chan int)
	for w := 0; w < 4; w++ {
		go func(w int) {
			n := 0
			for i := 0; i < 10; i++ {
				rec := e.raw("POST", "/v1/karanas/new", ta, map[string]any{"name": "k"})
				if rec.Code == http.StatusCreated {
					n++
				}
			}
			done <- n
		}(w)
	}
	created := 0
	for w := 0; w < 4; w++ {
		created += <-done
	}
	_, out := e.do("GET", "/v1/users/"+a, ta, nil)
	list := records(t, out)[a].(map[string]any)["karanas"].([]any)
	if created != 40 || len(list) != 40 {
		t.Errorf("created %d karanas, the owner's list holds %d; want 40 and 40", created, len(list))
	}
}

func TestHealthzNamesTheTenant(t *testing.T) {
	cfg := testConfig(t)
	cfg.Tenant.ID = "SMNTYQIUB4YTC"
	e := newEnvWith(t, cfg, &fakeSyncer{})
	rec := e.raw("GET", "/healthz", "", nil)
	if rec.Code != 200 || rec.Body.String() != "{\"status\":\"ok\",\"tenant\":\"SMNTYQIUB4YTC\"}\n" {
		t.Errorf("healthz: %d %q", rec.Code, rec.Body.String())
	}
}
