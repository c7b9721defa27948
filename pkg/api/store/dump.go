package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/karana-project/karana/pkg/api/resource"
	"github.com/karana-project/karana/pkg/fsutil"
)

// Options configure Open.
type Options struct {
	Dir       string
	Resources []*resource.Resource // initialised definitions
	Meta      any                  // written to tablestate_db.json with the definitions
	Committer Committer
	Now       func() time.Time
}

// Open loads the dump in dir (if any), validating every record with the
// import rules; a record that fails stops the start with an error naming it.
// upgraded reports records that were completed with new default fields and
// have been written back.
func Open(o Options) (s *Store, upgraded int, err error) {
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, 0, fmt.Errorf("creating data folder: %w", err)
	}
	s = &Store{dir: o.Dir, committer: o.Committer, tables: map[string]*table{}, free: make(chan []byte, 1)}
	for _, r := range o.Resources {
		t := &table{def: r, recs: map[string]*Entry{}, uniq: map[string]map[string]string{}, synced: map[string]bool{}}
		for _, u := range r.Unique {
			t.uniq[u] = map[string]string{}
		}
		s.tables[r.Name] = t
		s.names = append(s.names, r.Name)
	}
	sort.Strings(s.names)
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if upgraded, err = s.load(now()); err != nil {
		return nil, 0, err
	}
	if upgraded > 0 {
		if err := s.writeDump(nil, nil); err != nil {
			return nil, 0, err
		}
	}
	if err := s.writeState(o.Resources, o.Meta); err != nil {
		return nil, 0, err
	}
	return s, upgraded, nil
}

func (s *Store) load(now time.Time) (int, error) {
	path := filepath.Join(s.dir, TableFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading dump: %w", err)
	}
	var dump map[string]map[string]json.RawMessage
	if err := json.Unmarshal(data, &dump); err != nil {
		return 0, fmt.Errorf("%s: not an object of resources mapping uuids to records: %w", path, err)
	}
	upgraded := 0
	defer func() {
		for _, t := range s.tables {
			sort.Strings(t.ids)
		}
	}()
	for res, recs := range dump {
		t := s.tables[res]
		if t == nil {
			return 0, fmt.Errorf("%s: resource %q is not configured (declare it under resources: in the config)", path, res)
		}
		for id, raw := range recs {
			up, err := s.loadRecord(t, id, raw, now)
			if err != nil {
				return 0, fmt.Errorf("%s: %s %s: %w", path, res, id, err)
			}
			if up {
				upgraded++
			}
		}
	}
	return upgraded, nil
}

func (s *Store) loadRecord(t *table, id string, raw json.RawMessage, now time.Time) (bool, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil || rec == nil {
		return false, fmt.Errorf("not a JSON object")
	}
	up, verr := t.def.Import(rec, now)
	if verr != nil {
		return false, verr
	}
	if rec["uuid"] != id {
		return false, fmt.Errorf("uuid: %v differs from the key it is stored under", rec["uuid"])
	}
	for _, path := range t.def.Unique {
		if v, ok := resource.Get(rec, path); ok {
			if other, taken := t.uniq[path][key(v)]; taken {
				return false, fmt.Errorf("%s: value %v is also used by %s", path, v, other)
			}
		}
	}
	e, err := newEntry(t.def, id, rec, 0)
	if err != nil {
		return false, err
	}
	t.recs[id] = e
	t.ids = append(t.ids, id) // sorted once all are loaded
	t.index(e, true)
	return up, nil
}

// writeDump writes table_db.json: the current records with changes applied
// (entries[i] nil deletes changes[i]). One record a line keeps git diffs small.
func (s *Store) writeDump(changes []Change, entries []*Entry) error {
	over := map[string]map[string]*Entry{}
	for i, c := range changes {
		if over[c.Res] == nil {
			over[c.Res] = map[string]*Entry{}
		}
		over[c.Res][c.ID] = entries[i]
	}
	b := s.buf[:0]
	if b == nil {
		select {
		case b = <-s.free:
		default:
			b = make([]byte, 0, s.dumpSize+64<<10) // the last dump's size: no regrowing
		}
	}
	b = append(b, "{\n"...)
	s.mu.RLock()
	for n, name := range s.names {
		b = strconv.AppendQuote(b, name)
		b = append(b, ": {"...)
		b = s.tables[name].appendRecords(b, over[name])
		b = append(b, "\n}"...)
		if n < len(s.names)-1 {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	s.mu.RUnlock()
	b = append(b, "}\n"...)
	s.buf, s.dumpSize = b, len(b)
	return s.replaceDump(b)
}

// appendRecords appends the table's records, sorted by id, with over
// applied: ids (uuids, which need no escaping) are merged in order.
func (t *table) appendRecords(b []byte, over map[string]*Entry) []byte {
	var added []string
	for id := range over {
		if _, exists := t.recs[id]; !exists {
			added = append(added, id)
		}
	}
	sort.Strings(added)
	first := true
	for i, j := 0, 0; i < len(t.ids) || j < len(added); {
		var id string
		if j == len(added) || (i < len(t.ids) && t.ids[i] < added[j]) {
			id, i = t.ids[i], i+1
		} else {
			id, j = added[j], j+1
		}
		e, changed := over[id]
		if !changed {
			e = t.recs[id]
		}
		if e == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, "\n  \""...)
		b = append(b, id...)
		b = append(b, "\": "...)
		b = append(b, e.Raw...)
	}
	return b
}

// replaceDump replaces table_db.json atomically and durably like
// fsutil.WriteFile, but reuses the previous version's file (the spare)
// instead of a new one: overwriting allocated blocks and renaming costs a
// third of creating a file and freeing the old one's blocks (the data disk
// is mounted with discard). table_db.json is at every moment a complete
// version; only the spare is ever partly written.
func (s *Store) replaceDump(data []byte) error {
	path := filepath.Join(s.dir, TableFile)
	spare, prev := filepath.Join(s.dir, "."+TableFile+".spare"), filepath.Join(s.dir, "."+TableFile+".prev")
	f, err := os.OpenFile(spare, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("writing %s: %w", spare, err)
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Truncate(int64(len(data)))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", spare, err)
	}
	os.Remove(prev)
	hasPrev := os.Link(path, prev) == nil // keep the old version's blocks as the next spare
	if err := os.Rename(spare, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	if hasPrev {
		if err := os.Rename(prev, spare); err != nil {
			return fmt.Errorf("keeping the spare of %s: %w", path, err)
		}
	}
	return fsutil.SyncDir(s.dir)
}

// writeState writes tablestate_db.json (the seed's TABLES_META) when its
// content changes.
func (s *Store) writeState(defs []*resource.Resource, meta any) error {
	tables := map[string]any{}
	for _, d := range defs {
		tables[d.Name] = map[string]any{
			"name": d.Name, "unique_schema_fields": d.Unique, "credentials_login_field": d.Login,
			"owner_field": d.Owner, "fields": d.Fields,
		}
	}
	data, err := json.MarshalIndent(map[string]any{"metadata": meta, "tables_meta": tables}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", StateFile, err)
	}
	data = append(data, '\n')
	path := filepath.Join(s.dir, StateFile)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return fsutil.WriteFile(path, data, 0o600)
}
