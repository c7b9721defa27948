package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxFileSize bounds what Load reads: an inventory of 100,000 tenants is far below it.
const maxFileSize = 64 << 20

// Problem is one thing wrong with an inventory, with where it is.
type Problem struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Path string `json:"path"` // e.g. tenants[3].domain
	Msg  string `json:"message"`
}

func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc += ":" + strconv.Itoa(p.Line)
	}
	if p.Path != "" {
		return fmt.Sprintf("%s: %s: %s", loc, p.Path, p.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, p.Msg)
}

// ValidationError lists every problem found in an inventory, in file order.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	n := len(e.Problems)
	head := "invalid inventory: 1 problem"
	if n != 1 {
		head = fmt.Sprintf("invalid inventory: %d problems", n)
	}
	return head + "\n  " + strings.Join(lines, "\n  ")
}

// Load reads, defaults and validates the inventory at path. Every problem is
// reported at once as a *ValidationError.
func Load(path string) (*Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading inventory: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading inventory %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("reading inventory %s: larger than %d MiB", path, maxFileSize>>20)
	}
	return Parse(path, data)
}

// Parse is Load on bytes already read; path is used in messages and to
// resolve relative paths.
func Parse(path string, data []byte) (*Inventory, error) {
	v := &validator{file: path}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		v.addYAMLError(err)
		return nil, v.err()
	}
	if len(doc.Content) == 0 {
		v.add(0, "", "the file is empty")
		return nil, v.err()
	}
	v.lines = map[string]int{}
	indexLines(doc.Content[0], "", v.lines)

	inv := &Inventory{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(inv); err != nil && !errors.Is(err, io.EOF) {
		v.addYAMLError(err)
		return nil, v.err()
	}
	inv.Path = path
	inv.applyDefaults()
	v.validate(inv)
	if err := v.err(); err != nil {
		return nil, err
	}
	return inv, nil
}

type validator struct {
	file     string
	lines    map[string]int
	problems []Problem
}

func (v *validator) add(line int, path, format string, args ...any) {
	v.problems = append(v.problems, Problem{File: v.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// at reports a problem at path, using the line of path or of its closest
// parent present in the file.
func (v *validator) at(path, format string, args ...any) {
	v.add(v.line(path), path, format, args...)
}

func (v *validator) line(path string) int {
	for p := path; p != ""; p = parent(p) {
		if l, ok := v.lines[p]; ok {
			return l
		}
	}
	return 0
}

func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

var yamlLineRe = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// addYAMLError splits yaml.v3's errors ("line 3: field x not found in
// type ...") into problems with lines.
func (v *validator) addYAMLError(err error) {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	for _, m := range msgs {
		if sm := yamlLineRe.FindStringSubmatch(m); sm != nil {
			n, _ := strconv.Atoi(sm[1])
			v.add(n, "", "%s", friendlyYAML(sm[2]))
			continue
		}
		v.add(0, "", "%s", strings.TrimPrefix(m, "yaml: "))
	}
}

var unknownFieldRe = regexp.MustCompile(`^field (\S+) not found in type \S+$`)

func friendlyYAML(m string) string {
	if sm := unknownFieldRe.FindStringSubmatch(m); sm != nil {
		return fmt.Sprintf("unknown key %q", sm[1])
	}
	return m
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	sort.SliceStable(v.problems, func(i, j int) bool { return v.problems[i].Line < v.problems[j].Line })
	return &ValidationError{Problems: v.problems}
}

// indexLines records the line of every mapping key and sequence item under n.
func indexLines(n *yaml.Node, path string, out map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			out[p] = k.Line
			indexLines(n.Content[i+1], p, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			out[p] = c.Line
			indexLines(c, p, out)
		}
	}
}
