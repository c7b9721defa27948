// Package history commits the API's dump files to a git repository in the
// data folder, after each durable write, and optionally pushes them.
//
// Commits run in one goroutine, in order, after the write they record has
// been fsynced: a request never waits for git (a commit of a 4 MB dump takes
// ~80 ms here). Changes that arrive while a commit runs are committed
// together, their messages listed in the commit body. The dump stays the
// source of truth: at start, whatever git lacks is committed.
package history

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MinInterval is the shortest time between two commits: under a stream of
// writes each commit records many changes, so git (which hashes and
// compresses the whole dump) takes a bounded share of the 2 cores.
const MinInterval = time.Second

// Git records the dump files' changes in a git repository.
type Git struct {
	dir, remote string
	files       []string
	log         *slog.Logger

	mu      sync.Mutex
	cond    *sync.Cond
	pending []string
	dump    []byte // the newest content of files[0], nil when git has it
	release func([]byte)
	observe func(time.Duration, error)
	queued  uint64 // messages received
	done    uint64 // messages committed (or given up on)
	closed  bool
	exited  chan struct{}
}

// Open prepares the repository in dir (git init when missing, stale lock
// files of a killed git removed: the caller holds the data folder's lock),
// commits what the dump holds and git lacks, and starts the committer.
func Open(ctx context.Context, dir, remote string, files []string, log *slog.Logger) (*Git, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, fmt.Errorf("git history of %s: git is not installed (apt-get install git, or set git.disabled: true)", dir)
	}
	g := &Git{dir: dir, remote: remote, files: files, log: log, exited: make(chan struct{})}
	g.cond = sync.NewCond(&g.mu)
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		if out, err := g.git(ctx, nil, "init", "-q", "-b", "main"); err != nil {
			return nil, fmt.Errorf("git init in %s: %v: %s", dir, err, out)
		}
		if out, err := g.git(ctx, nil, "config", "core.sharedRepository", "0600"); err != nil {
			return nil, fmt.Errorf("git config in %s: %v: %s", dir, err, out)
		}
	}
	g.removeStaleLocks()
	// the server's lock and the dump's spare are not history
	exclude := filepath.Join(dir, ".git", "info", "exclude")
	if b, _ := os.ReadFile(exclude); !bytes.Contains(b, []byte("/.lock\n")) {
		os.MkdirAll(filepath.Dir(exclude), 0o700)
		os.WriteFile(exclude, append(b, "/.lock\n/.table_db.json.*\n"...), 0o600)
	}
	if err := g.commit(ctx, []string{"record the dump found at start"}, nil); err != nil {
		return nil, err
	}
	go g.run()
	return g, nil
}

// Commit queues msg and dump, the new content of files[0]; the change is
// already on disk. Only the newest dump is kept: commits coalesce.
func (g *Git) Commit(msg string, dump []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	g.pending = append(g.pending, msg)
	if g.dump != nil && g.release != nil {
		g.release(g.dump) // superseded: the newer dump is committed instead
	}
	g.dump = dump
	g.queued++
	g.cond.Broadcast()
}

// SetObserver sets f to be told of every commit's time and error.
func (g *Git) SetObserver(f func(time.Duration, error)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.observe = f
}

// SetRelease sets where dumps go once committed (or superseded), for reuse.
func (g *Git) SetRelease(f func([]byte)) {
	g.mu.Lock()
	g.release = f
	g.mu.Unlock()
}

// Flush waits until every change queued so far is committed.
func (g *Git) Flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	target := g.queued
	for g.done < target && !g.closedAndIdle() {
		g.cond.Wait()
	}
}

func (g *Git) closedAndIdle() bool { return g.closed && len(g.pending) == 0 && g.done == g.queued }

// Close commits what is queued and stops the committer, or gives up when
// ctx ends (the dump is committed at the next start).
func (g *Git) Close(ctx context.Context) error {
	g.mu.Lock()
	g.closed = true
	g.cond.Broadcast()
	g.mu.Unlock()
	select {
	case <-g.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("git history: %d changes left for the next start: %w", g.queued-g.done, ctx.Err())
	}
}

