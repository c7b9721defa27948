package server_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/karana-project/karana/pkg/api/config"
)

func TestDeclaredResource(t *testing.T) {
	p := filepath.Join(t.TempDir(), "api.yaml")
	os.WriteFile(p, []byte(`resources:
  - name: sensors
    owner: owner
    unique: [serial]
    fields:
      - {name: serial, type: string, required: true, pattern: "^[A-Z0-9]+$"}
      - {name: owner, type: uuid, required: true, ref: users}
      - {name: kind, type: string, enum: [temp, volt], default: temp}
      - {name: rate, type: int}
  - name: notes
    fields:
      - {name: text, type: string, required: true}
`), 0o600)
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	base := testConfig(t)
	cfg.DataDir, cfg.Git, cfg.Argon2, cfg.JWT = base.DataDir, base.Git, base.Argon2, base.JWT
	e := newEnvWith(t, cfg, nil)
	a, ta := e.createUser("alice", "client")
	_, tb := e.createUser("bob", "client")
	code, out := e.do("POST", "/v1/sensors/new", ta, map[string]any{"serial": "S1", "rate": 5})
	if code != 201 {
		t.Fatalf("create sensor: %d %v", code, out)
	}
	id := onlyID(t, out)
	if rec := records(t, out)[id].(map[string]any); rec["owner"] != a || rec["kind"] != "temp" {
		t.Errorf("owner and default: %v", rec)
	}
	tests := []struct {
		name, method, path, token string
		body                      any
		want                      int
		field                     string
	}{
		{"pattern", "POST", "/v1/sensors/new", ta, map[string]any{"serial": "s-1"}, 400, "serial"},
		{"enum", "POST", "/v1/sensors/new", ta, map[string]any{"serial": "S2", "kind": "wind"}, 400, "kind"},
		{"int", "POST", "/v1/sensors/new", ta, map[string]any{"serial": "S2", "rate": 1.5}, 400, "rate"},
		{"unique", "POST", "/v1/sensors/new", tb, map[string]any{"serial": "S1"}, 409, "serial"},
		{"other owner reads", "GET", "/v1/sensors/" + id, tb, nil, 403, ""},
		{"no owner field: admin only", "POST", "/v1/notes/new", ta, map[string]any{"text": "x"}, 403, ""},
		{"no owner field: admin", "POST", "/v1/notes/new", e.admin, map[string]any{"text": "x"}, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := e.do(tt.method, tt.path, tt.token, tt.body)
			if code != tt.want || (tt.field != "" && errField(out) != tt.field) {
				t.Errorf("got %d %v, want %d naming %q", code, out, tt.want, tt.field)
			}
		})
	}
}
