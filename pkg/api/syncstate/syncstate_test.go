package syncstate_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/karana-project/karana/pkg/api/syncstate"
)

// TestKeptAcrossRestarts: bindings and pending removals survive a reopen,
// the file is private, and a user's binding moves into its removal.
func TestKeptAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	s, err := syncstate.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetGrafanaUserID("u1", 7); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGrafanaUserID("u2", 9); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRemoval(syncstate.Removal{Resource: "users", ID: "u2", Login: "bob"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRemoval(syncstate.Removal{Resource: "karanas", ID: "k1"}); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, syncstate.File))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v, want 0600", info, err)
	}
	s, err = syncstate.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.GrafanaUserID("u1") != 7 || s.GrafanaUserID("u2") != 0 {
		t.Errorf("bindings after reopen: u1=%d u2=%d, want 7 and 0 (moved into the removal)", s.GrafanaUserID("u1"), s.GrafanaUserID("u2"))
	}
	rs := s.Removals()
	if len(rs) != 2 || rs[0].ID != "k1" || rs[1].ID != "u2" || rs[1].GrafanaUserID != 9 || !s.Pending("users", "u2") {
		t.Fatalf("removals after reopen: %+v, want k1 then u2 bound to 9", rs)
	}
	if err := s.Done(rs[0]); err != nil {
		t.Fatal(err)
	}
	s, _ = syncstate.Open(dir)
	if len(s.Removals()) != 1 {
		t.Errorf("a done removal came back: %+v", s.Removals())
	}
	if err := os.WriteFile(filepath.Join(dir, syncstate.File), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := syncstate.Open(dir); err == nil {
		t.Error("a corrupt state was accepted")
	}
}
