package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/karana-project/karana/pkg/api/apierr"
	"github.com/karana-project/karana/pkg/api/resource"
	"github.com/karana-project/karana/pkg/api/store"
)

func errNotFound(path string) error {
	return apierr.NotFound("no such endpoint: %s (see docs/api.md)", path)
}

// resource returns the definition named by the {res} path segment.
func (s *Server) resource(r *http.Request) (*resource.Resource, error) {
	name := r.PathValue("res")
	if def := s.Store.Resource(name); def != nil {
		return def, nil
	}
	return nil, apierr.NotFound("unknown resource %q (known: %v)", name, s.Store.Names())
}

// access says whether the caller may use rec: admins any, clients the
// records they own.
// owner is the record's owner; "" checks the resource only.
func access(c Caller, def *resource.Resource, owner string) error {
	if c.Admin() {
		return nil
	}
	if def.Owner == "" {
		return apierr.Forbidden("", "only an admin may use %s", def.Name)
	}
	if owner != "" && owner != c.ID {
		return apierr.Forbidden("", "this %s record belongs to someone else", def.Name)
	}
	return nil
}

// record returns the resource and the record named by the path, if the
// caller may use it.
func (s *Server) record(r *http.Request, c Caller) (*resource.Resource, *store.Entry, error) {
	def, err := s.resource(r)
	if err != nil {
		return nil, nil, err
	}
	id := r.PathValue("id")
	e, ok := s.Store.Get(def.Name, id)
	if !ok {
		return nil, nil, apierr.NotFound("no %s with id %q", def.Name, id)
	}
	if err := access(c, def, e.Owner); err != nil {
		return nil, nil, err
	}
	return def, e, nil
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, c Caller) error {
	_, e, err := s.record(r, c)
	if err != nil {
		return err
	}
	writeRecords(w, http.StatusOK, []*store.Entry{e})
	return nil
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, c Caller) error {
	def, err := s.resource(r)
	if err != nil {
		return err
	}
	if err := access(c, def, ""); err != nil {
		return err
	}
	all := s.Store.List(def.Name)
	if c.Admin() {
		writeRecords(w, http.StatusOK, all)
		return nil
	}
	var mine []*store.Entry
	for _, e := range all {
		if e.Owner == c.ID {
			mine = append(mine, e)
		}
	}
	writeRecords(w, http.StatusOK, mine)
	return nil
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, c Caller) error {
	def, err := s.resource(r)
	if err != nil {
		return err
	}
	if !c.Admin() && (def.Owner == "" || def.Owner == "uuid") {
		return apierr.Forbidden("", "only an admin may create %s", def.Name)
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if def.Owner != "" && def.Owner != "uuid" {
		if _, given := body[def.Owner]; !given {
			body[def.Owner] = c.ID // a new record belongs to its creator by default
		}
		if !c.Admin() && body[def.Owner] != c.ID {
			return apierr.Forbidden(def.Owner, "a client can only create records it owns")
		}
	}
	rec, verr := def.Create(body, s.Now())
	if verr != nil {
		return verr
	}
	if err := s.hashPasswords(def.Fields, rec); err != nil {
		return err
	}
	id := rec["uuid"].(string)
	if err := s.write(def, id, nil, rec, "create "+def.Name+" "+id); err != nil {
		return err
	}
	e, _ := s.Store.Get(def.Name, id)
	writeRecords(w, http.StatusCreated, []*store.Entry{e})
	return nil
}

func (s *Server) handlePut(w http.ResponseWriter, r *http.Request, c Caller) error {
	return s.change(w, r, c, func(n int) error {
		if n < 2 {
			return apierr.Field("", "PUT needs at least two changes, got %d (use PATCH for one)", n)
		}
		return nil
	})
}

func (s *Server) handlePatch(w http.ResponseWriter, r *http.Request, c Caller) error {
	return s.change(w, r, c, func(n int) error {
		if n != 1 {
			return apierr.Field("", "PATCH takes exactly one change, got %d (use PUT for more)", n)
		}
		return nil
	})
}

func (s *Server) change(w http.ResponseWriter, r *http.Request, c Caller, count func(int) error) error {
	def, e, err := s.record(r, c)
	if err != nil {
		return err
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if verr := def.CheckPatch(body, c.Admin()); verr != nil {
		return verr
	}
	n, same := realChanges(def, e.Rec(), body)
	if err := count(n); err != nil {
		if len(same) > 0 {
			sort.Strings(same)
			err.(*apierr.Error).Msg += fmt.Sprintf("; %s already hold the values given, which is no change", strings.Join(same, ", "))
		}
		return err
	}
	if v, ok := body[def.Owner]; ok && !c.Admin() && v != c.ID {
		return apierr.Forbidden(def.Owner, "a client cannot give a record away")
	}
	if err := s.hashPasswords(def.Fields, body); err != nil {
		return err
	}
	msg := fmt.Sprintf("%s %s %s", map[string]string{"PUT": "update", "PATCH": "modify"}[r.Method], def.Name, e.ID)
	err = s.update(def, e.ID, msg, func(cur map[string]any) (map[string]any, error) {
		owner, _ := cur[def.Owner].(string)
		if err := access(c, def, owner); err != nil {
			return nil, err
		}
		return resource.Merge(cur, body), nil
	})
	if err != nil {
		return err
	}
	e, _ = s.Store.Get(def.Name, e.ID)
	writeRecords(w, http.StatusOK, []*store.Entry{e})
	return nil
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, c Caller) error {
	def, e, err := s.record(r, c)
	if err != nil {
		return err
	}
	if !c.Admin() && def.Owner == "uuid" {
		return apierr.Forbidden("", "only an admin may delete %s", def.Name)
	}
	purge := false
	switch v := r.URL.Query().Get("purge"); {
	case v == "":
	case v == "true" && def.Name == "users":
		purge = true
	default:
		return apierr.Field("purge", "only purge=true on users is understood (it also drops the user's InfluxDB database at the next sync)")
	}
	if err := s.write(def, e.ID, nil, nil, "delete "+def.Name+" "+e.ID); err != nil {
		return err
	}
	if err := s.recordRemoval(def.Name, e, purge); err != nil {
		// The record is gone; the next reconcile removes its access.
		s.log.Error("recording the removal for the next sync", "resource", def.Name, "id", e.ID, "err", err)
	}
	writeRecords(w, http.StatusOK, []*store.Entry{e})
	return nil
}

// realChanges counts the body's keys that change the record: a field set
// to the value it has is no change. A password given is always counted
// (only its hash is stored).
func realChanges(def *resource.Resource, cur, body map[string]any) (n int, same []string) {
	for k, v := range body {
		if f := def.Lookup(k); f != nil && givesPassword(f, v) {
			n++
			continue
		}
		merged := resource.Merge(cur, map[string]any{k: v})
		a, _ := json.Marshal(merged[k])
		b, _ := json.Marshal(cur[k])
		if bytes.Equal(a, b) {
			same = append(same, k)
			continue
		}
		n++
	}
	return n, same
}

func givesPassword(f *resource.Field, v any) bool {
	if f.Type == resource.TypePassword {
		return true
	}
	m, _ := v.(map[string]any)
	for i := range f.Fields {
		if sub, ok := m[f.Fields[i].Name]; ok && givesPassword(&f.Fields[i], sub) {
			return true
		}
	}
	return false
}

// update reads the record, applies fn and writes the result while no
// other write runs, so that nothing changes in between.
func (s *Server) update(def *resource.Resource, id, msg string, fn func(cur map[string]any) (map[string]any, error)) error {
	return s.Store.ApplyFunc(msg, func() ([]store.Change, error) {
		cur, ok := s.Store.Get(def.Name, id)
		if !ok {
			return nil, apierr.NotFound("no %s with id %q", def.Name, id)
		}
		next, err := fn(cur.Rec())
		if err != nil {
			return nil, err
		}
		if _, verr := def.Import(next, s.Now()); verr != nil {
			return nil, verr
		}
		return s.changes(def, id, cur, next)
	})
}

// hashPasswords replaces plain-text password values in m by their hashes.
func (s *Server) hashPasswords(fields []resource.Field, m map[string]any) error {
	for i := range fields {
		f := &fields[i]
		switch v := m[f.Name].(type) {
		case string:
			if f.Type == resource.TypePassword {
				h, err := s.Hasher.Hash(v)
				if err != nil {
					return err
				}
				m[f.Name] = h
			}
		case map[string]any:
			if err := s.hashPasswords(f.Fields, v); err != nil {
				return err
			}
		}
	}
	return nil
}
