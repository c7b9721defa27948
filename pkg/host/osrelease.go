// Package host prepares the machine karana runs on: it installs the LXD
// daemon when missing and makes sure it is running and answering.
package host

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// OSRelease is what karana reads from /etc/os-release.
type OSRelease struct {
	ID       string   // debian, ubuntu, ...
	IDLike   []string // ID_LIKE, e.g. [debian]
	Codename string   // VERSION_CODENAME, e.g. bookworm
	Version  string   // VERSION_ID, e.g. 12
}

// Family is "ubuntu", "debian" or "" for systems karana cannot set up.
func (o OSRelease) Family() string {
	switch {
	case o.ID == "ubuntu" || slices.Contains(o.IDLike, "ubuntu"):
		return "ubuntu"
	case o.ID == "debian" || slices.Contains(o.IDLike, "debian"):
		return "debian"
	}
	return ""
}

// ReadOSRelease reads /etc/os-release, falling back to /usr/lib/os-release
// as os-release(5) says.
func ReadOSRelease() (OSRelease, error) {
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		defer f.Close()
		o, err := ParseOSRelease(f)
		if err != nil {
			return o, fmt.Errorf("reading %s: %w", p, err)
		}
		return o, nil
	}
	return OSRelease{}, fmt.Errorf("reading os-release: neither /etc/os-release nor /usr/lib/os-release exists")
}

// ParseOSRelease parses the KEY=value lines of os-release(5); values may
// be quoted with shell quoting.
func ParseOSRelease(r io.Reader) (OSRelease, error) {
	var o OSRelease
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return o, fmt.Errorf("line %d: %q is not KEY=value", n, line)
		}
		val, err := unquote(val)
		if err != nil {
			return o, fmt.Errorf("line %d: %s: %w", n, key, err)
		}
		switch key {
		case "ID":
			o.ID = val
		case "ID_LIKE":
			o.IDLike = strings.Fields(val)
		case "VERSION_CODENAME":
			o.Codename = val
		case "VERSION_ID":
			o.Version = val
		}
	}
	return o, sc.Err()
}

func unquote(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, `"`):
		return strconv.Unquote(v)
	case strings.HasPrefix(v, "'"):
		if len(v) < 2 || !strings.HasSuffix(v, "'") {
			return "", fmt.Errorf("unterminated quote in %s", v)
		}
		return v[1 : len(v)-1], nil
	}
	return v, nil
}
