package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// tenantCreds is `karana tenant credentials NAME -o json`.
type tenantCreds struct {
	API, Grafana, InfluxDB struct{ URL, Login, Password string }
}

func credentialsOf(t *testing.T, inv, name string) tenantCreds {
	t.Helper()
	r := mustKarana(t, inv, "tenant", "credentials", name, "-o", "json")
	var c tenantCreds
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatalf("tenant credentials %s -o json: %v\n%s", name, err, r)
	}
	var raw map[string]map[string]string
	json.Unmarshal([]byte(r.stdout), &raw)
	for _, k := range []string{"api", "grafana", "influxdb"} {
		if raw[k]["url"] == "" || raw[k]["login"] == "" || raw[k]["password"] == "" {
			t.Errorf("credentials %s: %s lacks url, login or password: %s", name, k, r.stdout)
		}
	}
	return c
}

// req is one request through lb0: only the Host header (and SNI) says
// which service it is for.
type req struct {
	method, host, path string
	bearer             string
	user, password     string // Basic auth
	body               string
	contentType        string
}

func (q req) do(t *testing.T) (int, string) {
	t.Helper()
	code, body, err := q.via(lb0)
	if err != nil {
		t.Fatalf("%s https://%s%s via lb0: %v", q.method, q.host, q.path, err)
	}
	return code, body
}

// want sends q and fails unless it answers status; it returns the body.
func (q req) want(t *testing.T, status int) string {
	t.Helper()
	code, body := q.do(t)
	if code != status {
		t.Fatalf("%s https://%s%s via lb0: %d %s, want %d", q.method, q.host, q.path, code, body, status)
	}
	return body
}

// seed sends obj to the API in the seed's request form {"data": "<json>"}.
func seed(method, host, path, token string, obj any) req {
	inner, _ := json.Marshal(obj)
	outer, _ := json.Marshal(map[string]string{"data": string(inner)})
	return req{method: method, host: host, path: path, bearer: token, body: string(outer), contentType: "application/json"}
}

// apiLogin logs in to api.<domain> and returns the token.
func apiLogin(t *testing.T, host, login, password string) string {
	t.Helper()
	body := seed("POST", host, "/v1/users/login", "", map[string]string{"user": login, "password": password}).want(t, 200)
	var out struct{ Results []struct{ Token string } }
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.Results) != 1 || out.Results[0].Token == "" {
		t.Fatalf("login %s on %s: %v %s", login, host, err, body)
	}
	return out.Results[0].Token
}

// oneRecord returns the id and fields of the only record in an answer.
func oneRecord(t *testing.T, body string) (string, map[string]any) {
	t.Helper()
	var out struct{ Results []map[string]map[string]any }
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.Results) != 1 || len(out.Results[0]) != 1 {
		t.Fatalf("want one record: %v %s", err, body)
	}
	for id, rec := range out.Results[0] {
		return id, rec
	}
	return "", nil
}

// hexID is a uuid without dashes, as InfluxDB's names use it (docs/devices.md).
func hexID(uuid string) string { return strings.ReplaceAll(uuid, "-", "") }

// customer is a user of a tenant's API with one karana.
type customer struct {
	id, login, password, influxPassword string
	karana, karanaPassword              string
}

