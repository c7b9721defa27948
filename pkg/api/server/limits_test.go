package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestJSONFieldAndClientLimits: a karana's configuration is bounded
// (default 64 KiB) and so is everything one client stores.
func TestJSONFieldAndClientLimits(t *testing.T) {
	e := newEnv(t)
	_, ta := e.createUser("alice", "client")
	big := map[string]any{"blob": strings.Repeat("x", 64<<10)}
	code, out := e.do("POST", "/v1/karanas/new", ta, map[string]any{"name": "k", "configuration": big})
	if code != http.StatusBadRequest || errField(out) != "configuration" {
		t.Errorf("a 64 KiB + 11 bytes configuration: %d %v, want 400 naming configuration", code, out)
	}
	k := e.createKarana(ta, "k")
	if code, out := e.do("PATCH", "/v1/karanas/"+k, ta, map[string]any{"configuration": big}); code != http.StatusBadRequest {
		t.Errorf("patching in a too large configuration: %d %v, want 400", code, out)
	}
	ok := map[string]any{"blob": strings.Repeat("x", 60<<10)}
	if code, out := e.do("PATCH", "/v1/karanas/"+k, ta, map[string]any{"configuration": ok}); code != 200 {
		t.Errorf("a 60 KiB configuration: %d %v, want 200", code, out)
	}
}

func TestClientTotalIsBounded(t *testing.T) {
	cfg := testConfig(t)
	cfg.Limits.JSONFieldBytes, cfg.Limits.ClientBytes = 2000, 10000
	e := newEnvWith(t, cfg, &fakeSyncer{})
	a, ta := e.createUser("alice", "client")
	conf := map[string]any{"blob": strings.Repeat("x", 1900)}
	made := 0
	for ; made < 20; made++ {
		code, out := e.do("POST", "/v1/karanas/new", ta, map[string]any{"name": "k", "configuration": conf})
		if code == http.StatusRequestEntityTooLarge {
			if !strings.Contains(out["error"].(map[string]any)["message"].(string), "limits.client_bytes") {
				t.Errorf("the 413 does not name the limit: %v", out)
			}
			break
		}
		if code != http.StatusCreated {
			t.Fatalf("karana %d: %d %v", made, code, out)
		}
	}
	if made < 3 || made > 5 {
		t.Errorf("alice stored %d karanas of ~2 KB under a 10,000-byte bound; want 3 to 5, then 413", made)
	}
	// Another user is not affected; an admin writing for alice is bound too.
	_, tb := e.createUser("bob", "client")
	if code, _ := e.do("POST", "/v1/karanas/new", tb, map[string]any{"name": "k", "configuration": conf}); code != http.StatusCreated {
		t.Errorf("bob's first karana: %d", code)
	}
	if code, _ := e.do("POST", "/v1/karanas/new", e.admin, map[string]any{"name": "k", "owner": a, "configuration": conf}); code != http.StatusRequestEntityTooLarge {
		t.Errorf("an admin adding to alice's full quota: %d, want 413", code)
	}
}
