package balancer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/balancer/balancerfake"
)

func outerFiles(cfg string) balancer.Files {
	return balancer.Files{"/etc/haproxy/haproxy.cfg": []byte(cfg)}
}

// outerAt is lb0 serving cfg, its log emptied.
func outerAt(t *testing.T, cfg string) (*balancerfake.Balancers, balancer.Target) {
	t.Helper()
	b := balancerfake.New("lb0", "lb1", "lb2")
	lb0 := b.Target("lb0")
	if _, err := balancer.ApplyOuter(context.Background(), lb0, outerFiles(cfg)); err != nil {
		t.Fatal(err)
	}
	b.Log = nil
	return b, lb0
}

func TestApplyOuterStagesChecksSwapsAndReloads(t *testing.T) {
	b := balancerfake.New("lb0", "lb1", "lb2")
	lb0 := b.Target("lb0")
	ctx := context.Background()
	did, err := balancer.ApplyOuter(ctx, lb0, outerFiles("v1"))
	if err != nil || did == "" {
		t.Fatalf("first apply: %q %v", did, err)
	}
	if got := strings.Join(b.Logged(), "|"); got != "lb0: stage|lb0: haproxy -c|lb0: commit|lb0: reload" {
		t.Errorf("steps %s", got)
	}
	if string(b.OuterNode.Files["/etc/haproxy/haproxy.cfg"]) != "v1" {
		t.Error("v1 not live")
	}

	b.Log = nil
	if did, err := balancer.ApplyOuter(ctx, lb0, outerFiles("v1")); did != "" || err != nil || len(b.Logged()) > 0 {
		t.Errorf("unchanged: %q %v %v", did, err, b.Logged())
	}
	b.OuterNode.Running = false
	if did, err := balancer.ApplyOuter(ctx, lb0, outerFiles("v1")); did != "haproxy started" || err != nil || !b.OuterNode.Running {
		t.Errorf("unchanged, stopped: %q %v", did, err)
	}
}

func TestApplyOuterRefusedChangesNothing(t *testing.T) {
	b, lb0 := outerAt(t, "v1")
	ctx := context.Background()
	b.OuterNode.CheckErr = &balancer.HAProxyError{Balancer: "lb0", Doing: "checking", Output: "[ALERT] unknown keyword"}
	_, err := balancer.ApplyOuter(ctx, lb0, outerFiles("broken"))
	if !errors.Is(err, balancer.ErrRefused) || !strings.Contains(err.Error(), "unknown keyword") {
		t.Fatalf("error %v", err)
	}
	if string(b.OuterNode.Files["/etc/haproxy/haproxy.cfg"]) != "v1" || strings.Contains(strings.Join(b.Logged(), "|"), "commit") {
		t.Errorf("a refused set changed lb0: %v", b.Logged())
	}
}

func TestApplyOuterFailedReloadPutsThePreviousBack(t *testing.T) {
	b, lb0 := outerAt(t, "v1")
	ctx := context.Background()
	b.OuterNode.ReloadErr, b.OuterNode.FailReload = errors.New("cannot bind :443"), "v2"
	_, err := balancer.ApplyOuter(ctx, lb0, outerFiles("v2"))
	if err == nil || !strings.Contains(err.Error(), "cannot bind") || !strings.Contains(err.Error(), "put back") {
		t.Fatalf("error %v", err)
	}
	if string(b.OuterNode.Files["/etc/haproxy/haproxy.cfg"]) != "v1" {
		t.Errorf("live %q after the failed reload", b.OuterNode.Files["/etc/haproxy/haproxy.cfg"])
	}
	if got := strings.Join(b.Logged(), "|"); got != "lb0: stage|lb0: haproxy -c|lb0: commit|lb0: reload|lb0: restore|lb0: reload" {
		t.Errorf("steps %s", got)
	}
}
