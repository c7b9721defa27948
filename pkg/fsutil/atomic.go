// Package fsutil holds the file-system helpers every karana package shares.
package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile replaces path with data atomically and durably: the bytes go to a
// temporary file in the same folder, which is fsynced, renamed over path, and
// then the folder itself is fsynced so the rename survives a crash. A reader
// sees either the old file or the new one, never a mix.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	tmpName, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	defer os.Remove(tmpName) // no-op once renamed
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return SyncDir(filepath.Dir(path))
}

// WriteNew creates path with data like WriteFile but never replaces a file:
// when path exists it fails with an error that matches fs.ErrExist and
// leaves that file alone. The synced temporary file is hard-linked to path,
// so path appears complete or not at all.
func WriteNew(path string, data []byte, perm os.FileMode) error {
	tmpName, err := writeTemp(path, data, perm)
	if err != nil {
		return err
	}
	defer os.Remove(tmpName)
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists: %w", path, fs.ErrExist)
		}
		return fmt.Errorf("creating %s: %w", path, err)
	}
	return SyncDir(filepath.Dir(path))
}

// writeTemp writes data to a synced temporary file beside path.
func writeTemp(path string, data []byte, perm os.FileMode) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	fail := func(format string, err error) (string, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", fmt.Errorf(format, path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fail("writing %s: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail("writing %s: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fail("syncing %s: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return tmp.Name(), nil
}

// SyncDir fsyncs a folder so that renames and creations inside it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing folder %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing folder %s: %w", dir, err)
	}
	return nil
}
