package history

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartRecoversAfterAKilledGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	os.WriteFile(filepath.Join(dir, "table_db.json"), []byte("{}\n"), 0o600)
	g, err := Open(context.Background(), dir, "", []string{"table_db.json"}, log)
	if err != nil {
		t.Fatal(err)
	}
	g.Close(context.Background())
	// a server killed while git ran: a stale index lock, and a dump git lacks
	os.WriteFile(filepath.Join(dir, ".git", "index.lock"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "table_db.json"), []byte(`{"users": {}}`+"\n"), 0o600)
	g, err = Open(context.Background(), dir, "", []string{"table_db.json"}, log)
	if err != nil {
		t.Fatalf("start after a killed git: %v", err)
	}
	g.Commit("a change", []byte(`{"users": {"x": 1}}`+"\n"))
	g.Flush()
	g.Close(context.Background())
	out, _ := exec.Command("git", "-C", dir, "log", "--format=%s").Output()
	if got := strings.Fields(strings.ReplaceAll(string(out), " ", "_")); len(got) != 3 || got[0] != "a_change" {
		t.Errorf("history: %q", out)
	}
	head, _ := exec.Command("git", "-C", dir, "show", "HEAD:table_db.json").Output()
	if string(head) != `{"users": {"x": 1}}`+"\n" {
		t.Errorf("HEAD has %q, want the dump handed to Commit", head)
	}
}
