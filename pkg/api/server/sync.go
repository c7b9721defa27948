package server

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/karana-project/karana/pkg/api/apierr"
	"github.com/karana-project/karana/pkg/api/store"
	"github.com/karana-project/karana/pkg/api/syncstate"
)

// SyncUser and SyncKarana are what the syncer needs of a record (they
// mirror pkg/syncer's User and Karana; serve adapts one to the other).
type SyncUser struct {
	UUID, Name, Email, Login, Role, InfluxPassword string
	Karanas                                        []string
	GrafanaUserID                                  int64
}

// SyncKarana is a karana as the syncer sees it.
type SyncKarana struct{ UUID, Name, Owner, InfluxPassword string }

// UserOutcome is what a user's sync did, and the Grafana account it
// manages (recorded, and passed back as SyncUser.GrafanaUserID).
type UserOutcome struct {
	Changed       bool
	GrafanaUserID int64
}

// Pruned is an object a full reconcile removed because no record explains it.
type Pruned struct{ Resource, ID, What string }

// Syncer brings records into InfluxDB and Grafana, checking before acting.
type Syncer interface {
	SyncKarana(ctx context.Context, k SyncKarana) (changed bool, err error)
	SyncUser(ctx context.Context, u SyncUser, karanas []SyncKarana) (UserOutcome, error)
	RemoveKarana(ctx context.Context, id string) (changed bool, err error)
	RemoveUser(ctx context.Context, u SyncUser, purge bool) (changed bool, err error)
	// Prune removes what the sync made for records not in the lists.
	Prune(ctx context.Context, users, karanas []string) ([]Pruned, error)
}

// Result states in the sync response.
const (
	StateSynced         = "synced"
	StateOutOfSync      = "out_of_sync"
	StateRemoved        = "removed"
	StatePendingRemoval = "pending_removal"
)

// SyncResult is one record's outcome in the sync response.
type SyncResult struct {
	Resource string `json:"resource"`
	ID       string `json:"id"`
	Synced   bool   `json:"synced"`
	Changed  bool   `json:"changed"`
	State    string `json:"state"`
	What     string `json:"what,omitempty"` // for objects a reconcile pruned
	Error    string `json:"error,omitempty"`
}

// syncTimeout bounds one sync run.
const syncTimeout = 5 * time.Minute

func (s *Server) checkSync(c Caller) error {
	if !c.Admin() {
		return apierr.Forbidden("", "only an admin may sync")
	}
	if s.Syncer == nil {
		return apierr.New(http.StatusServiceUnavailable, "sync is not configured: set influxdb and grafana (url, user, password) and tenant.id in the config")
	}
	return nil
}

// handleSync: POST /v1/sync/all/db. Removals first, then karanas, then
// users; a failure leaves that record out of sync (or pending removal) and
// is reported.
func (s *Server) handleSync(w http.ResponseWriter, r *http.Request, c Caller) error {
	if err := s.checkSync(c); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), syncTimeout)
	defer cancel()
	writeJSON(w, http.StatusOK, map[string]any{"results": s.Sync(ctx, false)})
	return nil
}

// handleReconcile: POST /v1/sync/all/reconcile. Like the sync, but every
// record is checked whatever its sync state, and what the sync made for
// records that no longer exist is removed.
func (s *Server) handleReconcile(w http.ResponseWriter, r *http.Request, c Caller) error {
	if err := s.checkSync(c); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), syncTimeout)
	defer cancel()
	writeJSON(w, http.StatusOK, map[string]any{"results": s.Sync(ctx, true)})
	return nil
}

// Sync runs one sync (full: a reconcile) and returns its results. Runs
// are serialised.
func (s *Server) Sync(ctx context.Context, full bool) []SyncResult {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	start := time.Now()
	if full {
		s.Store.MarkAllUnsynced()
	}
	results := s.removals(ctx)
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
		u := userOf(e)
		u.GrafanaUserID = s.State.GrafanaUserID(e.ID)
		out, err := s.Syncer.SyncUser(ctx, u, ks)
		if out.GrafanaUserID != 0 && out.GrafanaUserID != u.GrafanaUserID {
			if serr := s.State.SetGrafanaUserID(e.ID, out.GrafanaUserID); serr != nil && err == nil {
				err = serr
			}
		}
		results = append(results, s.syncDone("users", e, out.Changed, err))
	}
	if full {
		results = append(results, s.prune(ctx)...)
	}
	s.observeSync(start, results)
	return results
}

// removals carries out the pending removals of deleted records.
func (s *Server) removals(ctx context.Context) []SyncResult {
	out := []SyncResult{} // never null in the response
	for _, rm := range s.State.Removals() {
		if _, back := s.Store.Get(rm.Resource, rm.ID); back {
			// The record exists again (a dump restored from before the
			// deletion): it is synced like any record, not removed.
			if err := s.State.Done(rm); err != nil {
				s.log.Warn("forgetting a removal", "resource", rm.Resource, "id", rm.ID, "err", err)
			}
			continue
		}
		var changed bool
		var err error
		if rm.Resource == "karanas" {
			changed, err = s.Syncer.RemoveKarana(ctx, rm.ID)
		} else {
			changed, err = s.Syncer.RemoveUser(ctx, SyncUser{UUID: rm.ID, Login: rm.Login, Karanas: rm.Karanas,
				GrafanaUserID: rm.GrafanaUserID}, rm.Purge)
		}
		if err == nil {
			err = s.State.Done(rm)
		}
		res := SyncResult{Resource: rm.Resource, ID: rm.ID, Changed: changed, State: StateRemoved, Synced: err == nil}
		if err != nil {
			res.State, res.Error = StatePendingRemoval, err.Error()
			s.log.Warn("removal failed", "resource", rm.Resource, "id", rm.ID, "err", err)
		}
		out = append(out, res)
	}
	return out
}

func (s *Server) prune(ctx context.Context) []SyncResult {
	var users, karanas []string
	for _, e := range s.Store.List("users") {
		users = append(users, e.ID)
	}
	for _, e := range s.Store.List("karanas") {
		karanas = append(karanas, e.ID)
	}
	pruned, err := s.Syncer.Prune(ctx, users, karanas)
	var out []SyncResult
	for _, p := range pruned {
		out = append(out, SyncResult{Resource: p.Resource, ID: p.ID, Synced: true, Changed: true, State: StateRemoved, What: p.What})
	}
	if err != nil {
		s.log.Warn("reconcile: removing orphans failed", "err", err)
		out = append(out, SyncResult{Resource: "orphans", State: StatePendingRemoval, Error: err.Error()})
	}
	return out
}

// recordRemoval notes a deleted user or karana for the next sync.
func (s *Server) recordRemoval(res string, e *store.Entry, purge bool) error {
	if res != "users" && res != "karanas" {
		return nil
	}
	rm := syncstate.Removal{Resource: res, ID: e.ID, Purge: purge, Since: s.Now().UTC()}
	if res == "users" {
		u := userOf(e)
		rm.Login, rm.Karanas = u.Login, u.Karanas
	}
	return s.State.AddRemoval(rm)
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
	out := SyncResult{Resource: res, ID: e.ID, Changed: changed, State: StateOutOfSync}
	if err != nil {
		out.Error = err.Error()
		s.log.Warn("sync failed", "resource", res, "id", e.ID, "err", err)
		return out
	}
	out.Synced = s.Store.MarkSynced(res, e)
	if !out.Synced {
		out.Error = "the record changed during the sync; it stays out of sync"
		return out
	}
	out.State = StateSynced
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
