package secrets

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestEnsureGeneratesOnceWithPrivateModes(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "secrets", "karana")}
	a, created, err := s.Ensure("acme", "admin@acme.test")
	if err != nil || !created {
		t.Fatalf("Ensure = %v, created %v", err, created)
	}
	b, created, err := s.Ensure("acme", "admin@acme.test")
	if err != nil || created {
		t.Fatalf("second Ensure = %v, created %v", err, created)
	}
	if *a != *b {
		t.Errorf("second Ensure generated new secrets: %+v != %+v", a, b)
	}
	if a.InfluxDB.Password == a.Grafana.Password || a.API.Password == a.Grafana.Password || len(a.InfluxDB.Password) != 24 || len(a.API.Password) != 24 || a.API.User != "admin@acme.test" {
		t.Errorf("weak or repeated passwords: %+v", a)
	}
	st, _ := os.Stat(s.Dir)
	if st.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v, want 0700", st.Mode().Perm())
	}
	st, _ = os.Stat(s.Path("acme"))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	c, _, _ := s.Ensure("other", "admin@other.test")
	if c.JWTSecret == a.JWTSecret {
		t.Error("two tenants got the same JWT secret")
	}
}

// A file from before the API admin keeps its passwords and gains one.
func TestEnsureCompletesOldFile(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	old := "influxdb:\n    user: admin\n    password: influxpw\ngrafana:\n    user: admin\n    password: grafanapw\njwt_secret: jwtsecretjwtsecretjwtsecretjwtsecret\n"
	if err := os.WriteFile(s.Path("old"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	a, created, err := s.Ensure("old", "admin@old.test")
	if err != nil || !created {
		t.Fatalf("Ensure = %v, created %v; want the API admin added", err, created)
	}
	if a.InfluxDB.Password != "influxpw" || a.Grafana.Password != "grafanapw" || a.JWTSecret != "jwtsecretjwtsecretjwtsecretjwtsecret" {
		t.Errorf("existing secrets changed: %+v", a)
	}
	if a.API.User != "admin@old.test" || len(a.API.Password) != 24 {
		t.Errorf("API admin = %+v", a.API)
	}
	b, created, err := s.Ensure("old", "admin@old.test")
	if err != nil || created || *b != *a {
		t.Errorf("second Ensure: %+v, created %v, %v", b, created, err)
	}
}

func TestLoadRejectsIncompleteFile(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	os.WriteFile(s.Path("x"), []byte("influxdb: {user: admin}\n"), 0o600)
	if _, _, err := s.Ensure("x", "admin@x.test"); err == nil {
		t.Fatal("incomplete secrets accepted")
	}
}

func TestRemoveIsIdempotent(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	s.Ensure("x", "admin@x.test")
	if err := s.Remove("x"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("x"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path("x")); !os.IsNotExist(err) {
		t.Errorf("file still there: %v", err)
	}
}

func TestTenantIDShape(t *testing.T) {
	re := regexp.MustCompile(`^[A-Z2-7]{13}$`)
	if a, b := TenantID(), TenantID(); !re.MatchString(a) || a == b {
		t.Errorf("ids %q %q", a, b)
	}
}
