// Package gendocs writes what a release ships beside the binary: one man
// page per command and the shell completion scripts, each named as its
// shell loads it. Both are generated from the command tree, so a new
// command gets its page and its completions without being listed here.
package gendocs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// Completion files as bash-completion, zsh's fpath and fish load them.
var Completions = map[string]string{
	"bash": "karana",
	"zsh":  "_karana",
	"fish": "karana.fish",
}

// ManPages writes <command-path>.1 for every available command of root's
// tree into dir and returns the files written. It rewrites the tree's help
// texts for the man-page converter (see Escape), so pass a tree built for
// it. The pages are dated date (now when zero; a release passes its
// commit's time, so that the same commit gives the same pages).
func ManPages(root *cobra.Command, dir, version string, date time.Time) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	root.DisableAutoGenTag = true
	Escape(root)
	// An empty Title lets cobra give each page its own (KARANA-BALANCER-DRAIN);
	// a set Title would head every page with the same name.
	hdr := &doc.GenManHeader{Section: "1", Source: strings.TrimSpace("karana " + version), Manual: "karana manual"}
	if !date.IsZero() {
		hdr.Date = &date
	}
	if err := doc.GenManTree(root, hdr, dir); err != nil {
		return nil, fmt.Errorf("writing man pages to %s: %w", dir, err)
	}
	var files []string
	for _, c := range Commands(root) {
		files = append(files, filepath.Join(dir, PageName(c)))
	}
	return files, nil
}

// PageName is the man page file of c: its command path joined by "-".
func PageName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
}

// Commands lists root and every command below it that gets a man page:
// the same ones cobra's GenManTree visits.
func Commands(root *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{root}
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
			continue
		}
		out = append(out, Commands(c)...)
	}
	return out
}

// WriteCompletions writes the bash, zsh and fish completion scripts of
// root into dir under the names of Completions.
func WriteCompletions(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	for shell, name := range Completions {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("writing the %s completion: %w", shell, err)
		}
		switch shell {
		case "bash":
			err = root.GenBashCompletionV2(f, true)
		case "zsh":
			err = root.GenZshCompletion(f)
		case "fish":
			err = root.GenFishCompletion(f, true)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing the %s completion to %s: %w", shell, path, err)
		}
	}
	return nil
}

// Escape prepares every help text of the tree for cobra's man-page
// converter, which reads them as Markdown: unescaped, "<balancer>" is
// taken for an HTML tag and dropped (spf13/cobra#2330), and "*" or "_"
// start emphasis. Plain text gets each such character backslash-escaped;
// runs of indented lines (numbered steps, commands) become fenced blocks,
// shown as written. Examples are fenced by cobra already and stay as
// they are.
func Escape(root *cobra.Command) {
	escape(root, map[*pflag.Flag]bool{})
}

func escape(c *cobra.Command, done map[*pflag.Flag]bool) {
	// The first word is the command's name, which file names are made of.
	if name, rest, ok := strings.Cut(c.Use, " "); ok {
		c.Use = name + " " + escapeText(rest)
	}
	c.Short = escapeText(c.Short)
	c.Long = escapeLong(c.Long)
	// A persistent flag is one value shared by every command below: escape it once.
	c.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if !done[f] {
			f.Usage = escapeText(f.Usage)
			done[f] = true
		}
	})
	for _, sub := range c.Commands() {
		escape(sub, done)
	}
}

// markdown characters that change the meaning of plain text.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `<`, `\<`, `>`, `\>`, `[`, `\[`, `]`, `\]`, `#`, `\#`, `|`, `\|`,
)

func escapeText(s string) string { return mdEscaper.Replace(s) }

func escapeLong(s string) string {
	if s == "" {
		return s
	}
	var b strings.Builder
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); {
		if indented(lines[i]) {
			j := i
			for j < len(lines) && (indented(lines[j]) || strings.TrimSpace(lines[j]) == "" && j+1 < len(lines) && indented(lines[j+1])) {
				j++
			}
			b.WriteString("\n```\n" + strings.Join(lines[i:j], "\n") + "\n```\n\n")
			i = j
			continue
		}
		b.WriteString(escapeText(lines[i]) + "\n")
		i++
	}
	return strings.TrimRight(b.String(), "\n")
}

func indented(l string) bool {
	return strings.TrimSpace(l) != "" && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t"))
}
