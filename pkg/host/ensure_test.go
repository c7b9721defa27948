package host

import (
	"context"
	"os"
	"testing"

	"github.com/karana-project/karana/pkg/lxd"
)

type recorder struct{ steps []string }

func (r *recorder) Start(format string, args ...any) { r.steps = append(r.steps, format) }
func (r *recorder) End(string)                       {}
func (r *recorder) Fail(res string)                  { r.steps = append(r.steps, "FAIL "+res) }

// On a host whose LXD already answers, EnsureLXD may only raise kernel
// limits, and a second run must change nothing.
func TestEnsureLXDOnRunningHost(t *testing.T) {
	if _, err := os.Stat(lxd.DefaultSocket()); err != nil {
		t.Skipf("no LXD socket at %s", lxd.DefaultSocket())
	}
	if !Answering(context.Background(), lxd.DefaultSocket()) {
		t.Skip("LXD socket exists but does not answer")
	}
	var r recorder
	if _, err := EnsureLXD(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	changed, err := EnsureLXD(context.Background(), &r)
	if err != nil || changed {
		t.Fatalf("EnsureLXD = %v, %v; want unchanged the second time (steps %v)", changed, err, r.steps)
	}
}

func TestAnsweringFalseWithoutSocket(t *testing.T) {
	if Answering(context.Background(), t.TempDir()+"/none.socket") {
		t.Error("a missing socket answers")
	}
}
