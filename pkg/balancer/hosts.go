package balancer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/karana-project/karana/pkg/fsutil"
	"github.com/karana-project/karana/pkg/lxd"
)

// LXDHost is a Host inside an LXD container.
type LXDHost struct {
	Client    lxd.Client
	Container string
}

// Exec implements Host.
func (h LXDHost) Exec(ctx context.Context, argv []string, stdout, stderr io.Writer) (int, error) {
	return h.Client.Exec(ctx, h.Container, argv, nil, stdout, stderr)
}

// Push implements Host.
func (h LXDHost) Push(ctx context.Context, path string, data []byte, mode os.FileMode) error {
	return h.Client.PushFile(ctx, h.Container, path, data, mode)
}

// Pull implements Host.
func (h LXDHost) Pull(ctx context.Context, path string) ([]byte, error) {
	return h.Client.PullFile(ctx, h.Container, path)
}

// LocalHost is a Host on this machine: the local-process balancers of
// tests and of a balancer run without LXD.
type LocalHost struct{}

// Exec implements Host.
func (LocalHost) Exec(ctx context.Context, argv []string, stdout, stderr io.Writer) (int, error) {
	if len(argv) == 0 {
		return -1, errors.New("exec: no command")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return -1, fmt.Errorf("running %s: %w", argv[0], err)
	}
	return 0, nil
}

// Push implements Host, atomically, creating missing folders.
func (LocalHost) Push(_ context.Context, path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return fsutil.WriteFile(path, data, mode)
}

// Pull implements Host.
func (LocalHost) Pull(_ context.Context, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", path, lxd.ErrNotFound)
	}
	return b, err
}
