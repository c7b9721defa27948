package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/api"
)

// An old API's dump: the seed's layout, sha512-crypt hashes ("Hello world!"
// hashed as in the SHA-crypt specification, and with explicit rounds).
const oldDump = `{
"users": {
 "4e1fcc06-7ccc-4b81-be93-e7bae73daf2a": {"credentials": {"password": "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "login": "micha@ex.de"},
  "uuid": "4e1fcc06-7ccc-4b81-be93-e7bae73daf2a", "created_at": "2017-03-02T15:26:11.767166+00:00", "email": "micha@ex.de",
  "password_influx": "UUTQAMMMLZoZ3RTK", "role": "admin", "karanas": ["9b2e1f3c-5d4a-4e6b-8c7d-0a1b2c3d4e5f"], "name": "Micha"},
 "0c7e2a1b-3d4f-4a5b-9c6d-7e8f9a0b1c2d": {"credentials": {"password": "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.", "login": "ana@ex.de"},
  "uuid": "0c7e2a1b-3d4f-4a5b-9c6d-7e8f9a0b1c2d", "created_at": "2017-03-02T16:00:00.000000", "email": "ana@ex.de",
  "password_influx": "ABCDEFGHIJKLMNOP", "role": "client", "karanas": [], "name": "Ana"}
},
"karanas": {
 "9b2e1f3c-5d4a-4e6b-8c7d-0a1b2c3d4e5f": {"uuid": "9b2e1f3c-5d4a-4e6b-8c7d-0a1b2c3d4e5f", "name": "K1", "configuration": {"interval": 60},
  "owner": "4e1fcc06-7ccc-4b81-be93-e7bae73daf2a", "created_at": "2017-03-02T15:30:00+00:00"}
}
}`

func TestOldDumpMigrates(t *testing.T) {
	cfg := testConfig(t)
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "table_db.json"), []byte(oldDump), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, cfg, &fakeSyncer{})
	tok := e.login("micha@ex.de", "Hello world!")
	e.login("ana@ex.de", "Hello world!")
	code, out := e.do("GET", "/v1/karanas/9b2e1f3c-5d4a-4e6b-8c7d-0a1b2c3d4e5f", tok, nil)
	if code != 200 {
		t.Fatalf("old karana: %d %v", code, out)
	}
	data, _ := os.ReadFile(filepath.Join(cfg.DataDir, "table_db.json"))
	if strings.Contains(string(data), "$6$") {
		t.Error("the sha512-crypt hashes should be replaced by argon2id after login")
	}
	if strings.Count(string(data), "$argon2id$") != 3 { // the two old users and the test admin
		t.Errorf("want 3 argon2id hashes in the dump:\n%s", data)
	}
	e.login("micha@ex.de", "Hello world!") // the new hash verifies
}

func TestCorruptDumpNamesTheRecord(t *testing.T) {
	tests := []struct{ name, dump, want string }{
		{"bad email", strings.Replace(oldDump, `"email": "ana@ex.de"`, `"email": "ana"`, 1), "users 0c7e2a1b-3d4f-4a5b-9c6d-7e8f9a0b1c2d: email"},
		{"missing name", strings.Replace(oldDump, `"name": "K1", `, ``, 1), "karanas 9b2e1f3c-5d4a-4e6b-8c7d-0a1b2c3d4e5f: name"},
		{"uuid differs from key", strings.Replace(oldDump, `"uuid": "0c7e2a1b`, `"uuid": "1c7e2a1b`, 1), "users 0c7e2a1b-3d4f-4a5b-9c6d-7e8f9a0b1c2d: uuid"},
		{"duplicate email", strings.Replace(oldDump, `"email": "ana@ex.de"`, `"email": "micha@ex.de"`, 1), "email: value micha@ex.de is also used"},
		{"plain password", strings.Replace(oldDump, `"$6$saltstring$svn8`, `"svn8`, 1), "credentials.password"},
		{"unknown resource", strings.Replace(oldDump, `"karanas": {`, `"payg": {`, 1), `resource "payg" is not configured`},
		{"truncated", oldDump[:200], "not an object of resources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			os.WriteFile(filepath.Join(cfg.DataDir, "table_db.json"), []byte(tt.dump), 0o600)
			_, err := api.Build(context.Background(), cfg, api.Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
