package grafanastandin_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/karana-project/karana/e2e/grafanastandin"
)

func TestDashboards(t *testing.T) {
	_, url := grafanastandin.Start(t, grafanastandin.Options{})
	admin := func(c call) call { c.user, c.pw = "admin", "admin"; return c }
	for _, c := range []call{
		admin(call{method: "POST", path: "/api/orgs", body: `{"name":"o"}`, status: 200, want: `"orgId":2`}),
		admin(call{method: "POST", path: "/api/admin/users", body: `{"login":"v","password":"vvvv","OrgId":2}`, status: 200}),
		admin(call{method: "POST", path: "/api/admin/users", body: `{"login":"ed","password":"eeee","OrgId":2}`, status: 200}),
		admin(call{method: "PATCH", path: "/api/orgs/2/users/3", body: `{"role":"Editor"}`, status: 200}),
		admin(call{method: "POST", path: "/api/dashboards/db", org: "2", body: `{"dashboard":{"uid":"d1","title":"T","panels":[{"id":1}]}}`, status: 200, want: `"url":"/d/d1/t"`}),
		admin(call{method: "POST", path: "/api/dashboards/db", org: "2", body: `{"dashboard":{"uid":"d1","title":"T","version":5}}`, status: 412, want: "version-mismatch"}),
		admin(call{method: "POST", path: "/api/dashboards/db", org: "2", body: `{"dashboard":{"uid":"d1","title":"T","version":1}}`, status: 200, want: `"version":2`}),
		admin(call{method: "POST", path: "/api/dashboards/db", org: "2", body: `{"dashboard":{"uid":"d2","title":"t"}}`, status: 412, want: "name-exists"}),
		admin(call{method: "POST", path: "/api/dashboards/db", org: "2", body: `{"dashboard":{"uid":"bad uid","title":"x"}}`, status: 400, want: "illegal"}),
		admin(call{method: "POST", path: "/api/dashboards/db", org: "2", body: `{"dashboard":{"uid":"d3"}}`, status: 400, want: "title"}),
		{method: "GET", path: "/api/dashboards/uid/d1", user: "v", pw: "vvvv", status: 200, want: `"canSave":false`},
		{method: "POST", path: "/api/dashboards/db", user: "v", pw: "vvvv", body: `{"dashboard":{"uid":"d1","title":"T"},"overwrite":true}`, status: 403, want: "Permission denied"},
		{method: "POST", path: "/api/dashboards/db", user: "ed", pw: "eeee", body: `{"dashboard":{"uid":"d1","title":"T"},"overwrite":true}`, status: 200, want: `"version":3`},
		admin(call{method: "GET", path: "/api/dashboards/uid/d1", status: 404, want: "not found"}), // admin's org 1
		admin(call{method: "DELETE", path: "/api/orgs/2", status: 200}),
		{method: "GET", path: "/api/dashboards/uid/d1", user: "v", pw: "vvvv", status: 403}, // no org left
	} {
		do(t, url, c)
	}
}

func TestDataSourceProxy(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" as "+u+":"+p+" cookie="+r.Header.Get("Cookie"))
		mu.Unlock()
		w.Write([]byte(`{"results":[]}`))
	}))
	defer backend.Close()
	_, url := grafanastandin.Start(t, grafanastandin.Options{})
	admin := func(c call) call { c.user, c.pw = "admin", "admin"; return c }
	for _, c := range []call{
		admin(call{method: "POST", path: "/api/datasources", body: `{"uid":"ds1","name":"i","type":"influxdb","url":"` + backend.URL + `/base","user":"reader","secureJsonData":{"password":"s3cret"}}`, status: 200}),
		admin(call{method: "POST", path: "/api/admin/users", body: `{"login":"v","password":"vvvv"}`, status: 200}), // Viewer in org 1
		{method: "POST", path: "/api/datasources/proxy/uid/ds1/query?db=x&q=SHOW+DATABASES", user: "v", pw: "vvvv", status: 200, want: `"results"`},
		{method: "GET", path: "/api/datasources/proxy/uid/nope/query", user: "v", pw: "vvvv", status: 404, want: "datasource"},
		{method: "GET", path: "/api/datasources/proxy/uid/ds1/query", user: "v", pw: "bad", status: 401},
		admin(call{method: "POST", path: "/api/orgs", body: `{"name":"o"}`, status: 200}),
		admin(call{method: "GET", path: "/api/datasources/proxy/uid/ds1/query", org: "2", status: 404}), // another org's data source
	} {
		do(t, url, c)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "POST /base/query?db=x&q=SHOW+DATABASES as reader:s3cret cookie="; len(seen) != 1 || seen[0] != want {
		t.Errorf("the backend saw %q, want only %q (the stored credentials, not the caller's)", seen, want)
	}
}
