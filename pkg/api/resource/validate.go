package resource

import (
	"crypto/rand"
	"time"

	"github.com/google/uuid"

	"github.com/karana-project/karana/pkg/api/apierr"
)

// Create validates a client's new record (the seed's create schema): system
// fields must be absent, required fields present, and every value valid.
// It returns the record with defaults and system fields filled in.
// Passwords stay plain text: the caller hashes them.
func (r *Resource) Create(in map[string]any, now time.Time) (map[string]any, *apierr.Error) {
	if err := r.checkKeys(in); err != nil {
		return nil, err
	}
	rec := make(map[string]any, len(r.Fields))
	for i := range r.Fields {
		f := &r.Fields[i]
		v, ok := in[f.Name]
		switch {
		case ok && f.System != "":
			return nil, apierr.Field(f.Name, "is set by the system and cannot be given")
		case f.System != "":
			rec[f.Name] = generate(f.System, now)
		case !ok && f.Required:
			return nil, apierr.Field(f.Name, "is required")
		case !ok && f.Default != nil:
			rec[f.Name] = copyValue(f.Default)
		case ok:
			if err := f.checkValue(v, false); err != nil {
				return nil, err
			}
			rec[f.Name] = v
		}
	}
	return rec, nil
}

// Import validates a stored record (the seed's import schema): every
// required, defaulted and system field present and valid, passwords hashed.
// Fields added since the record was written and that have a default or a
// generator are filled in; upgraded reports it.
func (r *Resource) Import(rec map[string]any, now time.Time) (upgraded bool, err *apierr.Error) {
	if err := r.checkKeys(rec); err != nil {
		return false, err
	}
	for i := range r.Fields {
		f := &r.Fields[i]
		v, ok := rec[f.Name]
		switch {
		case !ok && f.Default != nil:
			rec[f.Name], upgraded = copyValue(f.Default), true
		case !ok && (f.System == GenSecret || f.System == GenList):
			rec[f.Name], upgraded = generate(f.System, now), true
		case !ok && f.requiredOnImport():
			return false, apierr.Field(f.Name, "is missing")
		case ok:
			if err := f.checkValue(v, true); err != nil {
				return false, err
			}
		}
	}
	return upgraded, nil
}

// CheckPatch validates the fields a PUT or PATCH changes. Objects may be
// given in part (the rest is kept). admin says whether the caller may set
// admin-only fields.
func (r *Resource) CheckPatch(patch map[string]any, admin bool) *apierr.Error {
	if err := r.checkKeys(patch); err != nil {
		return err
	}
	for k, v := range patch {
		f := r.byName[k]
		switch {
		case f.System != "":
			return apierr.Field(k, "is set by the system and cannot be changed")
		case f.AdminOnly && !admin:
			return apierr.Forbidden(k, "only an admin may set this field")
		case f.Type == TypeObject:
			m, ok := v.(map[string]any)
			if !ok {
				return apierr.Field(k, "must be an object")
			}
			if err := checkPartial(f.Fields, m); err != nil {
				return err.Prefix(k)
			}
		default:
			if err := f.checkValue(v, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// Merge returns a copy of cur with patch applied; objects merge one level.
func Merge(cur, patch map[string]any) map[string]any {
	out := make(map[string]any, len(cur))
	for k, v := range cur {
		out[k] = v
	}
	for k, v := range patch {
		pm, ok := v.(map[string]any)
		cm, ok2 := cur[k].(map[string]any)
		if ok && ok2 {
			merged := make(map[string]any, len(cm))
			for ck, cv := range cm {
				merged[ck] = cv
			}
			for pk, pv := range pm {
				merged[pk] = pv
			}
			v = merged
		}
		out[k] = v
	}
	return out
}

func (r *Resource) checkKeys(m map[string]any) *apierr.Error {
	for k := range m {
		if r.byName[k] == nil {
			return apierr.Field(k, "is not a field of %s", r.Name)
		}
	}
	return nil
}

func checkObject(fields []Field, m map[string]any, stored bool) *apierr.Error {
	if err := checkSubKeys(fields, m); err != nil {
		return err
	}
	for i := range fields {
		f := &fields[i]
		v, ok := m[f.Name]
		if !ok {
			if f.Required || (stored && f.requiredOnImport()) {
				return apierr.Field(f.Name, "is required")
			}
			continue
		}
		if err := f.checkValue(v, stored); err != nil {
			return err
		}
	}
	return nil
}

func checkPartial(fields []Field, m map[string]any) *apierr.Error {
	if err := checkSubKeys(fields, m); err != nil {
		return err
	}
	for i := range fields {
		if v, ok := m[fields[i].Name]; ok {
			if err := fields[i].checkValue(v, false); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkSubKeys(fields []Field, m map[string]any) *apierr.Error {
	for k := range m {
		found := false
		for i := range fields {
			found = found || fields[i].Name == k
		}
		if !found {
			return apierr.Field(k, "is not a known field")
		}
	}
	return nil
}

func generate(gen string, now time.Time) any {
	switch gen {
	case GenUUID:
		return uuid.NewString()
	case GenNow:
		return now.UTC().Format("2006-01-02T15:04:05.000000+00:00")
	case GenSecret:
		return Secret(16)
	}
	return []any{}
}

// Secret returns n random letters and digits, like the seed's id_generator.
func Secret(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	buf := make([]byte, 1)
	for i := 0; i < n; {
		rand.Read(buf)
		if int(buf[0]) < 256-256%len(alphabet) { // no modulo bias
			b[i] = alphabet[int(buf[0])%len(alphabet)]
			i++
		}
	}
	return string(b)
}

func copyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = copyValue(e)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = copyValue(e)
		}
		return l
	}
	return v
}

// Public returns a copy of rec without password fields: hashes never leave
// the API.
func (r *Resource) Public(rec map[string]any) map[string]any {
	return public(r.Fields, rec)
}

func public(fields []Field, rec map[string]any) map[string]any {
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		out[k] = v
	}
	for i := range fields {
		f := &fields[i]
		switch f.Type {
		case TypePassword:
			delete(out, f.Name)
		case TypeObject:
			if m, ok := out[f.Name].(map[string]any); ok {
				out[f.Name] = public(f.Fields, m)
			}
		}
	}
	return out
}