func (g *Git) run() {
	// git runs with Pdeathsig, which follows the thread that started it.
	runtime.LockOSThread()
	niceThread(g.log)
	defer close(g.exited)
	for {
		g.mu.Lock()
		for len(g.pending) == 0 && !g.closed {
			g.cond.Wait()
		}
		msgs, dump, observe := g.pending, g.dump, g.observe
		g.pending, g.dump = nil, nil
		stop := g.closed && len(msgs) == 0
		g.mu.Unlock()
		if stop {
			return
		}
		start := time.Now()
		err := g.commit(context.Background(), msgs, dump)
		if observe != nil {
			observe(time.Since(start), err)
		}
		if err != nil {
			g.log.Error("git commit failed; the dump on disk is current and will be committed later", "err", err)
		}
		g.mu.Lock()
		if dump != nil && g.release != nil {
			g.release(dump)
		}
		g.done += uint64(len(msgs))
		g.cond.Broadcast()
		closed := g.closed
		g.mu.Unlock()
		if wait := MinInterval - time.Since(start); wait > 0 && !closed {
			time.Sleep(wait) // changes meanwhile are committed together
		}
	}
}

// commit records the files; dump, when given, is files[0]'s content, which
// then is not read from disk.
func (g *Git) commit(ctx context.Context, msgs []string, dump []byte) error {
	files := g.files
	if dump != nil {
		if err := g.stage(ctx, files[0], dump); err != nil {
			return err
		}
		files = files[1:]
	}
	var present []string
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(g.dir, f)); err == nil {
			present = append(present, f)
		}
	}
	if len(present) > 0 {
		if out, err := g.git(ctx, nil, append([]string{"add", "--"}, present...)...); err != nil {
			return fmt.Errorf("git add in %s: %v: %s", g.dir, err, out)
		}
	}
	if _, err := g.git(ctx, nil, "diff", "--cached", "--quiet"); err == nil {
		return nil // nothing changed
	}
	args := []string{"commit", "-q", "--no-verify", "-m", subject(msgs)}
	if len(msgs) > 1 {
		args = append(args, "-m", strings.Join(msgs, "\n"))
	}
	if out, err := g.git(ctx, nil, args...); err != nil {
		return fmt.Errorf("git commit in %s: %v: %s", g.dir, err, out)
	}
	if g.remote != "" {
		if out, err := g.git(ctx, nil, "push", "-q", g.remote, "HEAD"); err != nil {
			g.log.Warn("git push failed; will retry with the next change", "remote", g.remote, "err", err, "output", string(out))
		}
	}
	return nil
}

func subject(msgs []string) string {
	if len(msgs) == 1 {
		return msgs[0]
	}
	return fmt.Sprintf("%d changes", len(msgs))
}

// stage writes content as a blob and puts it in the index as name.
func (g *Git) stage(ctx context.Context, name string, content []byte) error {
	sha, err := g.git(ctx, content, "hash-object", "-w", "--stdin")
	if err != nil {
		return fmt.Errorf("git hash-object in %s: %v: %s", g.dir, err, sha)
	}
	if out, err := g.git(ctx, nil, "update-index", "--add", "--cacheinfo", "100644,"+string(sha)+","+name); err != nil {
		return fmt.Errorf("git update-index in %s: %v: %s", g.dir, err, out)
	}
	return nil
}

func (g *Git) git(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	// core.sharedRepository=0600: git makes what it writes readable by
	// this user only (the history holds password hashes).
	base := []string{"-c", "core.looseCompression=1", "-c", "commit.gpgSign=false", "-c", "core.hooksPath=/dev/null",
		"-c", "core.sharedRepository=0600"}
	cmd := exec.CommandContext(ctx, "git", append(base, args...)...)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=karana-api", "GIT_AUTHOR_EMAIL=karana-api@localhost",
		"GIT_COMMITTER_NAME=karana-api", "GIT_COMMITTER_EMAIL=karana-api@localhost", "GIT_TERMINAL_PROMPT=0")
	// a git left behind by a killed server would hold the index lock
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return bytes.TrimSpace(append(out.Bytes(), errOut.Bytes()...)), err
	}
	return bytes.TrimSpace(out.Bytes()), nil
}

// Nice is the scheduling niceness of the committer's git processes.
// Compressing a 4 MB dump costs ~80 ms of CPU; niced, git uses the cores
// only when requests (and their password hashes) leave them idle.
const Nice = 19

// niceThread lowers the priority of the calling (locked) thread; on Linux
// niceness is per thread and the processes it starts inherit it.
func niceThread(log *slog.Logger) {
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), Nice); err != nil {
		log.Warn("git history: cannot lower the committer's priority", "err", err)
	}
}

func (g *Git) removeStaleLocks() {
	locks, _ := filepath.Glob(filepath.Join(g.dir, ".git", "*.lock"))
	refLocks, _ := filepath.Glob(filepath.Join(g.dir, ".git", "refs", "heads", "*.lock"))
	for _, l := range append(locks, refLocks...) {
		if err := os.Remove(l); err == nil {
			g.log.Warn("removed a lock file left by an interrupted git", "file", l)
		}
	}
}
