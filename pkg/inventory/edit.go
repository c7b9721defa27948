package inventory

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/karana-project/karana/pkg/fsutil"
	"gopkg.in/yaml.v3"
)

// AddTenant appends t to the inventory file at path, keeping the operator's
// comments and the layout of everything outside the tenants section, and
// returns the reloaded inventory. The file is
// validated before it is replaced (atomically); an invalid result leaves the
// file untouched.
func AddTenant(path string, t Tenant) (*Inventory, error) {
	return edit(path, func(root *yaml.Node) error {
		key, seq := tenantsNode(root, true)
		var item yaml.Node
		if err := item.Encode(t); err != nil {
			return fmt.Errorf("encoding tenant %q: %w", t.Name, err)
		}
		if len(seq.Content) == 0 && seq.Style&yaml.FlowStyle != 0 {
			// "tenants: [] # comment" becomes a block list, with the
			// comment on the key, where yaml.v3 writes it.
			seq.Style &^= yaml.FlowStyle
			if key.LineComment == "" {
				key.LineComment, seq.LineComment = seq.LineComment, ""
			}
		}
		seq.Content = append(seq.Content, &item)
		return nil
	})
}

// RemoveTenant deletes the tenant called name from the file at path.
func RemoveTenant(path, name string) (*Inventory, error) {
	return edit(path, func(root *yaml.Node) error {
		key, seq := tenantsNode(root, false)
		if seq == nil {
			return fmt.Errorf("tenant %q is not in %s", name, path)
		}
		for i, item := range seq.Content {
			var t Tenant
			if err := item.Decode(&t); err == nil && t.Name == name {
				seq.Content = append(seq.Content[:i], seq.Content[i+1:]...)
				if len(seq.Content) == 0 {
					// yaml.v3 writes an empty block list after the
					// key's comment, on a line of its own, which it
					// cannot read back: "tenants: [] # comment".
					seq.Style |= yaml.FlowStyle
					if seq.LineComment == "" {
						seq.LineComment, key.LineComment = key.LineComment, ""
					}
				}
				return nil
			}
		}
		return fmt.Errorf("tenant %q is not in %s", name, path)
	})
}

func edit(path string, change func(root *yaml.Node) error) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading inventory: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		doc.Kind = yaml.DocumentNode
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
	}
	if root := doc.Content[0]; root.Kind != yaml.MappingNode {
		if root.Kind != yaml.ScalarNode || root.Tag != "!!null" {
			return nil, fmt.Errorf("%s: the top level is not a mapping of keys (lxd, tenants, ...)", path)
		}
		// An empty file, "~" or "null": its comments stay.
		*root = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", HeadComment: root.HeadComment, LineComment: root.LineComment, FootComment: root.FootComment}
	}
	if err := change(doc.Content[0]); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("encoding inventory: %w", err)
	}
	inv, err := Parse(path, buf.Bytes())
	if err != nil {
		return nil, err
	}
	out := buf.Bytes()
	if spliced, ok := spliceTenants(data, doc.Content[0], buf.Bytes()); ok {
		// The same inventory with the rest of the file as the operator
		// wrote it: blank lines and aligned comments stay.
		if sinv, err := Parse(path, spliced); err == nil && same(sinv, inv) {
			out, inv = spliced, sinv
		}
	}
	if err := fsutil.WriteFile(path, out, st.Mode().Perm()); err != nil {
		return nil, err
	}
	return inv, nil
}

// spliceTenants rewrites only the tenants section of data: from the line of
// its key to the next top-level key, less the blank and comment lines just
// above that key (which stay as written, with the key they introduce), or
// to the end of the file when tenants is the last key, or appended when
// the file had none. The section is
// re-encoded from root; everything else stays byte for byte. ok is false
// when there is no tenants section to replace, or when the result would
// lose or double a comment line (keepsComments).
func spliceTenants(data []byte, root *yaml.Node, whole []byte) ([]byte, bool) {
	i := 0 // root is a mapping: edit made sure
	for i+1 < len(root.Content) && root.Content[i].Value != "tenants" {
		i += 2
	}
	if i+1 >= len(root.Content) {
		return nil, false
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data[:len(data):len(data)], '\n')
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	start, end := root.Content[i].Line-1, len(lines)
	if root.Content[i].Line < 1 { // a section AddTenant just made: appended
		if i+2 < len(root.Content) {
			return nil, false
		}
		start = len(lines)
	}
	key, value := *root.Content[i], root.Content[i+1]
	key.HeadComment = "" // above the section: kept as written
	if i+2 < len(root.Content) {
		next := root.Content[i+2].Line - 1
		if next <= start || next > len(lines) {
			return nil, false
		}
		kept := map[string]bool{}
		for end = next; end > start+1 && commentOrBlank(lines[end-1]); end-- {
			kept[string(bytes.TrimSpace(lines[end-1]))] = true
		}
		// Comments at the section's end are kept as written below it;
		// yaml.v3 holds them as foot comments somewhere in the section,
		// which the encoder must not write a second time.
		if footIn(key.FootComment, kept) {
			key.FootComment = ""
		}
		value = withoutFoot(value, kept)
	}
	if start > len(lines) {
		return nil, false
	}
	section := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{&key, value}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(section); err != nil {
		return nil, false
	}
	out := append(bytes.Join(lines[:start], nil), buf.Bytes()...)
	out = append(out, bytes.Join(lines[end:], nil)...)
	if !keepsComments(out, data, whole) {
		return nil, false
	}
	return out, true
}

