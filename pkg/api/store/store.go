// Package store keeps the API's records in memory and on disk: every change
// is written atomically and durably to the seed's dump files (table_db.json,
// tablestate_db.json) before it becomes visible, then handed to a committer
// that records it in git. Readers never wait for a write's fsync.
package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/karana-project/karana/pkg/api/apierr"
	"github.com/karana-project/karana/pkg/api/resource"
)

// Dump file names inside the data folder (the seed's Listing 3).
const (
	TableFile = "table_db.json"
	StateFile = "tablestate_db.json"
)

// Entry is one stored record. Entries are never modified: a change
// replaces the entry.
//
// To keep 10,000 users in a few MB, an entry holds the record only as
// JSON: Rec decodes it when a write or a sync needs the fields.
type Entry struct {
	ID      string
	Raw     []byte // the full record as JSON, password hashes included, as dumped
	public  []byte // the record as clients see it, when it is not Raw minus cut
	cut     [2]int // Raw[cut[0]:cut[1]] is what clients must not see (the password)
	Owner   string // value of the resource's owner field ("" without one)
	Role    string // value of the role field, if any
	Cred    string // fingerprint of login, password hash and role (records that log in)
	Version uint64 // store version of the write that made it
	keys    []string
}

// AppendPublic appends the record as clients see it (no hashes).
func (e *Entry) AppendPublic(b []byte) []byte {
	if e.public != nil {
		return append(b, e.public...)
	}
	return append(append(b, e.Raw[:e.cut[0]]...), e.Raw[e.cut[1]:]...)
}

// PublicLen is the length of what AppendPublic appends.
func (e *Entry) PublicLen() int {
	if e.public != nil {
		return len(e.public)
	}
	return len(e.Raw) - (e.cut[1] - e.cut[0])
}

// cutOf finds the one span whose removal turns raw into pub.
func cutOf(raw, pub []byte) ([2]int, bool) {
	p := 0
	for p < len(pub) && p < len(raw) && raw[p] == pub[p] {
		p++
	}
	end := p + len(raw) - len(pub)
	if len(raw) < len(pub) || !bytes.Equal(raw[end:], pub[p:]) {
		return [2]int{}, false
	}
	return [2]int{p, end}, true
}

// Rec decodes the record.
func (e *Entry) Rec() map[string]any {
	dec := json.NewDecoder(bytes.NewReader(e.Raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		panic(fmt.Sprintf("stored record %s is not JSON: %v", e.ID, err)) // we encoded it
	}
	return m
}

// Change creates, replaces (Rec set) or deletes (Rec nil) one record.
type Change struct {
	Res string
	ID  string
	Rec map[string]any
	// Expect, when set, is the entry the change was computed from: if the
	// record has changed since, Apply fails with ErrStale.
	Expect *Entry
}

// Release gives back a dump buffer handed to the committer, to be reused
// instead of allocating 4 MB per write.
func (s *Store) Release(b []byte) {
	select {
	case s.free <- b[:0]:
	default:
	}
}

// ErrStale reports a change computed from an outdated record; retry it.
var ErrStale = errors.New("the record changed while this change was prepared")

// Committer records a durable change in history; Commit must not block.
// dump is table_db.json's new content; the committer owns it (it must
// not read the file, which the next write may be replacing).
type Committer interface {
	Commit(msg string, dump []byte)
}

type table struct {
	def    *resource.Resource
	recs   map[string]*Entry
	ids    []string                     // sorted; replaced, never modified in place
	lens   []int                        // lens[i]: length of ids[i]'s unit in the dump (build.go)
	start  int                          // where the table's first unit begins in the dump
	uniq   map[string]map[string]string // unique path -> value -> id
	synced map[string]bool              // the seed's SYNC_STATE
	owned  map[string]int               // owner -> bytes of the records they own (limits.client_bytes)
}

// Store is the in-memory database.
type Store struct {
	dir       string
	committer Committer
	observe   func(time.Duration, error) // told of each dump write (SetWriteObserver)
	names     []string                   // resource names, sorted

	mu      sync.RWMutex // guards tables' contents
	tables  map[string]*table
	version uint64

	wmu      sync.Mutex // one writer at a time; guards the fields below
	cur      []byte     // the last dump written: the source of the next (build.go)
	curFree  bool       // the committer does not read cur
	spares   [][]byte   // empty buffers nobody else reads
	dumpSize int
	free     chan []byte // buffers the committer is done with
}

// Resource returns the definition of a resource, or nil.
func (s *Store) Resource(name string) *resource.Resource {
	if t := s.tables[name]; t != nil {
		return t.def
	}
	return nil
}

// Names returns the resource names, sorted.
func (s *Store) Names() []string { return s.names }

// Get returns a record by id.
func (s *Store) Get(res, id string) (*Entry, bool) {
	s.mu.RLock()
	e, ok := s.tables[res].recs[id]
	s.mu.RUnlock()
	return e, ok
}

// List returns a resource's records sorted by id.
func (s *Store) List(res string) []*Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tables[res]
	out := make([]*Entry, len(t.ids))
	for i, id := range t.ids {
		out[i] = t.recs[id]
	}
	return out
}

// Len returns the number of records of a resource.
func (s *Store) Len(res string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.tables[res].ids)
}

// Lookup finds a record by the value of a unique field.
func (s *Store) Lookup(res, path, value string) (*Entry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tables[res]
	id, ok := t.uniq[path][key(value)]
	if !ok {
		return nil, false
	}
	return t.recs[id], true
}

