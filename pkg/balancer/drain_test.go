package balancer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/inventory"
)

func testInventory() *inventory.Inventory {
	inv := &inventory.Inventory{Path: "inv.yaml"}
	inv.LXD.Project = "karana"
	inv.Balancers.Outer.Name = "lb0"
	inv.Balancers.Inner = []string{"lb1", "lb2"}
	return inv
}

func TestDrainAndReady(t *testing.T) {
	var log []string
	rt := newRecorder(&log, []string{"be_http", "be_https"}, "lb1", "lb2")
	opts := StateOptions{Inventory: testInventory(), Runtime: func(string) Runtime { return rt }, Name: "lb1"}
	st, err := Drain(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if st.Admin != "drain" || len(st.Backends) != 2 {
		t.Errorf("after drain: %+v", st)
	}
	// lb1 is out: draining lb2 too is refused, unless forced.
	opts.Name = "lb2"
	if _, err := Drain(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "lb1 is up/drain") {
		t.Errorf("second drain: %v, want a refusal naming lb1", err)
	}
	opts.Name = "lb1"
	if st, err = Ready(context.Background(), opts); err != nil || st.Admin != "ready" {
		t.Fatalf("ready: %+v %v", st, err)
	}
	want := []string{"set server be_http/lb1 state drain", "set server be_https/lb1 state drain",
		"set server be_http/lb1 state ready", "set server be_https/lb1 state ready"}
	if !reflect.DeepEqual(log, want) {
		t.Errorf("sent %q, want %q", log, want)
	}
	opts.Name = "lb9"
	if _, err := Drain(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "not an inner balancer") {
		t.Errorf("unknown balancer: %v", err)
	}
}

func TestStatusReportsEachInner(t *testing.T) {
	var log []string
	rt := newRecorder(&log, []string{"be_http", "be_https"}, "lb1", "lb2")
	rt.set("lb2", func(s *Server) { s.Health = "down" })
	g := newRig("lb2")
	rep, err := Status(context.Background(), StatusOptions{Inventory: testInventory(),
		Runtime: func(string) Runtime { return rt },
		Targets: func(n string) Target { return g.targets[n] }})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Outer.Reachable || len(rep.Inner) != 2 {
		t.Fatalf("report %+v", rep)
	}
	lb1, lb2 := rep.Inner[0], rep.Inner[1]
	if lb1.Admin != "ready" || lb1.Health != "up" || lb1.Sessions != 6 {
		t.Errorf("lb1: %+v", lb1)
	}
	if lb2.Health != "down" || rep.Healthy() {
		t.Errorf("lb2 down not reported: %+v", lb2)
	}
}

func TestLockRollIsExclusive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the lock lives in /run/karana, root's")
	}
	inv := testInventory()
	inv.LXD.Project = fmt.Sprintf("karana-locktest-%d", os.Getpid())
	unlock, err := lockRoll(inv)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(filepath.Join(HostSocketDir, inv.LXD.Project+".reload.lock"))
	if _, err := lockRoll(inv); err == nil || !strings.Contains(err.Error(), "another rolling reload") {
		t.Errorf("second lock: %v, want refused", err)
	}
	unlock()
	again, err := lockRoll(inv)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	again()
}
