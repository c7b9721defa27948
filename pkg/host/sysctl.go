package host

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/karana-project/karana/pkg/fsutil"
)

// Sysctl is a kernel limit LXD hosts need raised: every unprivileged
// container's root maps to the same host uid, so all containers share
// that uid's key quota and inotify instances. With the kernel's defaults
// (200 keys), systemd in the tenth container or so fails to start units
// ("Failed at step KEYRING ... Required key not available"). Values follow
// LXD's production-setup guide, and the ARP table's size karana's tenant
// health checks need.
type Sysctl struct {
	Key  string // dotted, as sysctl(8) names it
	Want int64
}

// Sysctls are raised (never lowered) by EnsureLXD.
var Sysctls = []Sysctl{
	{"kernel.keys.maxkeys", 2000},
	{"kernel.keys.maxbytes", 2000000},
	{"fs.inotify.max_user_instances", 1024},
	{"fs.inotify.max_user_watches", 1048576},
	// The ARP table is one for the host and every container: each inner
	// balancer health-checks every tenant service (3 per tenant), so the
	// default gc_thresh3 of 1024 overflows at a few hundred tenants
	// ("neighbor table overflow!") and routing to new tenants stalls.
	{"net.ipv4.neigh.default.gc_thresh3", 131072},
	{"net.ipv4.neigh.default.gc_thresh2", 65536},
	{"net.ipv4.neigh.default.gc_thresh1", 8192},
}

// SysctlFile persists the limits across reboots.
const SysctlFile = "/etc/sysctl.d/60-karana-lxd.conf"

// procRoot is /proc/sys; tests point it elsewhere.
var procRoot = "/proc/sys"

// ToRaise returns the limits whose current value is below what LXD needs.
func ToRaise(current map[string]int64) []Sysctl {
	var out []Sysctl
	for _, s := range Sysctls {
		if cur, ok := current[s.Key]; ok && cur < s.Want {
			out = append(out, s)
		}
	}
	return out
}

func sysctlPath(key string) string {
	return filepath.Join(procRoot, strings.ReplaceAll(key, ".", "/"))
}

func readSysctls() map[string]int64 {
	cur := map[string]int64{}
	for _, s := range Sysctls {
		b, err := os.ReadFile(sysctlPath(s.Key))
		if err != nil {
			continue // not on this kernel: nothing to raise
		}
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			cur[s.Key] = v
		}
	}
	return cur
}

// raiseSysctls raises the limits below LXD's needs now and in SysctlFile,
// returning the keys it raised.
func raiseSysctls() ([]string, error) {
	raise := ToRaise(readSysctls())
	if len(raise) == 0 {
		return nil, nil
	}
	var keys []string
	var conf strings.Builder
	conf.WriteString("# Written by karana: limits LXD hosts need (see LXD's production-setup guide).\n")
	for _, s := range Sysctls {
		fmt.Fprintf(&conf, "%s = %d\n", s.Key, s.Want)
	}
	for _, s := range raise {
		if err := os.WriteFile(sysctlPath(s.Key), []byte(strconv.FormatInt(s.Want, 10)), 0o644); err != nil {
			return keys, fmt.Errorf("raising %s to %d: %w", s.Key, s.Want, err)
		}
		keys = append(keys, s.Key)
	}
	if err := fsutil.WriteFile(SysctlFile, []byte(conf.String()), 0o644); err != nil {
		return keys, fmt.Errorf("writing %s: %w", SysctlFile, err)
	}
	return keys, nil
}
