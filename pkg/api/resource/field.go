// Package resource describes the API's resources (users, karanas and any
// declared in the configuration) and validates records against them: the
// create rules (system fields generated) and the import rules (every field
// present), as the seed's Marshmallow schemas did.
package resource

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/karana-project/karana/pkg/api/apierr"
)

// Field types.
const (
	TypeString   = "string"
	TypeEmail    = "email"
	TypeUUID     = "uuid"
	TypeDateTime = "datetime"
	TypeInt      = "int"
	TypeNumber   = "number"
	TypeBool     = "bool"
	TypeObject   = "object"
	TypeList     = "list"
	TypeJSON     = "json"     // any JSON value, e.g. a karana's configuration
	TypePassword = "password" // plain text on input, a crypt hash when stored, never output
)

// Generators for system fields.
const (
	GenUUID   = "uuid4"  // a random (version 4) uuid
	GenNow    = "now"    // the creation time, RFC 3339 UTC
	GenSecret = "secret" // 16 random letters and digits (password_influx)
	GenList   = "list"   // an empty list
)

// Field describes one attribute of a resource. The yaml tags are the keys
// of a resource declared in the configuration.
type Field struct {
	Name      string   `yaml:"name" json:"name,omitempty"`
	Type      string   `yaml:"type" json:"type,omitempty"`
	Required  bool     `yaml:"required" json:"required,omitempty"`     // required on create (always on import)
	System    string   `yaml:"system" json:"system,omitempty"`         // generator; set by the system, never by a client
	AdminOnly bool     `yaml:"admin_only" json:"admin_only,omitempty"` // only an admin may set it
	Default   any      `yaml:"default" json:"default,omitempty"`
	Enum      []string `yaml:"enum" json:"enum,omitempty"`
	Pattern   string   `yaml:"pattern" json:"pattern,omitempty"` // regular expression a string must match
	MinLen    int      `yaml:"min_length" json:"min_length,omitempty"`
	MaxLen    int      `yaml:"max_length" json:"max_length,omitempty"`
	Items     string   `yaml:"items" json:"items,omitempty"`         // element type of a list
	MaxItems  int      `yaml:"max_items" json:"max_items,omitempty"` // longest list
	Ref       string   `yaml:"ref" json:"ref,omitempty"`             // resource a uuid (or list of uuids) points to
	Fields    []Field  `yaml:"fields" json:"fields,omitempty"`       // sub-fields of an object
	MaxBytes  int      `yaml:"max_bytes" json:"max_bytes,omitempty"` // largest encoded value of a json field

	re *regexp.Regexp // compiled Pattern
}

// requiredOnImport: every field the seed's Db schemas mark required.
func (f *Field) requiredOnImport() bool { return f.Required || f.System != "" || f.Default != nil }

func (f *Field) compile(path string) error {
	switch f.Type {
	case TypeString, TypeEmail, TypeUUID, TypeDateTime, TypeInt, TypeNumber, TypeBool, TypeJSON, TypePassword:
	case TypeObject:
		if len(f.Fields) == 0 {
			return fmt.Errorf("%s: an object needs fields", path)
		}
		for i := range f.Fields {
			if err := f.Fields[i].compile(path + "." + f.Fields[i].Name); err != nil {
				return err
			}
		}
	case TypeList:
		switch f.Items {
		case TypeString, TypeEmail, TypeUUID, TypeDateTime, TypeInt, TypeNumber, TypeBool:
		default:
			return fmt.Errorf("%s: items: unknown list item type %q", path, f.Items)
		}
	default:
		return fmt.Errorf("%s: type: unknown type %q (string, email, uuid, datetime, int, number, bool, object, list, json, password)", path, f.Type)
	}
	if f.Name == "" || strings.ContainsAny(f.Name, ". ") {
		return fmt.Errorf("%s: name: a field needs a name without dots or spaces", path)
	}
	switch f.System {
	case "", GenUUID, GenNow, GenSecret, GenList:
	default:
		return fmt.Errorf("%s: system: unknown generator %q (uuid4, now, secret, list)", path, f.System)
	}
	if f.Pattern != "" {
		re, err := regexp.Compile(f.Pattern)
		if err != nil {
			return fmt.Errorf("%s: pattern: %v", path, err)
		}
		f.re = re
	}
	return nil
}

