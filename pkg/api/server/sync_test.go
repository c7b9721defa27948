package server_test

import (
	"net/http"
	"testing"

	"github.com/karana-project/karana/pkg/api/store"
)

type syncResult struct {
	Resource, ID, Error string
	Synced, Changed     bool
}

func (e *env) syncAll() (int, []syncResult) {
	e.t.Helper()
	code, out := e.do("POST", "/v1/sync/all/db", e.admin, nil)
	var res []syncResult
	list, _ := out["results"].([]any)
	for _, r := range list {
		m := r.(map[string]any)
		sr := syncResult{Resource: m["resource"].(string), ID: m["id"].(string), Synced: m["synced"].(bool), Changed: m["changed"].(bool)}
		sr.Error, _ = m["error"].(string)
		res = append(res, sr)
	}
	return code, res
}

func TestSync(t *testing.T) {
	fs := &fakeSyncer{fail: map[string]bool{}}
	e := newEnvWith(t, testConfig(t), fs)
	a, ta := e.createUser("alice", "client")
	k := e.createKarana(ta, "k")
	fs.fail[a] = true

	code, res := e.syncAll()
	if code != http.StatusOK || len(res) != 3 {
		t.Fatalf("first sync: %d %+v", code, res)
	}
	if res[0].Resource != "karanas" || res[0].ID != k || !res[0].Synced || !res[0].Changed {
		t.Errorf("karanas sync first: %+v", res[0])
	}
	for _, r := range res[1:] {
		switch {
		case r.ID == a && (r.Synced || r.Error == ""):
			t.Errorf("a failed user must be reported out of sync: %+v", r)
		case r.ID != a && !r.Synced:
			t.Errorf("the admin should be synced: %+v", r)
		}
	}
	delete(fs.fail, a)
	code, res = e.syncAll()
	if code != 200 || len(res) != 1 || res[0].ID != a || !res[0].Synced {
		t.Fatalf("second sync retries only the failed user: %+v", res)
	}
	if got := fs.karanas[a]; len(got) != 1 || got[0] != k {
		t.Errorf("the user's karanas given to the syncer: %v", got)
	}
	if _, res = e.syncAll(); len(res) != 0 {
		t.Errorf("a third sync must change nothing: %+v", res)
	}
	e.do("PATCH", "/v1/karanas/"+k, ta, map[string]any{"name": "renamed"})
	if _, res = e.syncAll(); len(res) != 2 || res[0].ID != k || res[1].ID != a || !res[1].Synced {
		t.Errorf("a renamed karana and its owner (whose dashboard shows the name) are synced again: %+v", res)
	}
	if _, res = e.syncAll(); len(res) != 0 {
		t.Errorf("then nothing is left: %+v", res)
	}
}

func TestSyncNotConfigured(t *testing.T) {
	e := newEnvWith(t, testConfig(t), nil)
	code, out := e.do("POST", "/v1/sync/all/db", e.admin, nil)
	if code != http.StatusServiceUnavailable {
		t.Errorf("got %d %v, want 503", code, out)
	}
}

// TestRemovalOfARecordThatCameBack: a pending removal whose record is in
// the store again (a dump restored from before the deletion) is dropped,
// not carried out.
func TestRemovalOfARecordThatCameBack(t *testing.T) {
	fs := &fakeSyncer{fail: map[string]bool{}}
	e := newEnvWith(t, testConfig(t), fs)
	_, ta := e.createUser("alice", "client")
	k := e.createKarana(ta, "k")
	e.syncAll()
	entry, _ := e.app.Store.Get("karanas", k)
	if code, _ := e.do("DELETE", "/v1/karanas/"+k, ta, nil); code != 200 {
		t.Fatal("delete failed")
	}
	if err := e.app.Store.Apply("restore", store.Change{Res: "karanas", ID: k, Rec: entry.Rec()}); err != nil {
		t.Fatal(err)
	}
	_, res := e.syncAll()
	for _, r := range res {
		if r.ID == k && r.Resource == "karanas" && !r.Synced {
			t.Errorf("the restored karana: %+v", r)
		}
	}
	if len(fs.removed) != 0 {
		t.Errorf("removals carried out: %v, want none (the karana is back)", fs.removed)
	}
}
