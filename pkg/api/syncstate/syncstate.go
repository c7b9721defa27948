// Package syncstate keeps what the sync must remember across restarts,
// beside the dump in the data folder: which Grafana account each user is
// bound to, and the deleted records whose access the next sync must
// remove. It is one small JSON file, sync_state.json, written atomically
// (0600) on every change.
package syncstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/karana-project/karana/pkg/fsutil"
)

// File is the state's name inside the data folder.
const File = "sync_state.json"

// Removal is a deleted record whose InfluxDB and Grafana access the next
// sync removes.
type Removal struct {
	Resource      string    `json:"resource"` // users or karanas
	ID            string    `json:"id"`
	Login         string    `json:"login,omitempty"`
	GrafanaUserID int64     `json:"grafana_user_id,omitempty"`
	Karanas       []string  `json:"karanas,omitempty"`
	Purge         bool      `json:"purge,omitempty"` // also drop the user's database
	Since         time.Time `json:"since"`
}

// Key identifies a removal.
func (r Removal) Key() string { return r.Resource + "/" + r.ID }

type data struct {
	GrafanaUserIDs map[string]int64    `json:"grafana_user_ids"`
	Removals       map[string]*Removal `json:"removals"`
}

// State is the loaded file. Its methods are safe for concurrent use.
type State struct {
	mu   sync.Mutex
	path string
	d    data
}

// Open reads the state in dir; a missing file is an empty state.
func Open(dir string) (*State, error) {
	s := &State{path: filepath.Join(dir, File), d: data{GrafanaUserIDs: map[string]int64{}, Removals: map[string]*Removal{}}}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading sync state: %w", err)
	}
	if err := json.Unmarshal(b, &s.d); err != nil {
		return nil, fmt.Errorf("%s: not a karana sync state (%v); remove it and run POST /v1/sync/all/reconcile", s.path, err)
	}
	if s.d.GrafanaUserIDs == nil {
		s.d.GrafanaUserIDs = map[string]int64{}
	}
	if s.d.Removals == nil {
		s.d.Removals = map[string]*Removal{}
	}
	return s, nil
}

func (s *State) save() error {
	b, err := json.MarshalIndent(s.d, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFile(s.path, append(b, '\n'), 0o600)
}

// GrafanaUserID is the Grafana account recorded for a user (0: none).
func (s *State) GrafanaUserID(userID string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.d.GrafanaUserIDs[userID]
}

// SetGrafanaUserID records a user's Grafana account (0 forgets it).
func (s *State) SetGrafanaUserID(userID string, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d.GrafanaUserIDs[userID] == id {
		return nil
	}
	if id == 0 {
		delete(s.d.GrafanaUserIDs, userID)
	} else {
		s.d.GrafanaUserIDs[userID] = id
	}
	return s.save()
}

// AddRemoval records a deleted record; a user's recorded Grafana account
// moves into the removal.
func (s *State) AddRemoval(r Removal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Resource == "users" {
		if id := s.d.GrafanaUserIDs[r.ID]; id != 0 && r.GrafanaUserID == 0 {
			r.GrafanaUserID = id
		}
		delete(s.d.GrafanaUserIDs, r.ID)
	}
	s.d.Removals[r.Key()] = &r
	return s.save()
}

// Removals returns the pending removals, karanas first, then by id.
func (s *State) Removals() []Removal {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Removal, 0, len(s.d.Removals))
	for _, r := range s.d.Removals {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Resource != out[j].Resource {
			return out[i].Resource == "karanas"
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Pending reports whether a removal is pending for res/id.
func (s *State) Pending(res, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.d.Removals[res+"/"+id]
	return ok
}

// Done forgets a removal the sync has carried out.
func (s *State) Done(r Removal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.d.Removals[r.Key()]; !ok {
		return nil
	}
	delete(s.d.Removals, r.Key())
	return s.save()
}
