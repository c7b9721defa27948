package inventory

import (
	"bytes"
	"fmt"
	"os"
	"reflect"

	"github.com/karana-project/karana/pkg/fsutil"
	"gopkg.in/yaml.v3"
)

// AddTenant appends t to the inventory file at path, keeping the operator's
// comments (and, when tenants is the file's last key, the layout of
// everything above it), and returns the reloaded inventory. The file is
// validated before it is replaced (atomically); an invalid result leaves the
// file untouched.
func AddTenant(path string, t Tenant) (*Inventory, error) {
	return edit(path, func(root *yaml.Node) error {
		seq := tenantsNode(root, true)
		var item yaml.Node
		if err := item.Encode(t); err != nil {
			return fmt.Errorf("encoding tenant %q: %w", t.Name, err)
		}
		seq.Content = append(seq.Content, &item)
		return nil
	})
}

// RemoveTenant deletes the tenant called name from the file at path.
func RemoveTenant(path, name string) (*Inventory, error) {
	return edit(path, func(root *yaml.Node) error {
		seq := tenantsNode(root, false)
		if seq == nil {
			return fmt.Errorf("tenant %q is not in %s", name, path)
		}
		for i, item := range seq.Content {
			var t Tenant
			if err := item.Decode(&t); err == nil && t.Name == name {
				seq.Content = append(seq.Content[:i], seq.Content[i+1:]...)
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
	if spliced, ok := spliceTenants(data, doc.Content[0]); ok {
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

// spliceTenants rewrites only the tenants section of data, when it is the
// file's last top-level key (as in the shipped inventories): from its line
// to the end, the section re-encoded from root; everything above stays byte
// for byte. ok is false when the section is elsewhere or missing.
func spliceTenants(data []byte, root *yaml.Node) ([]byte, bool) {
	n := len(root.Content)
	if root.Kind != yaml.MappingNode || n < 2 || root.Content[n-2].Value != "tenants" || root.Content[n-2].Line < 1 {
		return nil, false
	}
	key := *root.Content[n-2]
	key.HeadComment = "" // above the section: kept as written
	section := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{&key, root.Content[n-1]}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(section); err != nil {
		return nil, false
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if key.Line > len(lines) {
		return nil, false
	}
	out := append(bytes.Join(lines[:key.Line-1], nil), buf.Bytes()...)
	return out, true
}

// same tells whether a and b are the same inventory.
func same(a, b *Inventory) bool { return reflect.DeepEqual(a, b) }

// tenantsNode finds the tenants sequence in the root mapping, creating it
// when create is set.
func tenantsNode(root *yaml.Node, create bool) *yaml.Node {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "tenants" {
			v := root.Content[i+1]
			if v.Kind != yaml.SequenceNode && create {
				*v = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			}
			if v.Kind == yaml.SequenceNode {
				return v
			}
			return nil
		}
	}
	if !create {
		return nil
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "tenants"}, seq)
	return seq
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
		seq := tenantsNode(root, false)
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