// withoutFoot copies n, leaving out the foot comments, its own or its
// descendants', whose lines are all in kept.
func withoutFoot(n *yaml.Node, kept map[string]bool) *yaml.Node {
	c := *n
	if footIn(c.FootComment, kept) {
		c.FootComment = ""
	}
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, child := range n.Content {
		c.Content[i] = withoutFoot(child, kept)
	}
	return &c
}

// footIn tells whether comment is not empty and each of its lines is in kept.
func footIn(comment string, kept map[string]bool) bool {
	if comment == "" {
		return false
	}
	for _, l := range strings.Split(comment, "\n") {
		if l = strings.TrimSpace(l); l != "" && !kept[l] {
			return false
		}
	}
	return true
}

func commentOrBlank(line []byte) bool {
	l := bytes.TrimSpace(line)
	return len(l) == 0 || l[0] == '#'
}

// keepsComments tells whether out, a splice of data, has each comment line
// of whole (yaml.v3's re-encoding of the edited file) and no comment line
// more often than whole or data has it: none lost, none doubled.
func keepsComments(out, data, whole []byte) bool {
	o, d, w := comments(out), comments(data), comments(whole)
	for c, n := range o {
		if n > max(w[c], d[c]) {
			return false
		}
	}
	for c, n := range w {
		if o[c] < n {
			return false
		}
	}
	return true
}

// comments counts the comment lines of b.
func comments(b []byte) map[string]int {
	count := map[string]int{}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 && l[0] == '#' {
			count[string(l)]++
		}
	}
	return count
}

// same tells whether a and b are the same inventory.
func same(a, b *Inventory) bool { return reflect.DeepEqual(a, b) }

// tenantsNode finds the tenants key and sequence in the root mapping,
// creating them when create is set; seq is nil when there is none.
func tenantsNode(root *yaml.Node, create bool) (key, seq *yaml.Node) {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "tenants" {
			key, v := root.Content[i], root.Content[i+1]
			if v.Kind != yaml.SequenceNode && create {
				*v = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", LineComment: v.LineComment}
			}
			if v.Kind == yaml.SequenceNode {
				return key, v
			}
			return key, nil
		}
	}
	if !create {
		return nil, nil
	}
	key = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "tenants"}
	seq = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	root.Content = append(root.Content, key, seq)
	return key, seq
}

// RecordTenantKeys writes an id (from newID) and the slot the load
// assigned into every tenant of the file at path that lacks them, so that
// a tenant written by hand keeps the same id and addresses from its first
// run on (the API needs the id; addresses follow the slot). It returns the
// names it completed and the reloaded inventory; a file that lacks nothing
// is left untouched.
func RecordTenantKeys(path string, newID func() string) (*Inventory, []string, error) {
	inv, err := Load(path)
	if err != nil {
		return nil, nil, err
	}
	var done []string
	for _, t := range inv.Tenants {
		if t.ID == "" || t.slotAssigned {
			done = append(done, t.Name)
		}
	}
	if len(done) == 0 {
		return inv, nil, nil
	}
	inv, err = edit(path, func(root *yaml.Node) error {
		_, seq := tenantsNode(root, false)
		if seq == nil {
			return nil
		}
		for i, item := range seq.Content {
			if item.Kind != yaml.MappingNode || i >= len(inv.Tenants) {
				continue
			}
			t := inv.Tenants[i]
			if t.ID == "" {
				setKey(item, "id", newID())
			}
			if t.slotAssigned && t.Slot != nil {
				setKey(item, "slot", fmt.Sprint(*t.Slot))
			}
		}
		return nil
	})
	return inv, done, err
}

// setKey adds key: value to a mapping node that lacks key.
func setKey(m *yaml.Node, key, value string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return
		}
	}
	tag := "!!str"
	if key == "slot" {
		tag = "!!int"
	}
	m.Content = append(m.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value})
}
