package grafanastandin_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/karana-project/karana/e2e/grafanastandin"
)

type call struct {
	method, path, user, pw, org, body string
	status                            int
	want                              string // substring of the answer
}

func do(t *testing.T, url string, c call) {
	t.Helper()
	req, _ := http.NewRequest(c.method, url+c.path, strings.NewReader(c.body))
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pw)
	}
	if c.org != "" {
		req.Header.Set("X-Grafana-Org-Id", c.org)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) {
		t.Errorf("%s %s: %d %s; want %d containing %q", c.method, c.path, resp.StatusCode, body, c.status, c.want)
	}
	if resp.StatusCode >= 400 {
		var e struct{ Message string }
		if json.Unmarshal(body, &e) != nil || e.Message == "" {
			t.Errorf("%s %s: error body %s is not {\"message\":...}", c.method, c.path, body)
		}
	}
}

func TestAPISemantics(t *testing.T) {
	_, url := grafanastandin.Start(t, grafanastandin.Options{})
	for _, c := range []call{
		{method: "GET", path: "/api/health", status: 200, want: `"database":"ok"`},
		{method: "GET", path: "/api/orgs/name/x", status: 401, want: "Unauthorized"},
		{method: "GET", path: "/api/orgs/name/x", user: "admin", pw: "bad", status: 401, want: "Invalid username or password"},
		{method: "GET", path: "/api/orgs/name/Main%20Org.", user: "admin", pw: "admin", status: 200, want: `"id":1`},
		{method: "POST", path: "/api/orgs", user: "admin", pw: "admin", body: `{"name":"t"}`, status: 200, want: `"orgId":2`},
		{method: "POST", path: "/api/orgs", user: "admin", pw: "admin", body: `{"name":"t"}`, status: 409, want: "taken"},
		{method: "POST", path: "/api/orgs", user: "admin", pw: "admin", body: `{`, status: 400, want: "bad request"},
		{method: "POST", path: "/api/admin/users", user: "admin", pw: "admin", body: `{"login":"v","password":"vvvv"}`, status: 200, want: `"id":2`},
		{method: "POST", path: "/api/admin/users", user: "admin", pw: "admin", body: `{"login":"V","password":"vvvv"}`, status: 412, want: "already exists"},
		{method: "GET", path: "/api/orgs/2/users", user: "v", pw: "vvvv", status: 403, want: "Permission denied"},
		{method: "GET", path: "/api/users/lookup?loginOrEmail=nobody", user: "admin", pw: "admin", status: 404, want: "not found"},
		{method: "GET", path: "/api/datasources", user: "v", pw: "vvvv", org: "2", status: 401, want: "Unauthorized"},
		{method: "POST", path: "/api/datasources", user: "admin", pw: "admin", org: "2", body: `{"name":"a","type":"influxdb"}`, status: 200, want: `"isDefault":true`},
		{method: "POST", path: "/api/datasources", user: "admin", pw: "admin", org: "2", body: `{"name":"a","type":"influxdb"}`, status: 409, want: "same name"},
		{method: "GET", path: "/api/datasources/name/a", user: "admin", pw: "admin", status: 404, want: "not found"}, // org 1
		{method: "PATCH", path: "/api/orgs/1/users/1", user: "admin", pw: "admin", body: `{"role":"Viewer"}`, status: 400, want: "no organization admin left"},
		{method: "DELETE", path: "/api/orgs/1/users/1", user: "admin", pw: "admin", status: 400, want: "last organization admin"},
		{method: "POST", path: "/api/orgs/1/users", user: "admin", pw: "admin", body: `{"loginOrEmail":"v","role":"Boss"}`, status: 400, want: "Invalid role"},
		{method: "GET", path: "/api/nothing", user: "admin", pw: "admin", status: 404, want: "Not found"},
	} {
		do(t, url, c)
	}
}

func TestPersistFailureRollsBack(t *testing.T) {
	fail := true
	s, url := grafanastandin.Start(t, grafanastandin.Options{Persist: func(*grafanastandin.State) error {
		if fail {
			return errors.New("disk full")
		}
		return nil
	}})
	do(t, url, call{method: "POST", path: "/api/orgs", user: "admin", pw: "admin", body: `{"name":"t"}`, status: 500, want: "disk full"})
	if n := len(s.Snapshot().Orgs); n != 1 {
		t.Fatalf("orgs after a failed save = %d, want the change rolled back", n)
	}
	fail = false
	do(t, url, call{method: "POST", path: "/api/orgs", user: "admin", pw: "admin", body: `{"name":"t"}`, status: 200, want: `"orgId":2`})
}

func TestStateRoundTrip(t *testing.T) {
	s, url := grafanastandin.Start(t, grafanastandin.Options{AdminUser: "root", AdminPassword: "pw-root"})
	do(t, url, call{method: "POST", path: "/api/admin/users", user: "root", pw: "pw-root", body: `{"login":"u","password":"pw-u"}`, status: 200})
	data, err := grafanastandin.MarshalState(s.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "pw-u") || strings.Contains(string(data), "pw-root") {
		t.Fatal("state holds a clear-text password")
	}
	st, err := grafanastandin.ParseState(data)
	if err != nil {
		t.Fatal(err)
	}
	_, url2 := grafanastandin.Start(t, grafanastandin.Options{State: st})
	do(t, url2, call{method: "GET", path: "/api/user", user: "u", pw: "pw-u", status: 200, want: `"login":"u"`})
	if _, err := grafanastandin.ParseState([]byte(`{"orgs":{}}`)); err == nil {
		t.Fatal("ParseState accepted a state without users or counters")
	}
}