// newCustomer creates a user as the admin and a karana as that user.
func newCustomer(t *testing.T, apiHost, admin, name string) customer {
	t.Helper()
	c := customer{login: name + "@" + strings.TrimPrefix(apiHost, "api."), password: "password-" + name}
	body := seed("POST", apiHost, "/v1/users/new", admin, map[string]any{
		"name": name, "email": c.login, "credentials": map[string]string{"login": c.login, "password": c.password},
	}).want(t, 201)
	var rec map[string]any
	c.id, rec = oneRecord(t, body)
	c.influxPassword, _ = rec["password_influx"].(string)
	tok := apiLogin(t, apiHost, c.login, c.password)
	body = seed("POST", apiHost, "/v1/karanas/new", tok, map[string]any{"name": name + "-field-1", "configuration": map[string]any{"interval": 60}}).want(t, 201)
	c.karana, rec = oneRecord(t, body)
	c.karanaPassword, _ = rec["password_influx"].(string)
	if rec["owner"] != c.id || c.influxPassword == "" || c.karanaPassword == "" {
		t.Fatalf("karana %s: owner %v (want %s), passwords %q %q", c.karana, rec["owner"], c.id, c.influxPassword, c.karanaPassword)
	}
	return c
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

// customerPath is issue 8's customer: the tenant admin (from `tenant
// credentials`) creates a user and a karana and syncs; the karana writes
// a point to influx.<domain>; the user reads it back directly and through
// grafana.<domain>'s data-source proxy and finds the karana's panel. All
// through lb0 with Host headers only.
func customerPath(t *testing.T, inv string, domain string, cred tenantCreds) {
	apiHost, influxHost, grafanaHost := "api."+domain, "influx."+domain, "grafana."+domain
	if cred.API.URL != "https://"+apiHost || cred.InfluxDB.URL != "https://"+influxHost || cred.Grafana.URL != "https://"+grafanaHost {
		t.Errorf("credential URLs %s %s %s", cred.API.URL, cred.InfluxDB.URL, cred.Grafana.URL)
	}
	admin := apiLogin(t, apiHost, cred.API.Login, cred.API.Password)
	ann := newCustomer(t, apiHost, admin, "ann")
	bob := newCustomer(t, apiHost, admin, "bob")
	body := req{method: "POST", host: apiHost, path: "/v1/sync/all/db", bearer: admin}.want(t, 200)
	if strings.Contains(body, `"synced":false`) || strings.Count(body, `"synced":true`) != 5 {
		t.Errorf("sync: want the admin, two users and two karanas synced: %s", body)
	}

	annDB, bobDB := "u_"+hexID(ann.id), "u_"+hexID(bob.id)
	karanaUser := "k_" + hexID(ann.karana)
	ts := time.Now().Unix()
	point := fmt.Sprintf("climate,karana=%s temperature=21.5,humidity=40 %d", ann.karana, ts)
	req{method: "POST", host: influxHost, path: "/write?db=" + annDB + "&precision=s", user: karanaUser, password: ann.karanaPassword,
		body: point, contentType: "text/plain"}.want(t, 204)

	// The user reads it directly with its own InfluxDB credentials.
	q := "/query?" + form("db", annDB, "q", "SELECT temperature FROM climate WHERE karana = '"+ann.karana+"'")
	body = req{host: influxHost, path: q, user: "u_" + hexID(ann.id), password: ann.influxPassword}.want(t, 200)
	if !strings.Contains(body, "21.5") {
		t.Errorf("the user does not read the karana's point: %s", body)
	}

	// The karana can neither read its database nor write into bob's.
	req{host: influxHost, path: q, user: karanaUser, password: ann.karanaPassword}.want(t, 403)
	req{method: "POST", host: influxHost, path: "/write?db=" + bobDB, user: karanaUser, password: ann.karanaPassword,
		body: point, contentType: "text/plain"}.want(t, 403)
	// ann cannot read bob's database.
	req{host: influxHost, path: "/query?" + form("db", bobDB, "q", "SELECT * FROM climate"), user: "u_" + hexID(ann.id), password: ann.influxPassword}.want(t, 403)

	customerGrafana(t, grafanaHost, ann, annDB, point)
}

// customerGrafana finds the karana's panel in the user's dashboard and
// runs its query through the data-source proxy as the user.
func customerGrafana(t *testing.T, grafanaHost string, ann customer, annDB, point string) {
	body := req{host: grafanaHost, path: "/api/dashboards/uid/karana-" + hexID(ann.id), user: ann.login, password: ann.influxPassword}.want(t, 200)
	var d struct {
		Dashboard struct {
			Panels []struct {
				Title, Description string
				Datasource         struct{ Type, UID string }
				Targets            []struct{ Query string }
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("dashboard: %v %s", err, body)
	}
	var query, dsUID string
	for _, p := range d.Dashboard.Panels {
		if p.Description == "karana "+ann.karana && len(p.Targets) == 1 {
			if p.Title != "ann-field-1" {
				t.Errorf("panel title %q, want the karana's name", p.Title)
			}
			query, dsUID = p.Targets[0].Query, p.Datasource.UID
		}
	}
	if query == "" || dsUID == "" {
		t.Fatalf("no panel for karana %s in the user's dashboard: %s", ann.karana, body)
	}
	query = strings.NewReplacer("$timeFilter", "time > now() - 1h", "$__interval", "1m").Replace(query)
	body = req{method: "POST", host: grafanaHost, path: "/api/datasources/proxy/uid/" + dsUID + "/query", user: ann.login, password: ann.influxPassword,
		body: form("db", annDB, "q", query), contentType: "application/x-www-form-urlencoded"}.want(t, 200)
	if !strings.Contains(body, "21.5") || !strings.Contains(body, "mean_temperature") {
		t.Errorf("the panel's query through Grafana's data-source proxy does not show the point %q: %s", point, body)
	}
}

// foreignCredentials checks that tenant other's credentials open nothing
// on the hostnames of domain.
func foreignCredentials(t *testing.T, domain string, other tenantCreds) {
	seed("POST", "api."+domain, "/v1/users/login", "", map[string]string{"user": other.API.Login, "password": other.API.Password}).want(t, 401)
	req{host: "grafana." + domain, path: "/api/user", user: other.Grafana.Login, password: other.Grafana.Password}.want(t, 401)
	req{host: "influx." + domain, path: "/query?q=SHOW+DATABASES", user: other.InfluxDB.Login, password: other.InfluxDB.Password}.want(t, 401)
	req{method: "POST", host: "influx." + domain, path: "/write?db=_internal", user: other.InfluxDB.Login, password: other.InfluxDB.Password, body: "x v=1"}.want(t, 401)
}
