package host

import (
	"fmt"
	"strings"
)

// State is what EnsureLXD finds on the host before acting.
type State struct {
	Family       string   // from OSRelease.Family
	LXDInstalled bool     // the lxd daemon binary (or snap) is present
	Missing      []string // apt packages of Required(Family) that are not installed
	Answering    bool     // the LXD socket answers GET /1.0
	Systemd      bool     // PID 1 is systemd
}

// Kind of an Action.
type Kind string

const (
	AptInstall  Kind = "apt-install"  // apt-get install -y Args
	SnapInstall Kind = "snap-install" // snap install Args
	UnitStart   Kind = "unit-start"   // systemctl start Args[0]
	Spawn       Kind = "spawn"        // run Args detached, logging to LogFile
)

// Action is one step EnsureLXD takes.
type Action struct {
	Kind Kind
	Args []string
}

func (a Action) String() string { return string(a.Kind) + " " + strings.Join(a.Args, " ") }

// LogFile receives the output of an LXD daemon karana starts itself.
const LogFile = "/var/log/karana-lxd.log"

// Units started on systemd hosts, by family.
var units = map[string]string{"debian": "lxd.service", "ubuntu": "snap.lxd.daemon.service"}

// Plan decides what brings the host from s to one karana can run on:
// install the missing packages (Packages; apt, and LXD as a snap on
// Ubuntu), then start the daemon with systemd when it is PID 1, else
// detached by hand. An empty plan means nothing to do.
func Plan(s State) ([]Action, error) {
	var plan []Action
	switch s.Family {
	case "debian", "ubuntu":
		if len(s.Missing) > 0 {
			plan = append(plan, Action{AptInstall, s.Missing})
		}
		if s.Family == "ubuntu" && !s.LXDInstalled {
			plan = append(plan, Action{SnapInstall, []string{"lxd"}})
		}
	default:
		if !s.LXDInstalled {
			return nil, fmt.Errorf("LXD is not installed and karana installs it only on Debian or Ubuntu: install LXD yourself, then run karana again")
		}
		if len(s.Missing) > 0 {
			return nil, fmt.Errorf("karana installs packages only on Debian or Ubuntu: install %s (Debian names; see docs/host.md) yourself, then run karana again", strings.Join(s.Missing, ", "))
		}
	}
	if s.Answering {
		return plan, nil
	}
	switch {
	case s.Systemd && units[s.Family] != "":
		plan = append(plan, Action{UnitStart, []string{units[s.Family]}})
	case s.Systemd:
		return nil, fmt.Errorf("LXD is not running and karana knows no systemd unit for it on this system: start it yourself")
	default:
		plan = append(plan, Action{Spawn, []string{"lxd", "--group", "root"}})
	}
	return plan, nil
}
