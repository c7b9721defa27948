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
	"strings"
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
	// StartEmpty allows a start without table_db.json in a folder whose
	// history or tablestate_db.json says there were records.
	StartEmpty bool
}

// Open loads the dump in dir (if any), validating every record with the
// import rules; a record that fails stops the start with an error naming it.
// upgraded reports records that were completed with new default fields and
// have been written back.
func Open(o Options) (s *Store, upgraded int, err error) {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, 0, fmt.Errorf("creating data folder: %w", err)
	}
	s = &Store{dir: o.Dir, committer: o.Committer, tables: map[string]*table{}, free: make(chan []byte, 3)}
	for _, r := range o.Resources {
		t := &table{def: r, recs: map[string]*Entry{}, uniq: map[string]map[string]string{}, synced: map[string]bool{}, owned: map[string]int{}}
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
	fresh, err := s.checkDumpPresent(o.StartEmpty)
	if err != nil {
		return nil, 0, err
	}
	if upgraded, err = s.load(now()); err != nil {
		return nil, 0, err
	}
	if err := s.checkRefs(); err != nil {
		return nil, 0, err
	}
	if upgraded > 0 || fresh {
		if err := s.writeDump(nil, nil); err != nil {
			return nil, 0, err
		}
	}
	if err := s.writeState(o.Resources, o.Meta); err != nil {
		return nil, 0, err
	}
	return s, upgraded, nil
}

// ErrDumpMissing: table_db.json is gone from a folder that had records.
var ErrDumpMissing = errors.New("the dump is missing")

// checkDumpPresent refuses to start empty by mistake: a missing
// table_db.json is a fresh start only when nothing else says there were
// records. fresh reports that an empty dump must be written now, so that
// the next start finds one.
func (s *Store) checkDumpPresent(startEmpty bool) (fresh bool, err error) {
	path := filepath.Join(s.dir, TableFile)
	if _, err := os.Stat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	var traces []string
	for _, name := range []string{".git", StateFile} {
		if _, err := os.Stat(filepath.Join(s.dir, name)); err == nil {
			traces = append(traces, name)
		}
	}
	if len(traces) > 0 && !startEmpty {
		return false, fmt.Errorf("%w: %s has no %s but has %s, so it held records. Restore the dump: "+
			"git -C %s checkout HEAD -- %s (or copy it from a backup); or, to start with no records on purpose, "+
			"run karana api serve --start-empty once: %w", ErrDumpMissing, s.dir, TableFile, strings.Join(traces, " and "),
			s.dir, TableFile, fs.ErrNotExist)
	}
	return true, nil
}

// checkRefs refuses dangling references: a uuid field with a ref (a
// karana's owner) or a list of them (a user's karanas) naming no record.
func (s *Store) checkRefs() error {
	for _, name := range s.names {
		t := s.tables[name]
		for _, f := range t.def.Refs() {
			target := s.tables[f.Ref]
			if target == nil {
				continue
			}
			for _, id := range t.ids {
				v := t.recs[id].Rec()[f.Name]
				vals, _ := v.([]any)
				if str, ok := v.(string); ok {
					vals = []any{str}
				}
				for _, ref := range vals {
					r, _ := ref.(string)
					if _, ok := target.recs[r]; !ok && r != "" {
						return fmt.Errorf("%s: %s %s: %s: names %s %v, which does not exist; fix or remove the record (or restore the dump from git)",
							filepath.Join(s.dir, TableFile), name, id, f.Name, f.Ref, ref)
					}
				}
			}
		}
	}
	return nil
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
	if dump == nil {
		return 0, fmt.Errorf("%s: is null, not an object of resources; restore it from git (git -C %s checkout HEAD -- %s)", path, s.dir, TableFile)
	}
	for res, recs := range dump {
		if recs == nil {
			return 0, fmt.Errorf("%s: resource %q is null, not an object of records; restore the dump from git (git -C %s log -- %s)", path, res, s.dir, TableFile)
		}
	}
	upgraded := 0
	defer func() {
		for _, t := range s.tables {
			sort.Strings(t.ids)
			t.lens = make([]int, len(t.ids))
			for i, id := range t.ids {
				t.lens[i] = unitLen(t.recs[id])
			}
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
	t.own(e, 1)
	t.ids = append(t.ids, id) // sorted once all are loaded
	t.index(e, true)
	return up, nil
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
