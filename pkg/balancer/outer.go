package balancer

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// ActiveTarget is a Target that can tell whether its haproxy runs.
type ActiveTarget interface {
	Active(ctx context.Context) (bool, error)
}

// ApplyOuter brings lb0 (t) to files the way Apply brings an inner
// balancer, without a drain (nothing stands in front of lb0; a reload is
// seamless): the files are staged beside the live ones and checked by
// haproxy -c in lb0, so that a refused set changes nothing (ErrRefused);
// then swapped in and reloaded. A failed reload puts the previous files
// back and reloads them. Unchanged files leave lb0 alone, but a haproxy
// that does not run is started. It says what it did ("" for nothing).
func ApplyOuter(ctx context.Context, t Target, files Files) (string, error) {
	have, err := t.Sums(ctx)
	if err != nil {
		return "", err
	}
	diff := files.Sums().Diff(have)
	if len(diff) == 0 {
		a, ok := t.(ActiveTarget)
		if !ok {
			return "", nil
		}
		running, err := a.Active(ctx)
		if err != nil || running {
			return "", err
		}
		if err := t.Reload(ctx); err != nil {
			return "", err
		}
		return "haproxy started", nil
	}
	if err := t.Prepare(ctx, files, have); err != nil {
		return "", err
	}
	if err := t.Check(ctx); err != nil {
		var he *HAProxyError
		if errors.As(err, &he) {
			return "", fmt.Errorf("%w: %w", ErrRefused, err)
		}
		return "", err
	}
	if err := t.Commit(ctx); err != nil {
		return "", errors.Join(err, t.Restore(context.WithoutCancel(ctx)))
	}
	if err := t.Reload(ctx); err != nil {
		ctx := context.WithoutCancel(ctx)
		if rerr := t.Restore(ctx); rerr != nil {
			return "", errors.Join(err, rerr)
		}
		if rerr := t.Reload(ctx); rerr != nil {
			return "", errors.Join(err, fmt.Errorf("reloading the previous configuration of %s: %w", t.Name(), rerr))
		}
		return "", fmt.Errorf("%w (the previous configuration was put back and serves)", err)
	}
	return fmt.Sprintf("%d file(s) written, haproxy reloaded", len(diff)), nil
}

// Active implements ActiveTarget: systemctl is-active.
func (n *Node) Active(ctx context.Context) (bool, error) {
	code, err := n.Host.Exec(ctx, []string{"systemctl", "is-active", "--quiet", "haproxy"}, io.Discard, io.Discard)
	if err != nil {
		return false, fmt.Errorf("checking haproxy on %s: %w", n.NodeName, err)
	}
	return code == 0, nil
}
