package render

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxDiffLines caps the lines a diff shows per file and side: enough to
// see what drifted without flooding a CI log with ten thousand backends.
const maxDiffLines = 60

// Diff compares dir with o and returns "" when dir holds exactly o's files,
// else a readable report naming every file that differs, with a unified
// diff of changed text files. Certificates are named, never printed.
func Diff(dir string, o *Output) (string, error) {
	changes, err := Compare(dir, o)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range changes {
		switch c.Status {
		case StatusMissing:
			fmt.Fprintf(&b, "missing certificate %s (render without --check generates it)\n", c.Path)
		case StatusAdded:
			fmt.Fprintf(&b, "only rendered: %s is not in %s\n", c.Path, dir)
		case StatusRemoved:
			fmt.Fprintf(&b, "stale: %s is no longer rendered\n", filepath.Join(dir, c.Path))
		case StatusChanged:
			p := filepath.Join(dir, filepath.FromSlash(c.Path))
			if strings.HasSuffix(c.Path, ".pem") {
				fmt.Fprintf(&b, "certificate differs: %s\n", p)
				continue
			}
			old, err := os.ReadFile(p)
			if err != nil {
				return "", fmt.Errorf("reading %s: %w", p, err)
			}
			b.WriteString(unified(p, "rendered "+c.Path, old, o.Files[c.Path]))
		}
	}
	return b.String(), nil
}

// unified shows the differing middle of two texts as one hunk with three
// lines of context. Rendered files change in one place per edit (files are
// sorted), so one hunk is what a real diff would show in the usual cases,
// at linear cost on files of a hundred thousand lines.
func unified(oldName, newName string, oldB, newB []byte) string {
	a, b := lines(oldB), lines(newB)
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	const ctx = 3
	start := max(pre-ctx, 0)
	endA, endB := min(len(a)-suf+ctx, len(a)), min(len(b)-suf+ctx, len(b))
	var s strings.Builder
	fmt.Fprintf(&s, "--- %s\n+++ %s\n@@ -%d,%d +%d,%d @@\n", oldName, newName, start+1, endA-start, start+1, endB-start)
	for _, l := range a[start:pre] {
		s.WriteString(" " + l + "\n")
	}
	side(&s, "-", a[pre:len(a)-suf])
	side(&s, "+", b[pre:len(b)-suf])
	for _, l := range a[len(a)-suf : endA] {
		s.WriteString(" " + l + "\n")
	}
	return s.String()
}

func side(s *strings.Builder, mark string, ls []string) {
	for i, l := range ls {
		if i == maxDiffLines {
			fmt.Fprintf(s, "%s... %d more lines\n", mark, len(ls)-i)
			return
		}
		s.WriteString(mark + l + "\n")
	}
}

func lines(b []byte) []string {
	b = bytes.TrimSuffix(b, []byte("\n"))
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\n")
}
