package store

import (
	"sort"
	"strconv"
)

// The dump is rebuilt for every write, but not record by record: the
// previous dump (cur) is kept, and the runs of records a write leaves
// alone are copied from it in one piece. Touching 10,000 records scattered
// over the heap cost ~4 ms a write; copying 4 MB in a few pieces ~0.5 ms.
//
// Layout (one record a line keeps git diffs small):
//
//	{
//	"karanas": {
//	  "<id>": <record>,
//	  "<id>": <record>
//	},
//	"users": {
//	}
//	}
//
// A record's unit is "\n  \"<id>\": <record>"; units are separated by
// commas. t.lens holds the units' lengths in cur and t.start where the
// table's first unit begins, so a run's bytes are found without reading
// the records.

// unitLen is the length of e's unit in the dump.
func unitLen(e *Entry) int { return len("\n  \"") + len(e.ID) + len("\": ") + len(e.Raw) }

// writeDump writes table_db.json: the current records with changes applied
// (entries[i] nil deletes changes[i]).
func (s *Store) writeDump(changes []Change, entries []*Entry) error {
	over := map[string]map[string]*Entry{}
	for i, c := range changes {
		if over[c.Res] == nil {
			over[c.Res] = map[string]*Entry{}
		}
		over[c.Res][c.ID] = entries[i]
	}
	b := s.takeBuffer()
	starts := make([]int, len(s.names))
	b = append(b, "{\n"...)
	s.mu.RLock()
	for n, name := range s.names {
		b = strconv.AppendQuote(b, name)
		b = append(b, ": {"...)
		starts[n] = len(b)
		b = s.tables[name].appendRecords(b, over[name], s.cur)
		b = append(b, "\n}"...)
		if n < len(s.names)-1 {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	s.mu.RUnlock()
	b = append(b, "}\n"...)
	s.dumpSize = len(b)
	if err := s.replaceDump(b); err != nil {
		s.spares = append(s.spares, b[:0])
		return err
	}
	// b is the new cur; the tables' lens follow when the changes are applied
	for n, name := range s.names {
		s.tables[name].start = starts[n]
	}
	if s.curFree && s.cur != nil {
		s.spares = append(s.spares, s.cur[:0])
	}
	s.cur, s.curFree = b, true
	return nil
}

// takeBuffer returns an empty buffer nobody else reads: a spare, one the
// committer gave back, or a new one of the last dump's size.
func (s *Store) takeBuffer() []byte {
	for more := true; more; {
		select {
		case b := <-s.free:
			if cap(b) > 0 && cap(s.cur) > 0 && &b[:1][0] == &s.cur[:1][0] {
				s.curFree = true // still read as the source; spare after the next write
			} else if len(s.spares) < 2 {
				s.spares = append(s.spares, b[:0])
			}
		default:
			more = false
		}
	}
	if n := len(s.spares); n > 0 {
		b := s.spares[n-1]
		s.spares = s.spares[:n-1]
		return b
	}
	return make([]byte, 0, s.dumpSize+64<<10) // no regrowing
}

// appendRecords appends the table's records, sorted by id, with over
// applied. Unchanged runs are copied from src (the previous dump, nil
// when there is none). ids are uuids, which need no escaping.
func (t *table) appendRecords(b []byte, over map[string]*Entry, src []byte) []byte {
	ids := make([]string, 0, len(over))
	for id := range over {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	first := true
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	i, off := 0, t.start   // next unchanged record and its unit's offset in src
	run := func(end int) { // records i..end-1 unchanged
		if i == end {
			return
		}
		sep()
		if src == nil {
			for k, id := range t.ids[i:end] {
				if k > 0 {
					b = append(b, ',')
				}
				b = appendUnit(b, t.recs[id])
			}
		} else {
			n := end - i - 1 // commas inside the run
			for _, l := range t.lens[i:end] {
				n += l
			}
			b = append(b, src[off:off+n]...)
			off += n + 1
		}
		i = end
	}
	for _, id := range ids {
		k := sort.SearchStrings(t.ids, id)
		run(k)
		if k < len(t.ids) && t.ids[k] == id { // replaced or deleted: skip the old unit
			off += t.lens[k] + 1
			i = k + 1
		}
		if e := over[id]; e != nil {
			sep()
			b = appendUnit(b, e)
		}
	}
	run(len(t.ids))
	return b
}

func appendUnit(b []byte, e *Entry) []byte {
	b = append(b, "\n  \""...)
	b = append(b, e.ID...)
	b = append(b, "\": "...)
	return append(b, e.Raw...)
}
