package cmdutil

import "strings"

// Dedent removes the common leading tabs of a raw-string help text and
// trims surrounding blank lines, so help can be indented like the code.
func Dedent(s string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	prefix := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, "\t"))
		if prefix < 0 || n < prefix {
			prefix = n
		}
	}
	for i, l := range lines {
		if len(l) >= prefix && prefix > 0 {
			lines[i] = l[prefix:]
		} else {
			lines[i] = strings.TrimLeft(l, "\t")
		}
	}
	return strings.Join(lines, "\n")
}
