package server

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/karana-project/karana/pkg/api/apierr"
	"github.com/karana-project/karana/pkg/api/store"
)

// SyncUser and SyncKarana are what the syncer needs of a record (they
// mirror pkg/syncer's User and Karana; serve adapts one to the other).
type SyncUser struct {
	UUID, Name, Email, Login, Role, InfluxPassword string
	Karanas                                        []string
}

// SyncKarana is a karana as the syncer sees it.
type SyncKarana struct{ UUID, Name, Owner, InfluxPassword string }

// Syncer brings records into InfluxDB and Grafana, checking before acting.
type Syncer interface {
	SyncKarana(ctx context.Context, k SyncKarana) (changed bool, err error)
	SyncUser(ctx context.Context, u SyncUser, karanas []SyncKarana) (changed bool, err error)
}

// SyncResult is one record's outcome in the sync response.
type SyncResult struct {
	Resource string `json:"resource"`
	ID       string `json:"id"`
	Synced   bool   `json:"synced"`
	Changed  bool   `json:"changed"`
	Error    string `json:"error,omitempty"`
}

// syncTimeout bounds one sync run.
const syncTimeout = 5 * time.Minute

// handleSync: POST /v1/sync/all/db. Karanas first, then users; a failure
// leaves that record out of sync and is reported.
func (s *Server) handleSync(w http.ResponseWriter, r *http.Request, c Caller) error {
	if !c.Admin() {
		return apierr.Forbidden("", "only an admin may sync")
	}
	if s.Syncer == nil {
		return apierr.New(http.StatusServiceUnavailable, "sync is not configured: set influxdb and grafana (url, user, password) and tenant.id in the config")
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), syncTimeout)
	defer cancel()
	results := []SyncResult{}
	// A karana's change (a rename) also changes its owner's dashboard: the
	// owner is synced too. Moves, creations and deletions change the
	// owners' karanas lists, which puts those users out of sync anyway.
	owners := map[string]bool{}
	for _, e := range s.Store.OutOfSync("karanas") {
		changed, err := s.Syncer.SyncKarana(ctx, karanaOf(e))
		results = append(results, s.syncDone("karanas", e, changed, err))
		if e.Owner != "" {
			owners[e.Owner] = true
		}
	}
	for _, e := range s.usersToSync(owners) {
		var ks []SyncKarana
		for _, k := range s.karanasOf(e) {
			ks = append(ks, karanaOf(k))
		}
		changed, err := s.Syncer.SyncUser(ctx, userOf(e), ks)
		results = append(results, s.syncDone("users", e, changed, err))
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
	return nil
}

// usersToSync is the users out of sync and those named in also, by id.
func (s *Server) usersToSync(also map[string]bool) []*store.Entry {
	out := s.Store.OutOfSync("users")
	for _, e := range out {
		delete(also, e.ID)
	}
	for id := range also {
		if e, ok := s.Store.Get("users", id); ok {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) syncDone(res string, e *store.Entry, changed bool, err error) SyncResult {
	out := SyncResult{Resource: res, ID: e.ID, Changed: changed}
	if err != nil {
		out.Error = err.Error()
		s.log.Warn("sync failed", "resource", res, "id", e.ID, "err", err)
		return out
	}
	out.Synced = s.Store.MarkSynced(res, e)
	if !out.Synced {
		out.Error = "the record changed during the sync; it stays out of sync"
	}
	return out
}

// karanasOf returns the karanas a user owns or lists, sorted by id.
func (s *Server) karanasOf(u *store.Entry) []*store.Entry {
	seen := map[string]bool{}
	var out []*store.Entry
	for _, k := range s.Store.List("karanas") {
		if k.Owner == u.ID {
			seen[k.ID] = true
			out = append(out, k)
		}
	}
	listed, _ := u.Rec()["karanas"].([]any)
	for _, v := range listed {
		id, _ := v.(string)
		if k, ok := s.Store.Get("karanas", id); ok && !seen[id] {
			seen[id] = true
			out = append(out, k)
		}
	}
	return out
}

func karanaOf(e *store.Entry) SyncKarana {
	rec := e.Rec()
	return SyncKarana{UUID: e.ID, Name: str(rec, "name"), Owner: str(rec, "owner"), InfluxPassword: str(rec, "password_influx")}
}

func userOf(e *store.Entry) SyncUser {
	rec := e.Rec()
	u := SyncUser{UUID: e.ID, Name: str(rec, "name"), Email: str(rec, "email"), Role: str(rec, "role"),
		InfluxPassword: str(rec, "password_influx")}
	if c, ok := rec["credentials"].(map[string]any); ok {
		u.Login, _ = c["login"].(string)
	}
	listed, _ := rec["karanas"].([]any)
	for _, v := range listed {
		if id, ok := v.(string); ok {
			u.Karanas = append(u.Karanas, id)
		}
	}
	return u
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}
