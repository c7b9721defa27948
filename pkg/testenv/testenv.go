// Package testenv gives each test run on a shared LXD daemon its own LXD
// names and subnets, so that two runs (two worktrees, or a run beside CI)
// never touch each other's projects, bridges or addresses.
//
// KARANA_TEST_NS selects the run: unset or 0 keeps the names and subnets
// the suites have always used; 1 to 9 suffix every name with "n<N>" and move
// every subnet's third octet up by 20*N.
package testenv

import (
	"fmt"
	"os"
	"strconv"
)

// NS is this run's number, 0 to 9, from KARANA_TEST_NS.
func NS() int {
	n, err := strconv.Atoi(os.Getenv("KARANA_TEST_NS"))
	if err != nil || n < 0 || n > 9 {
		return 0
	}
	return n
}

// Name is base for run 0 and base+"n<N>" for run N; it stays within LXD's
// 15-character limit for bridge names when base has at most 13.
func Name(base string) string {
	if n := NS(); n > 0 {
		return fmt.Sprintf("%sn%d", base, n)
	}
	return base
}

// Octet moves a subnet's third octet for this run.
func Octet(base int) int { return base + 20*NS() }

// Subnet is "10.0.<Octet(third)>.<host>/24"-style: the address host on this
// run's copy of 10.0.third.0, with suffix appended (for example "/24").
func Subnet(third, host int, suffix string) string {
	return fmt.Sprintf("10.0.%d.%d%s", Octet(third), host, suffix)
}
