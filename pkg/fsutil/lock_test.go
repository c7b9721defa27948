package fsutil

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockExcludesAndNamesTheHolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "p.lock")
	a, err := TryLock(p, "karana up")
	if err != nil {
		t.Fatal(err)
	}
	_, err = TryLock(p, "karana heal")
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "karana up") {
		t.Fatalf("second TryLock = %v, want ErrLocked naming karana up", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var told string
	if _, err := WaitLock(ctx, p, "karana backup", func(h string) { told = h }); err == nil || !strings.Contains(told, "karana up") {
		t.Fatalf("WaitLock while held = %v (told %q), want a timeout after telling the holder", err, told)
	}
	done := make(chan error, 1)
	go func() {
		l, err := WaitLock(context.Background(), p, "karana backup", nil)
		if err == nil {
			err = l.Unlock()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("WaitLock did not get the lock after it was released")
	}
}
