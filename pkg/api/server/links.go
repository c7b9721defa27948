package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/karana-project/karana/pkg/api/apierr"
	"github.com/karana-project/karana/pkg/api/resource"
	"github.com/karana-project/karana/pkg/api/store"
)

// write stores rec (nil deletes) as def's record id, checking the records
// it points at and keeping their back-reference lists (a user's karanas)
// in step, in one atomic change. expect is the entry rec was computed from.
func (s *Server) write(def *resource.Resource, id string, expect *store.Entry, rec map[string]any, msg string) error {
	return s.Store.ApplyFunc(msg, func() ([]store.Change, error) {
		return s.changes(def, id, expect, rec)
	})
}

// changes returns the change of the record and of the records linked to
// it; it runs while no other write does.
func (s *Server) changes(def *resource.Resource, id string, expect *store.Entry, rec map[string]any) ([]store.Change, error) {
	if err := s.checkRefs(def, rec); err != nil {
		return nil, err
	}
	if rec == nil { // a delete: of the record as it is now
		cur, ok := s.Store.Get(def.Name, id)
		if !ok {
			return nil, apierr.NotFound("no %s with id %q", def.Name, id)
		}
		if err := s.checkUnreferenced(def, id); err != nil {
			return nil, err
		}
		expect = cur
	}
	var old map[string]any
	if expect != nil {
		old = expect.Rec()
	}
	if err := s.checkOwnerQuota(def, id, rec); err != nil {
		return nil, err
	}
	links, err := s.linkChanges(def, id, old, rec)
	if err != nil {
		return nil, err
	}
	return append([]store.Change{{Res: def.Name, ID: id, Rec: rec, Expect: expect}}, links...), nil
}

// checkOwnerQuota bounds what one user can store (limits.client_bytes):
// the records they own, with this one as it would be.
func (s *Server) checkOwnerQuota(def *resource.Resource, id string, rec map[string]any) error {
	if rec == nil || s.ClientBytes <= 0 || def.Owner == "" || def.Owner == "uuid" {
		return nil
	}
	owner, _ := rec[def.Owner].(string)
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	total := s.Store.OwnedBytes(owner) + len(b)
	if cur, ok := s.Store.Get(def.Name, id); ok && cur.Owner == owner {
		total -= len(cur.Raw)
	}
	if total > s.ClientBytes {
		return &apierr.Error{Status: http.StatusRequestEntityTooLarge, Field: def.Owner,
			Msg: fmt.Sprintf("the records of %s would take %d bytes, at most %d allowed (limits.client_bytes)", owner, total, s.ClientBytes)}
	}
	return nil
}

// checkRefs: a uuid field with a ref must name an existing record.
func (s *Server) checkRefs(def *resource.Resource, rec map[string]any) error {
	if rec == nil {
		return nil
	}
	for _, f := range def.Refs() {
		id, ok := rec[f.Name].(string)
		if !ok || f.Type != resource.TypeUUID {
			continue
		}
		if _, found := s.Store.Get(f.Ref, id); !found {
			return apierr.Field(f.Name, "no %s record with id %s", f.Ref, id)
		}
	}
	return nil
}

// backList returns the list field of f's target that lists def's records
// (users.karanas for karanas.owner), or nil.
func (s *Server) backList(def *resource.Resource, f *resource.Field) *resource.Field {
	target := s.Store.Resource(f.Ref)
	if target == nil || f.Type != resource.TypeUUID {
		return nil
	}
	for _, tf := range target.Refs() {
		if tf.Type == resource.TypeList && tf.Ref == def.Name && tf.System == resource.GenList {
			return tf
		}
	}
	return nil
}

// linkChanges moves id between back-reference lists when a ref changes.
func (s *Server) linkChanges(def *resource.Resource, id string, old, rec map[string]any) ([]store.Change, error) {
	var changes []store.Change
	for _, f := range def.Refs() {
		list := s.backList(def, f)
		if list == nil {
			continue
		}
		from, _ := old[f.Name].(string)
		to, _ := rec[f.Name].(string)
		if from == to {
			continue
		}
		for _, side := range []struct {
			owner string
			add   bool
		}{{from, false}, {to, true}} {
			if side.owner == "" {
				continue
			}
			c, err := s.linkChange(f, list, side.owner, id, side.add)
			if err != nil {
				return nil, err
			}
			if c != nil {
				changes = append(changes, *c)
			}
		}
	}
	return changes, nil
}

func (s *Server) linkChange(f, list *resource.Field, owner, id string, add bool) (*store.Change, error) {
	e, ok := s.Store.Get(f.Ref, owner)
	if !ok {
		return nil, nil // the owner is gone: nothing to keep in step
	}
	owned := e.Rec()
	cur, _ := owned[list.Name].([]any)
	next := make([]any, 0, len(cur)+1)
	for _, v := range cur {
		if v != id {
			next = append(next, v)
		}
	}
	if add {
		next = append(next, id)
		if list.MaxItems > 0 && len(next) > list.MaxItems {
			return nil, apierr.Field(f.Name, "%s %s already has %d %s, the most allowed", f.Ref, owner, list.MaxItems, list.Name)
		}
	}
	if !add && len(next) == len(cur) {
		return nil, nil
	}
	rec := resource.Merge(owned, map[string]any{list.Name: next})
	return &store.Change{Res: f.Ref, ID: owner, Rec: rec, Expect: e}, nil
}

// checkUnreferenced refuses to delete a record others still point at.
func (s *Server) checkUnreferenced(def *resource.Resource, id string) error {
	for _, name := range s.Store.Names() {
		other := s.Store.Resource(name)
		for _, f := range other.Refs() {
			if f.Ref != def.Name || f.Type != resource.TypeUUID {
				continue
			}
			n := 0
			for _, e := range s.Store.List(name) {
				if e.Rec()[f.Name] == id {
					n++
				}
			}
			if n > 0 {
				return &apierr.Error{Status: http.StatusConflict, Field: name,
					Msg: fmt.Sprintf("%d %s still point at this record through %s; delete or move them first", n, name, f.Name)}
			}
		}
	}
	return nil
}
