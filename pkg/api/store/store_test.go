package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/karana-project/karana/pkg/api/apierr"
	"github.com/karana-project/karana/pkg/api/history"
	"github.com/karana-project/karana/pkg/api/resource"
)

func defs(t *testing.T) []*resource.Resource {
	u, k := resource.Users(), resource.Karanas()
	for _, r := range []*resource.Resource{&u, &k} {
		if err := r.Init(8); err != nil {
			t.Fatal(err)
		}
	}
	return []*resource.Resource{&u, &k}
}

func user(id, email string) map[string]any {
	return map[string]any{"uuid": id, "name": "N", "email": email, "role": "client", "password_influx": "x",
		"created_at": "2017-03-02T15:26:11+00:00", "karanas": []any{},
		"credentials": map[string]any{"login": email, "password": "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"}}
}

func id(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, _, err := Open(Options{Dir: dir, Resources: defs(t)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestApplyIsDurableAndReloads(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	for i := 0; i < 5; i++ {
		if err := s.Apply("create", Change{Res: "users", ID: id(i), Rec: user(id(i), fmt.Sprintf("u%d@x.org", i))}); err != nil {
			t.Fatal(err)
		}
	}
	err := s.Apply("dup", Change{Res: "users", ID: id(9), Rec: user(id(9), "u1@x.org")})
	if e, ok := apierr.As(err); !ok || e.Status != 409 || e.Field != "email" {
		t.Errorf("duplicate email: %v", err)
	}
	cur, _ := s.Get("users", id(2))
	s.Apply("delete", Change{Res: "users", ID: id(2), Expect: cur})
	if err := s.Apply("stale", Change{Res: "users", ID: id(2), Rec: user(id(2), "z@x.org"), Expect: cur}); !errors.Is(err, ErrStale) {
		t.Errorf("a change from a deleted record: %v", err)
	}
	r := open(t, dir)
	if r.Len("users") != 4 {
		t.Errorf("reloaded %d users, want 4", r.Len("users"))
	}
	if _, ok := r.Lookup("users", "credentials.login", "u3@x.org"); !ok {
		t.Error("the login index was not rebuilt")
	}
	if _, ok := r.Get("users", id(2)); ok {
		t.Error("the deleted user came back")
	}
	if r.Synced("users", id(1)) {
		t.Error("records are out of sync after a start")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".table_db.json.tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestConcurrentWritesAndGitHistory(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	s := open(t, dir)
	log := slog.New(slog.DiscardHandler)
	g, err := history.Open(context.Background(), dir, "", []string{TableFile, StateFile}, log)
	if err != nil {
		t.Fatal(err)
	}
	s.SetCommitter(g)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				n := w*100 + i
				if err := s.Apply(fmt.Sprintf("create %d", n), Change{Res: "users", ID: id(n), Rec: user(id(n), fmt.Sprintf("u%d@x.org", n))}); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
	g.Flush()
	head, err := exec.Command("git", "-C", dir, "show", "HEAD:"+TableFile).Output()
	if err != nil {
		t.Fatal(err)
	}
	disk, _ := os.ReadFile(filepath.Join(dir, TableFile))
	if string(head) != string(disk) {
		t.Error("git's HEAD differs from the dump after a flush")
	}
	msgs, _ := exec.Command("git", "-C", dir, "log", "--format=%B").Output()
	for n := range []int{0, 1, 2, 3} {
		if !strings.Contains(string(msgs), fmt.Sprintf("create %d\n", n*100+9)) {
			t.Errorf("commit messages lack create %d", n*100+9)
		}
	}
	if out, err := exec.Command("git", "-C", dir, "fsck", "--full").CombinedOutput(); err != nil {
		t.Errorf("git fsck: %v %s", err, out)
	}
	if err := g.Close(context.Background()); err != nil {
		t.Error(err)
	}
	if r := open(t, dir); r.Len("users") != 40 {
		t.Errorf("reloaded %d users, want 40", r.Len("users"))
	}
}

func TestCutOf(t *testing.T) {
	tests := []struct {
		raw, pub string
		ok       bool
	}{
		{`{"a":{"login":"x","password":"$6$abc"},"b":1}`, `{"a":{"login":"x"},"b":1}`, true},
		{`{"a":1}`, `{"a":1}`, true},
		{`{"a":1,"p":"x","b":2,"q":"y"}`, `{"a":1,"b":2}`, false},
	}
	for _, tt := range tests {
		c, ok := cutOf([]byte(tt.raw), []byte(tt.pub))
		if ok != tt.ok {
			t.Errorf("%s: ok=%v", tt.raw, ok)
			continue
		}
		if ok {
			e := &Entry{Raw: []byte(tt.raw), cut: c}
			if got := string(e.AppendPublic(nil)); got != tt.pub || e.PublicLen() != len(tt.pub) {
				t.Errorf("got %s, want %s", got, tt.pub)
			}
		}
	}
}
