// Package release checks the archives `goreleaser release --snapshot`
// wrote, as someone who downloads one would find them. It runs only with
// KARANA_RELEASE_DIST set to goreleaser's dist folder (e2e/release.sh,
// make release-check).
package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/cmd/root"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/gendocs"
	"github.com/karana-project/karana/pkg/iostreams"
)

type artifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Goarch string `json:"goarch"`
	Type   string `json:"type"`
}

type metadata struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

// entry is one file of an archive, read into memory (the archives are a
// few MiB).
type entry struct {
	mode os.FileMode
	data []byte
}

func dist(t *testing.T) string {
	d := os.Getenv("KARANA_RELEASE_DIST")
	if d == "" {
		t.Skip("KARANA_RELEASE_DIST is not set (make release-check sets it)")
	}
	return d
}

func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// archives returns goreleaser's archive artifacts by architecture.
func archives(t *testing.T, dir string) map[string]artifact {
	var all []artifact
	readJSON(t, filepath.Join(dir, "artifacts.json"), &all)
	out := map[string]artifact{}
	for _, a := range all {
		if a.Type == "Archive" {
			a.Path = filepath.Join(dir, filepath.Base(a.Path))
			out[a.Goarch] = a
		}
	}
	return out
}

func readArchive(t *testing.T, file string) map[string]entry {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	tr := tar.NewReader(zr)
	out := map[string]entry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if h.Typeflag == tar.TypeDir {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = entry{mode: h.FileInfo().Mode(), data: b}
	}
}

func TestReleaseArchives(t *testing.T) {
	dir := dist(t)
	var meta metadata
	readJSON(t, filepath.Join(dir, "metadata.json"), &meta)
	if meta.Version == "" || len(meta.Commit) < 7 {
		t.Fatalf("metadata.json: %+v", meta)
	}
	arcs := archives(t, dir)
	if len(arcs) != 2 || arcs["amd64"].Name == "" || arcs["arm64"].Name == "" {
		t.Fatalf("archives %+v, want one for amd64 and one for arm64", arcs)
	}
	sums := checksums(t, dir)
	for _, arch := range []string{"amd64", "arm64"} {
		a := arcs[arch]
		t.Run(arch, func(t *testing.T) {
			b, err := os.ReadFile(a.Path)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			if got := hex.EncodeToString(sum[:]); sums[a.Name] != got {
				t.Errorf("checksums.txt says %q for %s, the file has %s", sums[a.Name], a.Name, got)
			}
			t.Logf("%s: %.1f MiB", a.Name, float64(len(b))/(1<<20))
			checkArchive(t, a, meta, readArchive(t, a.Path))
		})
	}
}

func checkArchive(t *testing.T, a artifact, meta metadata, files map[string]entry) {
	top := strings.TrimSuffix(a.Name, ".tar.gz")
	rel := map[string]entry{}
	for name, e := range files {
		r, ok := strings.CutPrefix(name, top+"/")
		if !ok {
			t.Errorf("%s is outside the archive's one folder %s/", name, top)
			continue
		}
		rel[r] = e
	}
	for _, want := range append([]string{"karana", "README.md", "completions/karana", "completions/_karana", "completions/karana.fish"}, repoDocs(t)...) {
		if _, ok := rel[want]; !ok {
			t.Errorf("%s/%s is missing", top, want)
		}
	}
	bin := rel["karana"]
	if bin.mode&0o111 == 0 {
		t.Errorf("karana is not executable: %v", bin.mode)
	}
	binFile := filepath.Join(t.TempDir(), "karana")
	if err := os.WriteFile(binFile, bin.data, 0o755); err != nil {
		t.Fatal(err)
	}
	checkStatic(t, binFile, a.Goarch)
	checkManPages(t, rel)
	if a.Goarch != "amd64" {
		return
	}
	checkVersion(t, binFile, meta)
	// The shipped completions are what the shipped binary prints.
	for shell, name := range gendocs.Completions {
		out, err := exec.Command(binFile, "completion", shell).Output()
		if err != nil {
			t.Fatalf("karana completion %s: %v", shell, err)
		}
		if !bytes.Equal(out, rel["completions/"+name].data) {
			t.Errorf("completions/%s differs from `karana completion %s`", name, shell)
		}
	}
}

// checkStatic reads the ELF header: the architecture, and no interpreter
// or shared library that a host without Go's toolchain might lack.
func checkStatic(t *testing.T, file, goarch string) {
	f, err := elf.Open(file)
	if err != nil {
		t.Fatalf("%s binary: %v", goarch, err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
	if f.Machine != want || f.Class != elf.ELFCLASS64 {
		t.Errorf("%s binary is %v %v, want %v", goarch, f.Class, f.Machine, want)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s binary has a %v program header: not static", goarch, p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s binary needs %v", goarch, libs)
	}
	if _, err := exec.LookPath("file"); err == nil {
		out, _ := exec.Command("file", "-b", file).Output()
		arch := map[string]string{"amd64": "x86-64", "arm64": "ARM aarch64"}[goarch]
		if !strings.Contains(string(out), "statically linked") || !strings.Contains(string(out), arch) {
			t.Errorf("file(1) says %q, want %s and statically linked", out, arch)
		}
	}
}

func checkVersion(t *testing.T, bin string, meta metadata) {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("karana version: %v", err)
	}
	want := fmt.Sprintf("karana %s (commit %s, built ", meta.Version, meta.Commit[:7])
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("karana version printed %q, want it to start with %q", out, want)
	}
}

// checkManPages wants exactly one page per command of the tree this test
// was built with, each titled by its command.
func checkManPages(t *testing.T, rel map[string]entry) {
	ios, _, _ := iostreams.Test()
	var want, got []string
	for _, c := range gendocs.Commands(root.NewCmdRoot(&cmdutil.Factory{IOStreams: ios})) {
		want = append(want, "man/"+gendocs.PageName(c))
		page := rel["man/"+gendocs.PageName(c)].data
		title := strings.ToUpper(strings.ReplaceAll(c.CommandPath(), " ", "-"))
		if !bytes.Contains(page, []byte(`.TH "`+title+`" "1"`)) {
			t.Errorf("man/%s is not titled %s", gendocs.PageName(c), title)
		}
	}
	for name := range rel {
		if path.Dir(name) == "man" {
			got = append(got, name)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("man pages\n%v\nwant one per command\n%v", got, want)
	}
	drain := rel["man/karana-balancer-drain.1"].data
	if !bytes.Contains(drain, []byte("karana balancer drain <balancer> [flags]")) {
		t.Errorf("the balancer drain page lost its <balancer> argument:\n%s", drain)
	}
	if _, err := exec.LookPath("man"); err == nil {
		f := filepath.Join(t.TempDir(), "karana-balancer-drain.1")
		if err := os.WriteFile(f, drain, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("man", "-l", f)
		cmd.Env = append(os.Environ(), "MANPAGER=cat", "PAGER=cat", "MANWIDTH=80")
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), "karana balancer drain <balancer>") {
			t.Errorf("man -l: %v\n%s", err, out)
		}
	}
}

// repoDocs lists the repository's docs/*.md, which every archive ships.
func repoDocs(t *testing.T) []string {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs/*.md beside the test: %v", err)
	}
	var out []string
	for _, f := range files {
		out = append(out, "docs/"+filepath.Base(f))
	}
	return out
}

func checksums(t *testing.T, dir string) map[string]string {
	b, err := os.ReadFile(filepath.Join(dir, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if sum, name, ok := strings.Cut(l, "  "); ok {
			out[name] = sum
		}
	}
	return out
}
