package gendocs_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/karana-project/karana/pkg/cmd/root"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/gendocs"
	"github.com/karana-project/karana/pkg/iostreams"
)

func tree() *cobra.Command {
	ios, _, _ := iostreams.Test()
	return root.NewCmdRoot(&cmdutil.Factory{IOStreams: ios})
}

var placeholder = regexp.MustCompile(`<[^<>\s]+>`)

// placeholders of one command as its --help shows them: usage line, long
// text and flag usages.
func placeholders(c *cobra.Command) []string {
	text := []string{c.UseLine(), c.Long}
	c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) { text = append(text, f.Usage) })
	var out []string
	for _, s := range text {
		out = append(out, placeholder.FindAllString(s, -1)...)
	}
	return out
}

func genPages(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	files, err := gendocs.ManPages(tree(), dir, "1.2.3", time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return dir, files
}

// Every command of the tree, whoever added it, gets one page with its own
// title that keeps every placeholder its help shows.
func TestManPagesEveryCommand(t *testing.T) {
	dir, files := genPages(t)
	cmds := gendocs.Commands(tree())
	if len(cmds) < 20 || len(files) != len(cmds) {
		t.Fatalf("%d commands, %d pages", len(cmds), len(files))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(cmds) {
		t.Errorf("%d files in %s for %d commands", len(entries), dir, len(cmds))
	}
	total := 0
	for _, c := range cmds {
		page, err := os.ReadFile(filepath.Join(dir, gendocs.PageName(c)))
		if err != nil {
			t.Errorf("%s: %v", c.CommandPath(), err)
			continue
		}
		title := strings.ToUpper(strings.ReplaceAll(c.CommandPath(), " ", "-"))
		if want := `.TH "` + title + `" "1" "Dec 2025" "karana 1.2.3" "karana manual"`; !bytes.Contains(page, []byte(want)) {
			t.Errorf("%s: no header %s in\n%s", c.CommandPath(), want, head(page))
		}
		for _, p := range placeholders(c) {
			total++
			if !bytes.Contains(page, []byte(p)) {
				t.Errorf("%s: the page lost %s", c.CommandPath(), p)
			}
		}
		if bytes.Contains(page, []byte(`\\<`)) || bytes.Contains(page, []byte(`\\*`)) {
			t.Errorf("%s: an escape shows on the page:\n%s", c.CommandPath(), page)
		}
	}
	if total < 5 {
		t.Errorf("only %d placeholders in the whole tree: the check checks nothing", total)
	}
}

func TestManPagesReadRight(t *testing.T) {
	dir, _ := genPages(t)
	for _, tt := range []struct{ page, want string }{
		{"karana-balancer-drain.1", `\fBkarana balancer drain <balancer> [flags]\fP`},
		{"karana.1", `\fBkarana <command> [flags]\fP`},
		{"karana-tenant-add.1", "secrets/<project>/NAME.yaml"},
		{"karana-tenant-add.1", "influx.<domain> are routed"},
		// numbered steps stay one per line instead of running into a paragraph
		{"karana-balancer-reload.1", ".EX\n  1. refuse if another inner balancer"},
		{"karana-balancer-reload.1", "  2. set server <backend>/<lb> state drain on lb0"},
		{"karana-tenant-add.1", `with its admin password and root_url`},
	} {
		page, err := os.ReadFile(filepath.Join(dir, tt.page))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(page, []byte(tt.want)) {
			t.Errorf("%s lacks %q:\n%s", tt.page, tt.want, page)
		}
	}
}

// What a reader sees: man(1) renders the page (skipped where man-db is
// not installed; e2e/setup.sh installs it for CI).
func TestManRendersPlaceholder(t *testing.T) {
	if _, err := exec.LookPath("man"); err != nil {
		t.Skip("man is not installed")
	}
	dir, _ := genPages(t)
	cmd := exec.Command("man", "-l", filepath.Join(dir, "karana-balancer-drain.1"))
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("man -l: %v", err)
	}
	for _, want := range []string{"KARANA-BALANCER-DRAIN(1)", "karana balancer drain <balancer> [flags]"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("man -l shows no %q:\n%s", want, out)
		}
	}
}

func TestWriteCompletions(t *testing.T) {
	dir := t.TempDir()
	if err := gendocs.WriteCompletions(tree(), dir); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"karana":      "complete -o default -F __start_karana karana",
		"_karana":     "#compdef karana",
		"karana.fish": "complete -c karana",
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "_karana karana karana.fish" {
		t.Errorf("files %v", names)
	}
	for name, line := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Contains(b, []byte(line)) {
			t.Errorf("%s: %v; lacks %q", name, err, line)
		}
	}
}

func TestEscape(t *testing.T) {
	c := &cobra.Command{
		Use:   "drain <balancer>",
		Short: "take *one* out",
		Long:  "Keep secrets/<project>/a_b.yaml.\nSteps:\n  1. <x> first\n\n  2. then\nafter | that",
	}
	c.Flags().String("out", "", "write to <dir>")
	gendocs.Escape(c)
	for _, tt := range []struct{ got, want string }{
		{c.Use, `drain \<balancer\>`},
		{c.Short, `take \*one\* out`},
		{c.Long, "Keep secrets/\\<project\\>/a\\_b.yaml.\nSteps:\n\n```\n  1. <x> first\n\n  2. then\n```\n\nafter \\| that"},
		{c.Flags().Lookup("out").Usage, `write to \<dir\>`},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func head(b []byte) string {
	lines := strings.SplitN(string(b), "\n", 4)
	return strings.Join(lines[:min(3, len(lines))], "\n")
}
