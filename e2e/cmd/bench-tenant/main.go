// Command bench-tenant measures the tenant and balancer goals of `make
// bench` on the real LXD daemon and prints each figure next to its goal:
// tenant add and remove, under load through lb0 too, with 1,000 tenants
// routed, a full rolling reload cycle, and a render of 10,000 unchanged
// tenants. It runs in its own LXD project, bridge and btrfs pool, named
// through pkg/testenv (KARANA_TEST_NS), and deletes the containers it made;
// the pool and its cached image volumes stay for the next run.
//
// Run it through e2e/bench-tenant.sh.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/karana-project/karana/pkg/balancer"
	"github.com/karana-project/karana/pkg/balancer/balancertest"
	"github.com/karana-project/karana/pkg/render"
	"github.com/karana-project/karana/pkg/testenv"
)

var (
	project = testenv.Name("karana-bench")
	bridge  = testenv.Name("karanabench0")
	pool    = testenv.Name("karana-btrfs")
	// A /20 holds the 1,000 routed tenants (3 addresses each); its second
	// octet keeps it apart from the suites' 10.0.x.0/24 subnets.
	second = 150 + testenv.NS()
	subnet = fmt.Sprintf("10.%d.0.1/20", second)
	lb0    = fmt.Sprintf("10.%d.0.2", second)
)

type bench struct {
	bin, dir, inv string
	verbose       bool
	failed        bool
}

func main() {
	b := &bench{bin: os.Getenv("KARANA_BIN"), verbose: os.Getenv("KARANA_BENCH_VERBOSE") != ""}
	if b.bin == "" {
		b.bin = "bin/karana"
	}
	dir, err := os.MkdirTemp("", "karana-bench-")
	if err != nil {
		die(err)
	}
	b.dir, b.inv = dir, filepath.Join(dir, "inventory.yaml")
	b.run()
	b.exit(0)
}

// exit deletes what the bench made (the project's containers, the
// temporary folder with its 10,000 certificates) and ends the process:
// with code, or 1 when a goal was missed.
func (b *bench) exit(code int) {
	b.cleanProject()
	os.RemoveAll(b.dir)
	if code == 0 && b.failed {
		code = 1
	}
	os.Exit(code)
}

func die(err error) {
	fmt.Fprintln(os.Stderr, "bench-tenant:", err)
	os.Exit(2)
}

func load() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func (b *bench) run() {
	b.cleanProject()
	b.writeInventory(nil)
	t := b.karana("up")
	fmt.Printf("# bench-tenant: project %s, bridge %s %s, btrfs pool %s; load average at start %s\n", project, bridge, subnet, pool, load())
	fmt.Printf("karana up (fresh project):              %6.2f s\n", t.Seconds())
	b.karana("tenant", "add", "warm", "--domain", "warm.bench.test") // image volumes into the pool
	b.karana("tenant", "remove", "warm", "--purge")
	if os.Getenv("KARANA_BENCH_ONLY") == "routed" {
		base, _ := b.addRemove("o", 5, nil)
		b.goal("tenant add, one tenant routed (median of 5)", median(base), 3, "")
		b.routed(median(base))
		return
	}

	adds, removes := b.addRemove("b", 5, func() {
		// With the five tenants in place: an unchanged rerun of up.
		b.goal("karana up, nothing changed (5 tenants)", b.karana("up"), 2, "")
	})
	addMedian := median(adds)
	b.goal("tenant add (median of 5)", addMedian, 3, "")
	b.goal("tenant remove --purge (median of 5)", median(removes), 3, "")

	// Under load through lb0: keep-alive and new connections, HTTP and HTTPS.
	ctx := context.Background()
	httpLoad := &balancertest.Load{URL: "http://" + lb0 + "/karana-health", Host: "load.bench.test",
		KeepAlive: 3, NewConns: 2, Rate: 100, MaxTotal: 500_000, MaxTime: 20 * time.Minute}
	httpsLoad := &balancertest.Load{URL: "https://" + lb0 + "/", Host: "unknown.bench.test", Insecure: true,
		KeepAlive: 2, NewConns: 1, Rate: 50, MaxTotal: 300_000, MaxTime: 20 * time.Minute}
	httpLoad.Start(ctx)
	httpsLoad.Start(ctx)
	time.Sleep(3 * time.Second)
	from := time.Now()
	ladds, lremoves := b.addRemove("l", 3, nil)
	liveTo := time.Now()
	var cycles []time.Duration
	for i := 0; i < 3; i++ {
		cycles = append(cycles, b.karana("balancer", "reload", "--force"))
	}
	to := time.Now()
	time.Sleep(2 * time.Second)
	hs, ss := httpLoad.Stop(), httpsLoad.Stop()
	b.goal("tenant add under load (median of 3)", median(ladds), 5, "")
	b.goal("tenant remove --purge under load (median of 3)", median(lremoves), 5, "")
	live := []balancertest.Window{{From: from, To: liveTo}}
	reload := []balancertest.Window{{From: liveTo, To: to}}
	b.zero("failed requests while tenants are added/removed", hs, ss, live)
	b.goal("full rolling reload cycle under load (median of 3)", median(cycles), 5, "")
	b.zero("failed requests during rolling reloads", hs, ss, reload)

	if os.Getenv("KARANA_BENCH_ONLY") == "add" {
		return
	}
	// The one-tenant figure the 1,000-routed one is compared with, taken
	// now: the load test leaves the machine in another state than at start.
	base, _ := b.addRemove("o", 5, nil)
	fmt.Printf("%-58s %6.2f s\n", "tenant add, one tenant routed (median of 5, baseline):", median(base).Seconds())
	b.routed(median(base))
	b.renderUnchanged()
	fmt.Printf("# load average at end %s (2 cores)\n", load())
}

