package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// fullDump builds the dump record by record, without a previous one.
func fullDump(s *Store) []byte {
	b := []byte("{\n")
	for n, name := range s.names {
		b = strconv.AppendQuote(b, name)
		b = append(b, ": {"...)
		b = s.tables[name].appendRecords(b, nil, nil)
		b = append(b, "\n}"...)
		if n < len(s.names)-1 {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	return append(b, "}\n"...)
}

// Writes that copy unchanged runs from the previous dump must write what
// a build from scratch writes: inserts before, between and after records,
// replacements, deletes down to an empty table, several in one write.
func TestDumpFromPreviousMatchesFullBuild(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	rng := rand.New(rand.NewSource(1))
	live := map[string][]string{}
	next := 0
	for step := 0; step < 400; step++ {
		var changes []Change
		touched := map[string]bool{}
		for n := 1 + rng.Intn(3); n > 0; n-- {
			res := []string{"users", "karanas"}[rng.Intn(2)]
			ids := live[res]
			op := rng.Intn(3)
			if len(ids) == 0 || (op == 0 && len(ids) < 12) {
				next++
				i := rng.Intn(1000)
				id := id(i*1000 + next%1000)
				if touched[id] || s.has(res, id) {
					continue
				}
				touched[id] = true
				changes = append(changes, Change{Res: res, ID: id, Rec: rec(res, id, next)})
				continue
			}
			id := ids[rng.Intn(len(ids))]
			if touched[id] {
				continue
			}
			touched[id] = true
			if op == 1 {
				next++
				changes = append(changes, Change{Res: res, ID: id, Rec: rec(res, id, next)})
			} else {
				changes = append(changes, Change{Res: res, ID: id})
			}
		}
		if err := s.Apply(fmt.Sprintf("step %d", step), changes...); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		for _, res := range []string{"users", "karanas"} {
			live[res] = nil
			for _, e := range s.List(res) {
				live[res] = append(live[res], e.ID)
			}
		}
		got, err := os.ReadFile(filepath.Join(dir, TableFile))
		if err != nil {
			t.Fatal(err)
		}
		if want := fullDump(s); !bytes.Equal(got, want) {
			t.Fatalf("step %d (%d changes): dump differs from a full build:\n%s\nwant:\n%s", step, len(changes), got, want)
		}
		var m map[string]map[string]json.RawMessage
		if err := json.Unmarshal(got, &m); err != nil {
			t.Fatalf("step %d: dump is not JSON: %v", step, err)
		}
		for _, res := range []string{"users", "karanas"} {
			var keys []string
			for k := range m[res] {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if fmt.Sprint(keys) != fmt.Sprint(live[res]) {
				t.Fatalf("step %d: %s in the dump %v, in memory %v", step, res, keys, live[res])
			}
		}
	}
}

func (s *Store) has(res, id string) bool { _, ok := s.Get(res, id); return ok }

func rec(res, id string, n int) map[string]any {
	if res == "users" {
		return user(id, fmt.Sprintf("u%d@x.org", n))
	}
	return map[string]any{"uuid": id, "name": fmt.Sprintf("k%d", n), "owner": id}
}
