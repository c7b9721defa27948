package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/karana-project/karana/pkg/fsutil"
)

// Status of a file in a render folder compared with an Output.
const (
	StatusUnchanged = "unchanged"
	StatusChanged   = "changed"
	StatusAdded     = "added"   // rendered, not yet in the folder
	StatusRemoved   = "removed" // in the folder, no longer rendered (Write deletes it)
	StatusMissing   = "missing" // a certificate that does not exist in the cert folder
)

// FileChange is one file of a render folder compared with an Output.
type FileChange struct {
	Path    string `json:"path"`
	SHA256  string `json:"sha256,omitempty"` // of the rendered bytes
	Status  string `json:"status"`
	Changed bool   `json:"changed"`
}

// owned reports whether a render-folder path belongs to karana: Write may
// replace or delete it. Anything else in the folder is left alone.
func owned(name string) bool {
	return name == OuterFile || name == InnerFile || strings.HasPrefix(name, DataDir+"/")
}

func sortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Compare lists every file of o and every stale owned file of dir, sorted
// by path, missing certificates first. The folder's files are read a few
// at a time: ten thousand certificates are ten thousand reads.
func Compare(dir string, o *Output) ([]FileChange, error) {
	var out []FileChange
	for _, m := range o.Missing {
		out = append(out, FileChange{Path: m, Status: StatusMissing, Changed: true})
	}
	names := sortedNames(o.Files)
	fcs := make([]FileChange, len(names))
	errs := make([]error, len(names))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 4*runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fcs[i], errs[i] = compareFile(dir, names[i], o.Files[names[i]])
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out = append(out, fcs...)
	stale, err := staleFiles(dir, o)
	if err != nil {
		return nil, err
	}
	for _, name := range stale {
		out = append(out, FileChange{Path: name, Status: StatusRemoved, Changed: true})
	}
	return out, nil
}

func compareFile(dir, name string, b []byte) (FileChange, error) {
	sum := sha256.Sum256(b)
	fc := FileChange{Path: name, SHA256: hex.EncodeToString(sum[:]), Status: StatusUnchanged}
	old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fc.Status = StatusAdded
	case err != nil:
		return fc, fmt.Errorf("reading the render folder: %w", err)
	case !bytes.Equal(old, b):
		fc.Status = StatusChanged
	}
	fc.Changed = fc.Status != StatusUnchanged
	return fc, nil
}

// staleFiles are owned files of dir that o does not have.
func staleFiles(dir string, o *Output) ([]string, error) {
	var stale []string
	root := filepath.Join(dir, DataDir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == root {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if name := filepath.ToSlash(rel); o.Files[name] == nil {
			stale = append(stale, name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the render folder: %w", err)
	}
	sort.Strings(stale)
	return stale, nil
}

// Write makes dir hold exactly o's files: each changed file is replaced
// atomically (certificates 0600), unchanged ones are not touched, and
// owned files o no longer has (certificates of removed tenants) are
// deleted. Data files go first and the configurations last, so a reader
// never sees a configuration naming a file that is not there yet.
func Write(dir string, o *Output) error {
	if len(o.Missing) > 0 {
		return fmt.Errorf("not writing %s: %d certificates are missing (%s)", dir, len(o.Missing), strings.Join(o.Missing, ", "))
	}
	for _, d := range []struct {
		p    string
		mode os.FileMode
	}{{dir, 0o755}, {filepath.Join(dir, DataDir), 0o755}, {filepath.Join(dir, filepath.FromSlash(CertsDir)), 0o700}} {
		if err := os.MkdirAll(d.p, d.mode); err != nil {
			return fmt.Errorf("creating %s: %w", d.p, err)
		}
	}
	var certs, data []string
	for _, name := range sortedNames(o.Files) {
		switch {
		case strings.HasPrefix(name, CertsDir+"/"):
			certs = append(certs, name)
		case name != OuterFile && name != InnerFile:
			data = append(data, name)
		}
	}
	for _, batch := range [][]string{certs, data, {InnerFile, OuterFile}} {
		if err := writeAll(dir, o, batch); err != nil {
			return err
		}
	}
	stale, err := staleFiles(dir, o)
	if err != nil {
		return err
	}
	for _, name := range stale {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(name))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing stale %s: %w", name, err)
		}
	}
	if len(stale) > 0 {
		return fsutil.SyncDir(filepath.Join(dir, filepath.FromSlash(CertsDir)))
	}
	return nil
}

// writeAll writes names in parallel: each write waits on fsync, so a few
// at once make a first render of thousands of certificates bearable.
func writeAll(dir string, o *Output, names []string) error {
	errs := make([]error, len(names))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 4*runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = writeIfChanged(dir, names[i], o.Files[names[i]])
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

func writeIfChanged(dir, name string, b []byte) error {
	p := filepath.Join(dir, filepath.FromSlash(name))
	mode := FileMode(name)
	if st, err := os.Stat(p); err == nil && st.Mode().Perm() == mode {
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, b) {
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", path.Dir(name), err)
	}
	return fsutil.WriteFile(p, b, mode)
}
