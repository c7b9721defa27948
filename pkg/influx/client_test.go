package influx_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/karana-project/karana/pkg/influx"
	"github.com/karana-project/karana/pkg/influx/influxtest"
)

func TestClientAgainstInfluxd(t *testing.T) {
	srv := influxtest.Start(t)
	ctx := context.Background()
	admin := srv.Client(t)

	if err := admin.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := admin.EnsureAdmin(ctx); err != nil {
		t.Fatalf("repeating the admin bootstrap: %v", err)
	}
	mustExec(t, admin, influx.CreateDatabase("db1"))
	mustExec(t, admin, influx.CreateDatabase("db1")) // idempotent
	mustExec(t, admin, influx.CreateUser("w", "pw", false))

	err := admin.Exec(ctx, influx.CreateUser("w", "other", false))
	if !errors.Is(err, influx.ErrUserExists) {
		t.Fatalf("CREATE USER with another password: got %v, want ErrUserExists", err)
	}
	var se *influx.StatementError
	if !errors.As(err, &se) || se.Statement != `CREATE USER "w" WITH PASSWORD '***'` {
		t.Fatalf("statement error %#v does not name the redacted statement", err)
	}

	mustExec(t, admin, influx.Grant(influx.Read, "db1", "w"))
	mustExec(t, admin, influx.Grant(influx.Write, "db1", "w"))
	grants, err := admin.Grants(ctx, "w")
	if err != nil || grants["db1"] != influx.Write || len(grants) != 1 {
		t.Fatalf("grants after READ then WRITE = %v, %v; want only db1: WRITE", grants, err)
	}
	mustExec(t, admin, influx.Revoke("db1", "w"))
	if grants, _ := admin.Grants(ctx, "w"); len(grants) != 0 {
		t.Fatalf("grants after revoke = %v, want none", grants)
	}

	if err := admin.DropUser(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	if err := admin.DropUser(ctx, "w"); err != nil {
		t.Fatalf("dropping a missing user should count as done: %v", err)
	}
	if err := admin.Exec(ctx, influx.Grant(influx.Read, "nodb", "root")); !errors.Is(err, influx.ErrDatabaseNotFound) {
		t.Fatalf("grant on a missing db: got %v, want ErrDatabaseNotFound", err)
	}
	if err := admin.Exec(ctx, influx.Statement{Text: "SELEC", Redacted: "SELEC"}); !influx.IsStatus(err, http.StatusBadRequest) {
		t.Fatalf("parse error: got %v, want HTTP 400", err)
	}
	if _, err := admin.As("root", "wrong").Users(ctx); !errors.Is(err, influx.ErrUnauthorized) {
		t.Fatalf("bad password: got %v, want ErrUnauthorized", err)
	}
}

// Names and passwords full of quoting hazards must round-trip exactly and
// must not change the statement they are placed in.
func TestQuotingAgainstInfluxd(t *testing.T) {
	srv := influxtest.Start(t)
	ctx := context.Background()
	admin := srv.Client(t)
	hostile := []struct{ name, password string }{
		{`a"b`, `it's`},
		{"line\nbreak", "pass\nword"},
		{`back\slash`, `\'; DROP DATABASE "x"; --`},
		{`x" WITH ALL PRIVILEGES; --`, `' WITH ALL PRIVILEGES --`},
		{`"; DROP USER "root`, `\\'\\"`},
	}
	for _, h := range hostile {
		mustExec(t, admin, influx.CreateUser(h.name, h.password, false))
	}
	users, err := admin.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]bool{}
	for _, u := range users {
		byName[u.Name] = u.Admin
	}
	for _, h := range hostile {
		isAdmin, ok := byName[h.name]
		if !ok {
			t.Errorf("user %q missing from SHOW USERS %v", h.name, users)
		}
		if isAdmin {
			t.Errorf("user %q became an admin", h.name)
		}
		ok, err := srv.Client(t).Authenticate(ctx, h.name, h.password)
		if err != nil || !ok {
			t.Errorf("user %q cannot log in with its password: %v %v", h.name, ok, err)
		}
	}
	if _, ok := byName["root"]; !ok || len(users) != len(hostile)+1 {
		t.Errorf("users = %v, want root plus the %d created", users, len(hostile))
	}
}

func mustExec(t *testing.T, c *influx.Client, st influx.Statement) {
	t.Helper()
	if err := c.Exec(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}
