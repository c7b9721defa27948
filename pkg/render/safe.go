package render

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/karana-project/karana/pkg/inventory"
)

// The inventory loader already restricts names and domains; these checks
// are the second line, for inventories built in code and for template
// bugs: no value may carry whitespace, a comment sign, a quote or anything
// else that would let it end one HAProxy word and start another.

// checker collects the first unsafe value found.
type checker struct{ err error }

func (c *checker) fail(what, value, why string) {
	if c.err == nil {
		c.err = &UnsafeValueError{What: what, Value: value, Why: why}
	}
}

// name checks a container, balancer or host-prefix name.
func (c *checker) name(what, v string) {
	if why := unsafeWord(v); why != "" {
		c.fail(what, v, why)
		return
	}
	if len(v) > 63 || !isLabel(v) {
		c.fail(what, v, "is not a name of lowercase letters, digits and '-'")
	}
}

// domain checks a tenant domain: it lands in the host map, the crt-list
// and a file name.
func (c *checker) domain(what, v string) {
	if why := unsafeWord(v); why != "" {
		c.fail(what, v, why)
		return
	}
	if err := inventory.ValidDomain(v); err != nil {
		c.fail(what, v, "is not a valid DNS name")
	}
}

func isLabel(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-') {
			return false
		}
	}
	return true
}

// unsafeWord says why v cannot be one HAProxy word, or "".
func unsafeWord(v string) string {
	if v == "" {
		return "is empty"
	}
	if !utf8.ValidString(v) {
		return "is not valid UTF-8"
	}
	for _, r := range v {
		switch {
		case r == '\n' || r == '\r':
			return "contains a line break"
		case r == ' ' || r == '\t':
			return "contains whitespace"
		case r < 0x20 || r == 0x7f:
			return fmt.Sprintf("contains the control character %U", r)
		case strings.ContainsRune("#\"'\\$%{}[]`;", r):
			return fmt.Sprintf("contains %q", r)
		case r > 0x7e:
			return fmt.Sprintf("contains the non-ASCII character %q", r)
		}
	}
	return ""
}

// UnsafeValueError is a value that cannot go into an HAProxy file.
type UnsafeValueError struct {
	What, Value, Why string
}

func (e *UnsafeValueError) Error() string {
	return fmt.Sprintf("%s: %q %s: it cannot go into the HAProxy configuration", e.What, e.Value, e.Why)
}

// tok is the templates' guard: every string they interpolate passes
// through it, so a value that escaped the model's checks fails the render
// instead of reaching HAProxy. Wildcards and paths are allowed.
func tok(v string) (string, error) {
	if why := unsafeWord(v); why != "" {
		return "", errors.New((&UnsafeValueError{What: "template value", Value: v, Why: why}).Error())
	}
	return v, nil
}
