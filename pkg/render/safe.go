package render

import (
	"fmt"
	"unicode/utf8"

	"github.com/karana-project/karana/pkg/inventory"
)

// The inventory loader already restricts names and domains; these checks
// are the second line, for inventories built in code and for future keys:
// no value may carry whitespace, a comment sign, a quote or anything else
// that would let it end one HAProxy word and start another.

// checker turns strings into words, keeping the first refusal.
type checker struct{ err error }

func (c *checker) fail(what, value, why string) {
	if c.err == nil {
		c.err = &UnsafeValueError{What: what, Value: value, Why: why}
	}
}

// word checks that v is one safe HAProxy word.
func (c *checker) word(what, v string) word {
	if why := unsafeWord(v); why != "" {
		c.fail(what, v, why)
	}
	return word(v)
}

// name checks a container, balancer or host-prefix name.
func (c *checker) name(what, v string) word {
	if why := unsafeWord(v); why != "" {
		c.fail(what, v, why)
	} else if len(v) > 63 || !isLabel(v) {
		c.fail(what, v, "is not a name of lowercase letters, digits and '-'")
	}
	return word(v)
}

// domain checks a tenant domain: it lands in the host map, the crt-list
// and a file name.
func (c *checker) domain(what, v string) word {
	if why := unsafeWord(v); why != "" {
		c.fail(what, v, why)
	} else if err := inventory.ValidDomain(v); err != nil {
		c.fail(what, v, "is not a valid DNS name")
	}
	return word(v)
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

// special are the printable ASCII characters HAProxy gives a meaning to
// inside or between words: comments, quotes, escapes, sample fetches.
var special = func() (t [128]bool) {
	for _, r := range "#\"'\\$%{}[]`;" {
		t[r] = true
	}
	return t
}()

// unsafeWord says why v cannot be one HAProxy word, or "".
func unsafeWord(v string) string {
	if v == "" {
		return "is empty"
	}
	for i := 0; i < len(v); i++ {
		b := v[i]
		switch {
		case b == '\n' || b == '\r':
			return "contains a line break"
		case b == ' ' || b == '\t':
			return "contains whitespace"
		case b < 0x20 || b == 0x7f:
			return fmt.Sprintf("contains the control character %U", rune(b))
		case b >= 0x80:
			r, _ := utf8.DecodeRuneInString(v[i:])
			return fmt.Sprintf("contains the non-ASCII character %q", r)
		case special[b]:
			return fmt.Sprintf("contains %q", rune(b))
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
