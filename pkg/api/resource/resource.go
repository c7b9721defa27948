package resource

import (
	"fmt"
	"sort"
	"strings"
)

// Resource describes one resource: its fields and rules (the seed's
// Listing 2 and Table 1). The yaml tags are the keys of a resource declared
// in the configuration.
type Resource struct {
	Name   string   `yaml:"name" json:"name,omitempty"`
	Fields []Field  `yaml:"fields" json:"fields,omitempty"`
	Unique []string `yaml:"unique" json:"unique,omitempty"` // unique field paths; uuid always is
	// Login names the object field holding {login, password} (the seed's
	// credentials); empty when the resource cannot log in.
	Login string `yaml:"login" json:"login,omitempty"`
	// Owner names the field holding the owning user's uuid ("uuid" for users
	// themselves). A client reaches only records it owns; a resource without
	// an owner field is reserved to admins.
	Owner string `yaml:"owner" json:"owner,omitempty"`

	byName map[string]*Field
}

// Init checks the definition, adds the uuid and created_at fields every
// resource has, and applies the minimum password length.
func (r *Resource) Init(minPassword int) error {
	if r.Name == "" || strings.ContainsAny(r.Name, "/ .") {
		return fmt.Errorf("resource %q: name: needs a plural name without slashes, dots or spaces", r.Name)
	}
	if r.Name == "sync" {
		return fmt.Errorf("resource %q: name: reserved for the sync endpoint", r.Name)
	}
	r.byName = map[string]*Field{}
	r.addSystem(Field{Name: "uuid", Type: TypeUUID, System: GenUUID}, Field{Name: "created_at", Type: TypeDateTime, System: GenNow})
	for i := range r.Fields {
		f := &r.Fields[i]
		if err := f.compile(f.Name); err != nil {
			return fmt.Errorf("resource %s: field %w", r.Name, err)
		}
		if _, dup := r.byName[f.Name]; dup {
			return fmt.Errorf("resource %s: field %s: declared twice", r.Name, f.Name)
		}
		setMinPassword(f, minPassword)
		r.byName[f.Name] = f
	}
	if !contains(r.Unique, "uuid") {
		r.Unique = append([]string{"uuid"}, r.Unique...)
	}
	for _, u := range r.Unique {
		if f := r.Lookup(u); f == nil || f.Type == TypeObject || f.Type == TypeList || f.Type == TypeJSON || f.Type == TypePassword {
			return fmt.Errorf("resource %s: unique: %q is not a scalar field of the resource", r.Name, u)
		}
	}
	if err := r.checkLogin(); err != nil {
		return err
	}
	if r.Owner != "" && (r.byName[r.Owner] == nil || r.byName[r.Owner].Type != TypeUUID) {
		return fmt.Errorf("resource %s: owner: %q is not a uuid field of the resource", r.Name, r.Owner)
	}
	return nil
}

// LimitJSON gives every json field without its own max_bytes the limit n.
func (r *Resource) LimitJSON(n int) {
	var walk func(fs []Field)
	walk = func(fs []Field) {
		for i := range fs {
			if fs[i].Type == TypeJSON && fs[i].MaxBytes == 0 {
				fs[i].MaxBytes = n
			}
			walk(fs[i].Fields)
		}
	}
	walk(r.Fields)
}

func (r *Resource) addSystem(fields ...Field) {
	for _, f := range fields {
		if !r.has(f.Name) {
			r.Fields = append([]Field{f}, r.Fields...)
		}
	}
}

func (r *Resource) has(name string) bool {
	for _, f := range r.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

func (r *Resource) checkLogin() error {
	if r.Login == "" {
		return nil
	}
	f := r.byName[r.Login]
	if f == nil || f.Type != TypeObject {
		return fmt.Errorf("resource %s: login: %q is not an object field", r.Name, r.Login)
	}
	l, p := f.sub("login"), f.sub("password")
	if l == nil || l.Type == TypePassword || p == nil || p.Type != TypePassword {
		return fmt.Errorf("resource %s: login: field %s needs a login and a password (type password)", r.Name, r.Login)
	}
	if !contains(r.Unique, r.LoginPath()) {
		return fmt.Errorf("resource %s: unique: must list the login field %s", r.Name, r.LoginPath())
	}
	return nil
}

func setMinPassword(f *Field, n int) {
	if f.Type == TypePassword && f.MinLen < n {
		f.MinLen = n
	}
	for i := range f.Fields {
		setMinPassword(&f.Fields[i], n)
	}
}

func (f *Field) sub(name string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			return &f.Fields[i]
		}
	}
	return nil
}

// Lookup returns the field at a dotted path ("credentials.login"), or nil.
func (r *Resource) Lookup(path string) *Field {
	parts := strings.Split(path, ".")
	f := r.byName[parts[0]]
	for _, p := range parts[1:] {
		if f == nil {
			return nil
		}
		f = f.sub(p)
	}
	return f
}

// LoginPath is the dotted path of the login name, e.g. credentials.login.
func (r *Resource) LoginPath() string { return r.Login + ".login" }

// PasswordPath is the dotted path of the password hash.
func (r *Resource) PasswordPath() string { return r.Login + ".password" }

// Refs returns the fields pointing at other resources, sorted by name.
func (r *Resource) Refs() []*Field {
	var refs []*Field
	for i := range r.Fields {
		if r.Fields[i].Ref != "" {
			refs = append(refs, &r.Fields[i])
		}
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Name < refs[j].Name })
	return refs
}

// Get returns the value at a dotted path of a record.
func Get(rec map[string]any, path string) (any, bool) {
	parts := strings.Split(path, ".")
	var cur any = rec
	for _, p := range parts {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}
