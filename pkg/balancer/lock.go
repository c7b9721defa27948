package balancer

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/karana-project/karana/pkg/inventory"
)

// lockRoll takes the host-wide lock of inv's rolling reloads, so that two
// runs (a reload and a `tenant add`, say) never drain one balancer each at
// the same time. The lock goes with the process.
func lockRoll(inv *inventory.Inventory) (unlock func(), err error) {
	dir := HostSocketDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if !inv.LXD.Remote() {
			return nil, fmt.Errorf("creating %s: %w", dir, err)
		}
		// Driving a remote daemon needs no root here: lock in a folder
		// of this user's instead.
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("karana-%d", os.Getuid()))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	p := filepath.Join(dir, inv.LXD.Project+".reload.lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the reload lock %s: %w", p, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another rolling reload of project %s is running (lock %s held); wait for it and run again", inv.LXD.Project, p)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
