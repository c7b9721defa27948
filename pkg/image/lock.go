package image

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/karana-project/karana/pkg/fsutil"
)

// LockName is the file beside the inventory that records built images.
const LockName = "images.lock.yaml"

// Locked is one built image as recorded in the lock file.
type Locked struct {
	Role        string    `yaml:"role" json:"role"`
	Fingerprint string    `yaml:"fingerprint" json:"fingerprint"`
	Recipe      string    `yaml:"recipe" json:"recipe"`
	Built       time.Time `yaml:"built" json:"built"`
}

// Lock is the lock file: alias -> image.
type Lock struct {
	Images map[string]Locked `yaml:"images"`
}

const lockHeader = "# Written by `karana image build`: the LXD image each alias was built into.\n# Do not edit; delete an entry (or use --force) to rebuild.\n"

// LockPath is the lock file beside the inventory at invPath.
func LockPath(invPath string) string { return filepath.Join(filepath.Dir(invPath), LockName) }

// ReadLock reads the lock file; a missing file is an empty lock.
func ReadLock(path string) (*Lock, error) {
	l := &Lock{Images: map[string]Locked{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(b, l); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if l.Images == nil {
		l.Images = map[string]Locked{}
	}
	return l, nil
}

// Record sets alias's entry in the lock file at path, atomically.
func Record(path, alias string, e Locked) error {
	l, err := ReadLock(path)
	if err != nil {
		return err
	}
	if old, ok := l.Images[alias]; ok && old.Fingerprint == e.Fingerprint && old.Recipe == e.Recipe {
		return nil
	}
	l.Images[alias] = e
	var buf bytes.Buffer
	buf.WriteString(lockHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(l); err != nil {
		return err
	}
	if err := fsutil.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
