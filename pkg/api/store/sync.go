package store

import "time"

// OutOfSync returns the records of res not yet in sync with InfluxDB and
// Grafana, sorted by id.
func (s *Store) OutOfSync(res string) []*Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tables[res]
	var out []*Entry
	for _, id := range t.ids {
		if !t.synced[id] {
			out = append(out, t.recs[id])
		}
	}
	return out
}

// MarkSynced records that e is in sync, unless the record changed since e
// was read (it then stays out of sync for the next run).
func (s *Store) MarkSynced(res string, e *Entry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[res]
	if cur, ok := t.recs[e.ID]; !ok || cur != e {
		return false
	}
	t.synced[e.ID] = true
	return true
}

// Synced reports the sync state of one record.
func (s *Store) Synced(res, id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tables[res].synced[id]
}

// SetCommitter sets where changes are recorded after they are durable.
// Call it before serving.
func (s *Store) SetCommitter(c Committer) {
	s.wmu.Lock()
	s.committer = c
	s.wmu.Unlock()
}

// MarkAllUnsynced forgets every record's sync state, so the next sync
// checks them all (a full reconcile).
func (s *Store) MarkAllUnsynced() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tables {
		for id := range t.synced {
			t.synced[id] = false
		}
	}
}

// SetWriteObserver sets f to be told of every durable dump write: its time
// (build, write, fsync, rename) and error. Call it before serving.
func (s *Store) SetWriteObserver(f func(time.Duration, error)) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.observe = f
}
