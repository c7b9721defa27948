package status

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
)

// deadRuntime is a runtime socket nobody answers.
type deadRuntime struct{}

func (deadRuntime) Servers(context.Context) ([]balancer.Server, error) {
	return nil, errors.New("dial unix /run/karana/x.sock: connect: no such file or directory")
}
func (deadRuntime) SetState(context.Context, string, string, string) error { return nil }
func (deadRuntime) Command(context.Context, string) (string, error) {
	return "", errors.New("dial unix /run/karana/x.sock: connect: no such file or directory")
}
func (deadRuntime) Info(context.Context) (balancer.Info, error) {
	return balancer.Info{}, errors.New("dial unix /run/karana/x.sock: connect: no such file or directory")
}

func TestStatusLB0Unreachable(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "inv.yaml")
	if err := os.WriteFile(p, []byte("lxd:\n  network:\n    ipv4: 10.0.14.1/24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, output := range []string{"text", "json"} {
		ios, out, _ := iostreams.Test()
		opts := &Options{IO: ios, Output: output,
			Inventory: func() (*inventory.Inventory, error) { return inventory.Load(p) },
			LXD: func(context.Context, *inventory.Inventory) (lxd.Client, error) {
				return nil, errors.New("no LXD here")
			},
			Runtime: func(string) balancer.Runtime { return deadRuntime{} },
		}
		err := statusRun(context.Background(), opts)
		if cmdutil.ExitCode(err) != cmdutil.ExitUnavailable || !strings.Contains(err.Error(), "lb0") {
			t.Errorf("%s: error %v (exit %d), want exit 5 naming lb0", output, err, cmdutil.ExitCode(err))
		}
		if !strings.Contains(out.String(), "unreachable") && !strings.Contains(out.String(), `"reachable": false`) {
			t.Errorf("%s: output does not say lb0 is unreachable:\n%s", output, out)
		}
		if !strings.Contains(out.String(), "lb1") || !strings.Contains(out.String(), "lb2") {
			t.Errorf("%s: output does not list both inner balancers:\n%s", output, out)
		}
	}
}