// routed measures tenant add with 1,000 tenants routed: routes and
// certificates on the balancers, no containers. Their servers' health
// checks are disabled on lb1 and lb2 once routed: checks of 3,000 absent
// hosts measure ARP broadcasts on the bridge, not karana.
func (b *bench) routed(one time.Duration) {
	routed := make([]int, 1000)
	for i := range routed {
		routed[i] = 100 + i
	}
	b.writeInventory(routed)
	setup := b.karana("balancer", "reload")
	fmt.Printf("routing 1,000 tenants (balancer reload):  %6.2f s  (setup)\n", setup.Seconds())
	for _, lb := range []string{"lb1", "lb2"} {
		rt := balancer.NewRuntime(filepath.Join(balancer.HostSocketDir, project+"-"+lb+".sock"))
		for _, n := range routed {
			for _, role := range []string{"api", "grafana", "influx"} {
				if _, err := rt.Command(context.Background(), fmt.Sprintf("disable health %s/r%04d-%s", render.TenantsBackend, n, role)); err != nil {
					die(err)
				}
			}
		}
	}
	// Until the checks were disabled the kernel resolved 3,000 absent
	// addresses; its last ARP probes end 3 s later.
	time.Sleep(5 * time.Second)
	radds, _ := b.addRemove("k", 5, nil)
	b.goal("tenant add with 1,000 routed (median of 5)", median(radds), 0, "")
	b.ratio("  ... relative to one tenant", median(radds).Seconds()/one.Seconds(), 1.2)
	b.writeInventory(nil)
	b.karana("balancer", "reload")
}

// addRemove adds n tenants one at a time, runs between (when not nil),
// then removes them with --purge, and returns the wall times.
func (b *bench) addRemove(prefix string, n int, between func()) (adds, removes []time.Duration) {
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("%s%d", prefix, i)
		adds = append(adds, b.karana("tenant", "add", name, "--domain", name+".bench.test"))
	}
	if between != nil {
		between()
	}
	for i := 1; i <= n; i++ {
		removes = append(removes, b.karana("tenant", "remove", fmt.Sprintf("%s%d", prefix, i), "--purge"))
	}
	return adds, removes
}