// checkValue validates one value against the field; stored says whether the
// value comes from the dump (passwords must then be hashes).
func (f *Field) checkValue(v any, stored bool) *apierr.Error {
	switch f.Type {
	case TypeObject:
		m, ok := v.(map[string]any)
		if !ok {
			return apierr.Field(f.Name, "must be an object")
		}
		if err := checkObject(f.Fields, m, stored); err != nil {
			return err.Prefix(f.Name)
		}
		return nil
	case TypeList:
		l, ok := v.([]any)
		if !ok {
			return apierr.Field(f.Name, "must be a list")
		}
		if f.MaxItems > 0 && len(l) > f.MaxItems {
			return apierr.Field(f.Name, "has %d items, at most %d allowed", len(l), f.MaxItems)
		}
		item := Field{Name: f.Name, Type: f.Items}
		for i, e := range l {
			if err := item.checkScalar(e, stored); err != nil {
				return apierr.Field(fmt.Sprintf("%s[%d]", f.Name, i), "%s", err.Msg)
			}
		}
		return nil
	case TypeJSON:
		if f.MaxBytes > 0 && !stored {
			b, err := json.Marshal(v)
			if err != nil || len(b) > f.MaxBytes {
				return apierr.Field(f.Name, "is %d bytes as JSON, at most %d allowed (limits.json_field_bytes)", len(b), f.MaxBytes)
			}
		}
		return nil
	}
	return f.checkScalar(v, stored)
}

func (f *Field) checkScalar(v any, stored bool) *apierr.Error {
	switch f.Type {
	case TypeBool:
		if _, ok := v.(bool); !ok {
			return apierr.Field(f.Name, "must be true or false")
		}
		return nil
	case TypeInt, TypeNumber:
		n, ok := v.(json.Number)
		if !ok {
			return apierr.Field(f.Name, "must be a number")
		}
		if _, err := n.Int64(); f.Type == TypeInt && err != nil {
			return apierr.Field(f.Name, "must be an integer")
		}
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return apierr.Field(f.Name, "must be a string")
	}
	return f.checkString(s, stored)
}

func (f *Field) checkString(s string, stored bool) *apierr.Error {
	n := utf8.RuneCountInString(s)
	// New text is held to what the systems behind the API compare by
	// (Grafana trims and lower-cases logins); stored records load as they
	// are, so an old dump still starts.
	if f.Type != TypePassword && !stored {
		switch {
		case strings.IndexFunc(s, unicode.IsControl) >= 0:
			return apierr.Field(f.Name, "must not hold control characters")
		case f.MinLen > 0 && strings.TrimSpace(s) == "":
			return apierr.Field(f.Name, "must not be empty or only spaces")
		case s != strings.TrimSpace(s):
			return apierr.Field(f.Name, "must not start or end with spaces")
		}
	}
	switch {
	case f.MinLen > 0 && n < f.MinLen && !(f.Type == TypePassword && stored):
		return apierr.Field(f.Name, "must be at least %d characters long", f.MinLen)
	case f.MaxLen > 0 && n > f.MaxLen:
		return apierr.Field(f.Name, "must be at most %d characters long", f.MaxLen)
	case len(f.Enum) > 0 && !contains(f.Enum, s):
		return apierr.Field(f.Name, "must be one of %s", strings.Join(f.Enum, ", "))
	case f.re != nil && !f.re.MatchString(s):
		return apierr.Field(f.Name, "does not match the pattern %s", f.Pattern)
	}
	switch f.Type {
	case TypeEmail:
		a, err := mail.ParseAddress(s)
		if err != nil || a.Address != s || a.Name != "" {
			return apierr.Field(f.Name, "is not an e-mail address")
		}
	case TypeUUID:
		u, err := uuid.Parse(s)
		if err != nil || len(s) != 36 || u.String() != strings.ToLower(s) {
			return apierr.Field(f.Name, "is not a uuid (xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx)")
		}
		if f.System == GenUUID && u.Version() != 4 {
			return apierr.Field(f.Name, "is not a version 4 uuid")
		}
	case TypeDateTime:
		if _, err := ParseTime(s); err != nil {
			return apierr.Field(f.Name, "is not a date and time (RFC 3339, e.g. 2017-03-02T15:26:11.767166+00:00)")
		}
	case TypePassword:
		if stored && !strings.HasPrefix(s, "$") {
			return apierr.Field(f.Name, "is not a password hash")
		}
	}
	return nil
}

// ParseTime accepts RFC 3339 and the naive ISO form Python's isoformat writes.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse("2006-01-02T15:04:05.999999999", s)
	}
	return t, err
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}
