package server_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/api"
	"github.com/karana-project/karana/pkg/api/store"
)

func rebuild(t *testing.T, e *env, o api.Options) (*api.App, error) {
	t.Helper()
	app, err := api.Build(context.Background(), e.cfg, o)
	if err == nil {
		t.Cleanup(func() { app.Close(context.Background()) })
	}
	return app, err
}

// TestNeverStartEmptyByMistake: a lost table_db.json next to its history
// stops the start with the way back; starting empty needs the flag.
func TestNeverStartEmptyByMistake(t *testing.T) {
	cfg := testConfig(t)
	cfg.Git.Disabled = false
	e := newEnvWith(t, cfg, &fakeSyncer{})
	e.createUser("alice", "client")
	e.app.FlushHistory()
	e.app.Close(context.Background())
	dump := filepath.Join(cfg.DataDir, store.TableFile)
	if err := os.Remove(dump); err != nil {
		t.Fatal(err)
	}
	_, err := rebuild(t, e, api.Options{})
	if !errors.Is(err, store.ErrDumpMissing) || !strings.Contains(err.Error(), "git -C "+cfg.DataDir+" checkout HEAD -- table_db.json") ||
		!strings.Contains(err.Error(), "--start-empty") {
		t.Fatalf("start without the dump: %v; want ErrDumpMissing saying how to restore or start empty", err)
	}
	app, err := rebuild(t, e, api.Options{StartEmpty: true})
	if err != nil || app.Store.Len("users") != 0 {
		t.Fatalf("--start-empty: %v, %d users", err, app.Store.Len("users"))
	}
	app.Close(context.Background())
	if _, err := rebuild(t, e, api.Options{}); err != nil {
		t.Errorf("the start after --start-empty: %v (an empty dump must have been written)", err)
	}
}

func TestFreshFolderStartsTwice(t *testing.T) {
	e := newEnv(t)
	e.app.Close(context.Background())
	if _, err := rebuild(t, e, api.Options{}); err != nil {
		t.Errorf("second start of a fresh folder: %v", err)
	}
}

func TestNullTablesAndDanglingReferencesAreRefused(t *testing.T) {
	for name, c := range map[string]struct{ dump, want string }{
		"null dump":  {`null`, "is null"},
		"null table": {`{"users": null}`, `resource "users" is null`},
		"dangling owner": {`{"users":{},"karanas":{"5c2b8a36-2e0b-4c47-9a49-0f3c4f0e6c11":{"uuid":"5c2b8a36-2e0b-4c47-9a49-0f3c4f0e6c11",` +
			`"name":"k","configuration":{},"owner":"0d3aac6e-f9e7-4480-aa71-39fa4a01c070","password_influx":"AAAAAAAAAAAAAAAA","created_at":"2026-01-01T00:00:00+00:00"}}}`,
			"karanas 5c2b8a36-2e0b-4c47-9a49-0f3c4f0e6c11: owner: names users 0d3aac6e-f9e7-4480-aa71-39fa4a01c070, which does not exist"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			if err := os.WriteFile(filepath.Join(cfg.DataDir, store.TableFile), []byte(c.dump), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := api.Build(context.Background(), cfg, api.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("start on %s: %v; want an error containing %q", c.dump, err, c.want)
			}
		})
	}
}

// TestDataFolderIsPrivate: the folder and everything in it, git objects
// included, are the API user's only; a folder with looser modes is
// tightened at start.
func TestDataFolderIsPrivate(t *testing.T) {
	cfg := testConfig(t)
	cfg.Git.Disabled = false
	if err := os.Chmod(cfg.DataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, cfg, &fakeSyncer{})
	for i := 0; i < 3; i++ {
		e.createUser("user"+string(rune('a'+i)), "client")
		e.app.FlushHistory()
	}
	n := 0
	filepath.WalkDir(cfg.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		info, _ := d.Info()
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: readable by others", path, info.Mode().Perm())
		}
		if strings.Contains(path, ".git/objects/") {
			n++
		}
		return nil
	})
	if n == 0 {
		t.Fatal("no git objects were written: the test checks nothing")
	}
}
