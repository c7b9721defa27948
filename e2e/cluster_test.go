package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/testenv"
)

// TestRemoteCluster runs a back end on an LXD cluster of two namespaced
// daemons: tenants placed by target: and by LXD's own placement, inner
// balancers reaching tenant containers on both members over the shared
// bridge (e2e/remote-lxd.sh network), each container's member in status
// and tenant list, and a member that stops answering reported as offline
// within the commands' deadlines.
func TestRemoteCluster(t *testing.T) {
	// About four minutes more on the development machine: not part of
	// make e2e; make e2e-cluster runs it.
	if os.Getenv("KARANA_E2E_CLUSTER") != "1" {
		t.Skip("the LXD cluster e2e runs with KARANA_E2E_CLUSTER=1 (make e2e-cluster)")
	}
	start := time.Now()
	r := startRemote(t, 2)
	t.Logf("two-member cluster ready in %s", time.Since(start).Round(time.Second))
	dir := t.TempDir()
	project := testenv.Name("karana-rc")
	r.clean(t, project)
	bridgeName := testenv.Name("krcbr0")
	cidr := "10.0." + r.env["KARANA_RL_BRIDGE_OCTET"] + ".1/24"
	if out, err := remoteScript("network", bridgeName, cidr); err != nil {
		t.Fatalf("remote-lxd.sh network: %v\n%s", err, out)
	}
	// ids given: up, unlike tenant add, does not generate them.
	inv := r.inventory(t, dir, project, bridgeName, cidr, `
  - {name: alpha, domain: alpha.rc.test, id: RCALPHA, slot: 0, target: m1}
  - {name: beta, domain: beta.rc.test, id: RCBETA, slot: 1, target: m0}
  - {name: carol, domain: carol.rc.test, id: RCCAROL, slot: 2}`)
	token, err := remoteScript("token", "karana-e2e-cluster")
	if err != nil {
		t.Fatalf("token: %v: %s", err, token)
	}
	mustKarana(t, inv, "remote", "trust", strings.TrimSpace(token))
	mustKarana(t, inv, "up")

	type st struct{ Group, Container, State, Health, Location string }
	status := func(t *testing.T) ([]st, result) {
		r := karana(t, inv, "status", "-o", "json")
		var out []st
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil && r.code != 5 {
			t.Fatalf("status -o json: %v\n%s", err, r)
		}
		return out, r
	}
	sts, res := status(t)
	if res.code != 0 {
		t.Fatalf("status after up: %s", res)
	}
	where := map[string]string{}
	for _, s := range sts {
		where[s.Container] = s.Location
	}
	t.Logf("placement: %v", where)
	for _, c := range []string{"alpha-influx", "alpha-grafana", "alpha-api"} {
		if where[c] != "m1" {
			t.Errorf("%s on %q, want m1 (target)", c, where[c])
		}
	}
	for _, c := range []string{"beta-influx", "beta-grafana", "beta-api"} {
		if where[c] != "m0" {
			t.Errorf("%s on %q, want m0 (target)", c, where[c])
		}
	}
	for _, c := range []string{"carol-influx", "carol-grafana", "carol-api", "lb0", "lb1", "lb2"} {
		if where[c] != "m0" && where[c] != "m1" {
			t.Errorf("%s has no member: %q", c, where[c])
		}
	}
	// lb0 publishes its ports on its member's address.
	lb0 := r.env["KARANA_RL_ADDR_"+strings.TrimPrefix(where["lb0"], "m")]
	for _, tn := range []string{"alpha", "beta", "carol"} {
		viaAddr(t, lb0, "api."+tn+".rc.test", "/healthz", 200)
		viaAddr(t, lb0, "influx."+tn+".rc.test", "/ping", 204)
		id := tenantID(t, inv, tn)
		if _, body, err := throughAddr(lb0, "api."+tn+".rc.test", "/healthz"); err != nil || !strings.Contains(body, `"tenant":"`+id+`"`) {
			t.Errorf("api.%s.rc.test/healthz = %q (%v), want tenant %s", tn, body, err, id)
		}
	}
	lr := mustKarana(t, inv, "tenant", "list", "-o", "json")
	var list []struct {
		Name    string
		Members map[string]string
	}
	json.Unmarshal([]byte(lr.stdout), &list)
	if len(list) != 3 || list[0].Members["alpha-api"] != "m1" || list[1].Members["beta-api"] != "m0" {
		t.Errorf("tenant list members: %+v", list)
	}

	t.Run("offline member", func(t *testing.T) {
		// Freeze m1's daemon (its containers keep running): the
		// cluster stops hearing from it and marks it offline.
		b, err := os.ReadFile(fmt.Sprintf("/var/lib/karana-rl%d/m1/daemon.pid", testenv.NS()))
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		defer syscall.Kill(pid, syscall.SIGCONT)
		deadline := time.Now().Add(90 * time.Second)
		for {
			sts, res := status(t)
			offline := 0
			for _, s := range sts {
				if s.Location == "m1" && s.State == "member offline" {
					offline++
				}
			}
			if res.took > time.Minute {
				t.Errorf("status took %s with a member down", res.took)
			}
			if res.code == 5 {
				// Until the cluster marks it offline, LXD waits for the
				// member: status gives up after its deadline.
				t.Logf("status while m1 is not yet marked offline: exit 5 in %s: %s", res.took.Round(time.Millisecond), strings.TrimSpace(res.stderr))
			}
			if offline > 0 && res.code == 4 {
				t.Logf("status with m1 down (%s): %d containers reported on an offline member", res.took.Round(time.Millisecond), offline)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("m1 not reported offline after 90s: %s", res)
			}
			time.Sleep(5 * time.Second)
		}
	})
	t.Logf("TestRemoteCluster wall time (teardown excluded): %s", time.Since(start).Round(time.Second))
}
