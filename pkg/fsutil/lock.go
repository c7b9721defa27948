package fsutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrLocked is returned by TryLock when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// Lock is an exclusive advisory lock (flock) on a file. The kernel drops
// it when the process dies, so a killed command never leaves it held.
type Lock struct{ f *os.File }

// TryLock takes the lock on path without waiting. When another process
// holds it, the error wraps ErrLocked and names the holder as it wrote
// itself into the file (pid and command). holder is what this process
// writes there.
func TryLock(path, holder string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is held by %s: %w", path, Holder(path), ErrLocked)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	// Best effort: the holder is only shown in messages.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d: %s\n", os.Getpid(), holder)), 0)
	return &Lock{f: f}, nil
}

// WaitLock takes the lock on path, waiting while another process holds
// it; waiting is called once, with the holder, when it has to wait.
func WaitLock(ctx context.Context, path, holder string, waiting func(holder string)) (*Lock, error) {
	told := false
	for {
		l, err := TryLock(path, holder)
		if !errors.Is(err, ErrLocked) {
			return l, err
		}
		if !told && waiting != nil {
			waiting(Holder(path))
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w", path, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Holder is what the process holding path wrote into it.
func Holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return "another process"
	}
	return strings.TrimSpace(string(b))
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
