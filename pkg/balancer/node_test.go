package balancer

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/balancer/balancertest"
	"github.com/karana-project/karana/pkg/render"
)

func TestNodeStageCommitRestore(t *testing.T) {
	bin := balancertest.HAProxy()
	if bin == "" {
		t.Skip("haproxy is not installed")
	}
	ctx := context.Background()
	dir := t.TempDir()
	n := &Node{NodeName: "lb1", Host: LocalHost{}, Dir: dir, Haproxy: bin, ReloadCmd: []string{"true"}}
	cfg := func(m string) []byte {
		return []byte("global\n    default-path config\ndefaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n" +
			"frontend f\n    bind 127.0.0.1:18099\n    http-request set-var(txn.b) req.hdr(host),map(" + m + ")\n")
	}
	v1 := Files{filepath.Join(dir, "haproxy.cfg"): cfg("karana/hosts.map"), filepath.Join(dir, "karana/hosts.map"): []byte("a.test be_a\n")}
	v2 := Files{filepath.Join(dir, "haproxy.cfg"): cfg("karana/v2.map"), filepath.Join(dir, "karana/v2.map"): []byte("b.test be_b\n")}

	for _, v := range []Files{v1, v2} {
		if err := n.Stage(ctx, v); err != nil {
			t.Fatal(err)
		}
		if err := n.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		cur, err := n.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := cur.Diff(v); len(d) != 0 {
			t.Fatalf("after commit, differs in %v", d)
		}
	}
	if err := n.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	cur, _ := n.Current(ctx)
	if d := cur.Diff(v1); len(d) != 0 {
		t.Errorf("after restore, differs from the previous files in %v", d)
	}

	// A staged config whose map is missing is refused with haproxy's words,
	// and the live files stay as they were.
	broken := Files{filepath.Join(dir, "haproxy.cfg"): cfg("karana/missing.map")}
	err := n.Stage(ctx, broken)
	var he *HAProxyError
	if !errors.As(err, &he) || !strings.Contains(he.Output, "missing.map") {
		t.Fatalf("broken stage: %v, want haproxy's complaint about missing.map", err)
	}
	cur, _ = n.Current(ctx)
	if d := cur.Diff(v1); len(d) != 0 {
		t.Errorf("a refused stage changed the live files: %v", d)
	}
	if err := n.Stage(ctx, Files{"/elsewhere/haproxy.cfg": nil}); err == nil {
		t.Error("a file outside the folder was accepted")
	}
}

// The Node's layout must be render's: haproxy.cfg and the karana/ folder.
func TestNodeLayoutIsRenders(t *testing.T) {
	if render.ConfigPath != filepath.Join(render.ConfigDir, cfgName) || render.DataDir != dataName {
		t.Errorf("render writes %s and %s/, the node manages %s and %s/", render.ConfigPath, render.DataDir, cfgName, dataName)
	}
}

// A Commit with nothing staged fails, and a Restore after it must not
// bring back the generation before the current one.
func TestNodeRestoreAfterFailedCommit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	n := &Node{NodeName: "lb1", Host: LocalHost{}, Dir: dir, Haproxy: "true"}
	cfg := filepath.Join(dir, "haproxy.cfg")
	for _, gen := range []string{"one", "two"} {
		if err := n.Stage(ctx, Files{cfg: []byte(gen)}); err != nil {
			t.Fatal(err)
		}
		if err := n.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.Commit(ctx); err == nil {
		t.Fatal("a commit with nothing staged succeeded")
	}
	_ = n.Restore(ctx)
	cur, err := n.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(cur[cfg]) != "two" {
		t.Errorf("live config %q after a failed commit and restore, want %q", cur[cfg], "two")
	}
}
