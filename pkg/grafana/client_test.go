package grafana_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/karana-project/karana/e2e/grafanastandin"
	"github.com/karana-project/karana/pkg/grafana"
)

func newClient(t *testing.T) (*grafana.Client, *grafanastandin.Server) {
	t.Helper()
	srv, url := grafanastandin.Start(t, grafanastandin.Options{AdminUser: "boss", AdminPassword: "s3cret"})
	c, err := grafana.New(url, "boss", "s3cret", nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestOrgsUsersMembership(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()

	if h, err := c.Health(ctx); err != nil || h.Database != "ok" {
		t.Fatalf("health = %+v, %v", h, err)
	}
	if _, err := c.OrgByName(ctx, "acme/1"); !errors.Is(err, grafana.ErrNotFound) {
		t.Fatalf("missing org: got %v, want ErrNotFound", err)
	}
	orgID, err := c.CreateOrg(ctx, "acme/1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateOrg(ctx, "acme/1"); !errors.Is(err, grafana.ErrConflict) {
		t.Fatalf("second org with the name: got %v, want ErrConflict", err)
	}
	if o, err := c.OrgByName(ctx, "acme/1"); err != nil || o.ID != orgID {
		t.Fatalf("OrgByName = %+v, %v; want id %d", o, err, orgID)
	}

	uid, err := c.CreateUser(ctx, grafana.NewUser{Name: "Ann", Email: "ann@x.org", Login: "ann", Password: "pw-ann", OrgID: orgID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateUser(ctx, grafana.NewUser{Email: "ANN@x.org", Login: "other", Password: "pw-ann"})
	if !errors.Is(err, grafana.ErrPreconditionFailed) {
		t.Fatalf("user with a taken email: got %v, want ErrPreconditionFailed", err)
	}
	orgs, err := c.UserOrgs(ctx, uid)
	if err != nil || len(orgs) != 1 || orgs[0].OrgID != orgID || orgs[0].Role != "Viewer" {
		t.Fatalf("user created with OrgId belongs to %+v, %v; want only org %d as Viewer", orgs, err, orgID)
	}
	if err := c.AddOrgUser(ctx, orgID, "ann", "Editor"); !errors.Is(err, grafana.ErrConflict) {
		t.Fatalf("adding a member again: got %v, want ErrConflict", err)
	}
	if err := c.SetOrgUserRole(ctx, orgID, uid, "Editor"); err != nil {
		t.Fatal(err)
	}
	members, err := c.OrgUsers(ctx, orgID)
	if err != nil || len(members) != 2 {
		t.Fatalf("members = %+v, %v; want creator and ann", members, err)
	}

	if me, err := c.As("ann", "pw-ann").CurrentUser(ctx); err != nil || me.ID != uid || me.OrgID != orgID {
		t.Fatalf("ann's /api/user = %+v, %v", me, err)
	}
	if _, err := c.As("ann", "wrong").CurrentUser(ctx); !errors.Is(err, grafana.ErrUnauthorized) {
		t.Fatalf("wrong password: got %v, want ErrUnauthorized", err)
	}
	if _, err := c.As("ann", "pw-ann").CreateOrg(ctx, "mine"); !errors.Is(err, grafana.ErrForbidden) {
		t.Fatalf("non-admin creating an org: got %v, want ErrForbidden", err)
	}
	if err := c.SetUserPassword(ctx, uid, "pw-new"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.As("ann", "pw-new").CurrentUser(ctx); err != nil {
		t.Fatalf("new password refused: %v", err)
	}
}

func TestUserLandsInOrgOneAndIsDeletedWithItsLastOrg(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	uid, err := c.CreateUser(ctx, grafana.NewUser{Login: "bob", Email: "bob@x.org", Password: "pw-bob"})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := c.LookupUser(ctx, "bob@x.org"); err != nil || u.ID != uid || u.OrgID != 1 {
		t.Fatalf("lookup = %+v, %v; want id %d in org 1", u, err, uid)
	}
	if err := c.RemoveOrgUser(ctx, 1, uid); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LookupUser(ctx, "bob"); !errors.Is(err, grafana.ErrNotFound) {
		t.Fatalf("user removed from its only org: got %v, want ErrNotFound (deleted)", err)
	}
}

func TestDataSources(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	orgID, err := c.CreateOrg(ctx, "o")
	if err != nil {
		t.Fatal(err)
	}
	ds := grafana.DataSource{Name: "Influx", Type: "influxdb", Access: "proxy", URL: "http://i:8086",
		User: "u", Database: "db", JSONData: map[string]any{"dbName": "db", "httpMode": "POST"},
		SecureJSONData: map[string]string{"password": "pw"}}
	created, err := c.CreateDataSource(ctx, orgID, ds)
	if err != nil || created.UID == "" {
		t.Fatalf("create = %+v, %v", created, err)
	}
	if _, err := c.CreateDataSource(ctx, orgID, ds); !errors.Is(err, grafana.ErrConflict) {
		t.Fatalf("same name again: got %v, want ErrConflict", err)
	}
	if _, err := c.DataSourceByName(ctx, 1, "Influx"); !errors.Is(err, grafana.ErrNotFound) {
		t.Fatalf("data source is visible in org 1: %v", err)
	}
	got, err := c.DataSourceByName(ctx, orgID, "Influx")
	if err != nil || got.Database != "db" || !got.SecureJSONFields["password"] || got.SecureJSONData != nil {
		t.Fatalf("get = %+v, %v; want db, password set but not returned", got, err)
	}
	got.URL = "http://j:8086"
	if err := c.UpdateDataSource(ctx, orgID, got.UID, got); err != nil {
		t.Fatal(err)
	}
	if again, _ := c.DataSourceByName(ctx, orgID, "Influx"); again.URL != "http://j:8086" || !again.SecureJSONFields["password"] {
		t.Fatalf("after update = %+v; want new url and password kept", again)
	}

	// A user who is not a member of the org cannot act in it.
	if _, err := c.CreateUser(ctx, grafana.NewUser{Login: "eve", Password: "pw-eve"}); err != nil {
		t.Fatal(err)
	}
	eve := c.As("eve", "pw-eve")
	if _, err := eve.DataSourceByName(ctx, orgID, "Influx"); !errors.Is(err, grafana.ErrUnauthorized) {
		t.Fatalf("non-member with org header: got %v, want 401", err)
	}
	if _, err := eve.DataSourceByName(ctx, 1, "Influx"); !errors.Is(err, grafana.ErrForbidden) {
		t.Fatalf("Viewer reading data sources: got %v, want 403", err)
	}
}

func TestErrorsNameTheCall(t *testing.T) {
	c, srv := newClient(t)
	srv.Fail(http.MethodPost, "/api/orgs", 500, 1)
	_, err := c.CreateOrg(context.Background(), "x")
	var apiErr *grafana.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 500 || apiErr.Call != "POST /api/orgs" || apiErr.Message != "injected failure" {
		t.Fatalf("got %#v, want a 500 APIError naming POST /api/orgs", err)
	}
	if _, err := c.CreateOrg(context.Background(), "x"); err != nil {
		t.Fatalf("after the injected failure: %v", err)
	}
}