// Apply checks the changes against the unique indexes, writes the dump with
// them durably, makes them visible and hands msg to the committer. Either
// all changes are applied or none.
func (s *Store) Apply(msg string, changes ...Change) error {
	return s.ApplyFunc(msg, func() ([]Change, error) { return changes, nil })
}

// ApplyFunc is Apply with the changes computed by prepare while no other
// write runs: what prepare reads with Get stays current until the changes
// are applied. prepare must be quick (no password hashing).
func (s *Store) ApplyFunc(msg string, prepare func() ([]Change, error)) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	changes, err := prepare()
	if err != nil {
		return err
	}
	entries := make([]*Entry, len(changes))
	for i, c := range changes {
		t := s.tables[c.Res]
		if t == nil {
			return fmt.Errorf("applying change: unknown resource %q", c.Res)
		}
		if c.Expect != nil {
			if cur, _ := s.Get(c.Res, c.ID); cur != c.Expect {
				return ErrStale
			}
		}
		if c.Rec == nil {
			continue
		}
		if err := s.checkUnique(t, c); err != nil {
			return err
		}
		e, err := newEntry(t.def, c.ID, c.Rec, s.version+1)
		if err != nil {
			return err
		}
		entries[i] = e
	}
	start := time.Now()
	err = s.writeDump(changes, entries)
	if s.observe != nil {
		s.observe(time.Since(start), err)
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.version++
	for i, c := range changes {
		s.tables[c.Res].apply(c.ID, entries[i])
	}
	s.mu.Unlock()
	if s.committer != nil {
		s.committer.Commit(msg, s.cur)
		s.curFree = false // read-only now, until the committer gives it back
	}
	return nil
}

func (s *Store) checkUnique(t *table, c Change) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, path := range t.def.Unique {
		v, ok := resource.Get(c.Rec, path)
		if !ok {
			continue
		}
		if id, taken := t.uniq[path][key(v)]; taken && id != c.ID {
			return apierr.Conflict(path, v)
		}
	}
	return nil
}

func newEntry(def *resource.Resource, id string, rec map[string]any, version uint64) (*Entry, error) {
	raw, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", def.Name, id, err)
	}
	pub, err := json.Marshal(def.Public(rec))
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", def.Name, id, err)
	}
	e := &Entry{ID: id, Raw: raw, Version: version}
	if c, ok := cutOf(raw, pub); ok {
		e.cut = c // most records: one password field, no second copy of the record
	} else {
		e.public = pub
	}
	if def.Owner != "" {
		e.Owner, _ = rec[def.Owner].(string)
	}
	e.Role, _ = rec["role"].(string)
	if def.Login != "" {
		login, _ := resource.Get(rec, def.LoginPath())
		hash, _ := resource.Get(rec, def.PasswordPath())
		e.Cred = credFingerprint(fmt.Sprint(login), fmt.Sprint(hash), e.Role)
	}
	for _, path := range def.Unique {
		v, ok := resource.Get(rec, path)
		if !ok {
			e.keys = append(e.keys, "")
			continue
		}
		e.keys = append(e.keys, key(v))
	}
	return e, nil
}

// apply replaces, adds or (e nil) removes one record; the caller holds mu.
func (t *table) apply(id string, e *Entry) {
	if old, ok := t.recs[id]; ok {
		t.index(old, false)
		t.own(old, -1)
	}
	if e != nil {
		t.own(e, 1)
	}
	i := sort.SearchStrings(t.ids, id)
	exists := i < len(t.ids) && t.ids[i] == id
	switch {
	case e == nil && exists:
		ids := make([]string, 0, len(t.ids)-1)
		t.ids = append(append(ids, t.ids[:i]...), t.ids[i+1:]...)
		t.lens = slices.Delete(t.lens, i, i+1)
		delete(t.recs, id)
		delete(t.synced, id)
		return
	case e == nil:
		return
	case !exists:
		ids := make([]string, 0, len(t.ids)+1)
		ids = append(append(ids, t.ids[:i]...), id)
		t.ids = append(ids, t.ids[i:]...)
		t.lens = slices.Insert(t.lens, i, 0)
	}
	t.lens[i] = unitLen(e)
	t.recs[id] = e
	t.synced[id] = false
	t.index(e, true)
}

func (t *table) own(e *Entry, sign int) {
	if e.Owner == "" || t.def.Owner == "uuid" {
		return
	}
	if t.owned[e.Owner] += sign * len(e.Raw); t.owned[e.Owner] <= 0 {
		delete(t.owned, e.Owner)
	}
}

// OwnedBytes is the encoded size of every record owner owns, in all
// resources with an owner field (a user's own record not counted).
func (s *Store) OwnedBytes(owner string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, t := range s.tables {
		n += t.owned[owner]
	}
	return n
}

func (t *table) index(e *Entry, add bool) {
	for i, path := range t.def.Unique {
		k := e.keys[i]
		switch {
		case k == "":
		case add:
			t.uniq[path][k] = e.ID
		case t.uniq[path][k] == e.ID:
			delete(t.uniq[path], k)
		}
	}
}

// credFingerprint changes whenever the login, the password (its hash) or
// the role changes: tokens carry it, so they end with such a change.
func credFingerprint(login, hash, role string) string {
	sum := sha256.Sum256([]byte("karana-cred\x00" + strings.ToLower(login) + "\x00" + hash + "\x00" + role))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// key is a unique field's value as the index compares it: text
// case-insensitively, the way Grafana and e-mail compare logins and
// addresses, so ALICE@ex.de and alice@ex.de are one value.
func key(v any) string {
	if s, ok := v.(string); ok {
		return strings.ToLower(s)
	}
	return fmt.Sprint(v)
}