// renderUnchanged times `balancer render` of 10,000 tenants whose render
// folder is current (the first render, which generates the certificates
// and runs haproxy -c, is setup).
func (b *bench) renderUnchanged() {
	dir := filepath.Join(b.dir, "render10k")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		die(err)
	}
	var y strings.Builder
	y.WriteString("lxd: {network: {ipv4: 10.153.0.1/16}}\ntenants:\n")
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&y, "  - {name: t%05d, domain: t%05d.bench.test, slot: %d}\n", i, i, i)
	}
	inv := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(inv, []byte(y.String()), 0o644); err != nil {
		die(err)
	}
	setup := b.karanaInv(inv, "balancer", "render")
	fmt.Printf("first render of 10,000 tenants:           %6.2f s  (setup: certificates, haproxy -c)\n", setup.Seconds())
	var ts []time.Duration
	for i := 0; i < 3; i++ {
		ts = append(ts, b.karanaInv(inv, "balancer", "render"))
	}
	b.goal("balancer render, 10,000 tenants unchanged (median of 3)", median(ts), 3, "")
}

func (b *bench) goal(what string, d time.Duration, goal float64, note string) {
	s := d.Seconds()
	if goal == 0 {
		fmt.Printf("%-58s %6.2f s\n", what+":", s)
		return
	}
	res := "met"
	if s > goal {
		res, b.failed = "MISSED", true
	}
	fmt.Printf("%-58s %6.2f s   (goal <= %g s: %s)%s\n", what+":", s, goal, res, note)
}

func (b *bench) ratio(what string, r, goal float64) {
	res := "met"
	if r > goal {
		res, b.failed = "MISSED", true
	}
	fmt.Printf("%-58s %6.2fx    (goal <= %gx: %s)\n", what+":", r, goal, res)
}

func (b *bench) zero(what string, http, https []balancertest.Sample, w []balancertest.Window) {
	hd, _ := balancertest.Split(http, 200, w)
	sd, _ := balancertest.Split(https, 404, w)
	lost := hd.Failed + hd.Unexpected + sd.Failed + sd.Unexpected
	res := "met"
	if lost != 0 || hd.Sent == 0 || sd.Sent == 0 {
		res, b.failed = "MISSED", true
	}
	fmt.Printf("%-58s %6d     (goal 0: %s) of %d http + %d https; p99 %s / %s\n", what+":", lost, res, hd.Sent, sd.Sent, hd.P99, sd.P99)
	if lost != 0 {
		fmt.Printf("    first errors: %q %q\n", hd.Errors, sd.Errors)
	}
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func (b *bench) writeInventory(routed []int) {
	var y strings.Builder
	fmt.Fprintf(&y, `lxd:
  project: %s
  profile: %s
  storage: {pool: %s, driver: btrfs, size: 30GiB}
  network: {name: %s, ipv4: %s}
images: {balancer: karana/balancer, influxdb: karana/influxdb, grafana: karana-test/grafana, api: karana/api}
balancers: {hard_stop_after: 10s}
`, project, project, pool, bridge, subnet)
	if len(routed) == 0 {
		y.WriteString("tenants: []\n")
	} else {
		y.WriteString("tenants:\n")
	}
	for _, n := range routed {
		fmt.Fprintf(&y, "  - {name: r%04d, domain: r%04d.route.test, slot: %d}\n", n, n, n)
	}
	if err := os.WriteFile(b.inv, []byte(y.String()), 0o644); err != nil {
		die(err)
	}
}

func (b *bench) karana(args ...string) time.Duration { return b.karanaInv(b.inv, args...) }

func (b *bench) karanaInv(inv string, args ...string) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bin, append(args, "--inventory", inv)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "karana %s: %v\n%s", strings.Join(args, " "), err, out.String())
		b.exit(1)
	}
	if b.verbose {
		fmt.Fprintf(os.Stderr, "--- karana %s (%.2f s)\n%s", strings.Join(args, " "), d.Seconds(), out.String())
	}
	return d
}

// cleanProject deletes the bench project's containers (a fresh inventory's
// slots must not meet old containers). The pool, bridge and project stay.
func (b *bench) cleanProject() {
	out, err := exec.Command("lxc", "--project", project, "list", "--format", "csv", "-c", "n").Output()
	if err != nil {
		return
	}
	for _, c := range strings.Fields(string(out)) {
		_ = exec.Command("lxc", "--project", project, "delete", "-f", c).Run()
	}
}
