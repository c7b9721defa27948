package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/karana-project/karana/pkg/lxd"
)

// Progress is the part of cmdutil.Progress EnsureLXD reports to.
type Progress interface {
	Start(format string, args ...any)
	End(result string)
	Fail(result string)
}

// StartTimeout bounds the wait for a started daemon's socket to answer.
var StartTimeout = 2 * time.Minute

// EnsureLXD prepares the host: it raises the kernel limits containers
// share (Sysctls), installs the packages karana needs that are missing
// (Packages: LXD with what it runs, HAProxy, debootstrap, ...) and starts
// LXD when its socket does not answer, reporting each step. It changes
// nothing on a host that is ready, and reports whether it changed anything.
func EnsureLXD(ctx context.Context, p Progress) (bool, error) {
	p.Start("kernel limits for containers")
	raised, err := raiseSysctls()
	if err != nil {
		p.Fail(err.Error())
		return false, err
	}
	p.End(raisedResult(raised))
	changed := len(raised) > 0
	ch, err := ensureDaemon(ctx, p)
	return changed || ch, err
}

func raisedResult(keys []string) string {
	if len(keys) == 0 {
		return "unchanged"
	}
	return "raised " + strings.Join(keys, ", ")
}

func ensureDaemon(ctx context.Context, p Progress) (bool, error) {
	p.Start("checking LXD and the packages karana needs on this host")
	st, err := Probe(ctx)
	if err != nil {
		p.Fail(err.Error())
		return false, err
	}
	plan, err := Plan(st)
	if err != nil {
		p.Fail("cannot set up")
		return false, err
	}
	if len(plan) == 0 {
		p.End("running")
		return false, nil
	}
	p.End(fmt.Sprintf("%d step(s) to do", len(plan)))
	for _, a := range plan {
		p.Start("%s", describe(a))
		if err := run(ctx, a); err != nil {
			p.Fail(err.Error())
			return true, fmt.Errorf("%s: %w", describe(a), err)
		}
		p.End("done")
	}
	return true, nil
}

func describe(a Action) string {
	switch a.Kind {
	case AptInstall:
		return "installing " + strings.Join(a.Args, ", ") + " with apt-get"
	case SnapInstall:
		return "installing the " + strings.Join(a.Args, ", ") + " snap"
	case UnitStart:
		return "starting " + a.Args[0]
	}
	return "starting " + strings.Join(a.Args, " ") + " (log in " + LogFile + ")"
}

// Probe inspects the host.
func Probe(ctx context.Context) (State, error) {
	o, err := ReadOSRelease()
	if err != nil {
		return State{}, err
	}
	st := State{Family: o.Family(), Answering: Answering(ctx, lxd.DefaultSocket())}
	st.LXDInstalled = HasProgram("lxd") || exists("/snap/bin/lxd")
	st.Missing = Missing(Required(st.Family, AppArmorEnabled()), HasProgram)
	// sd_booted(3): systemd is PID 1 when this folder exists.
	st.Systemd = exists("/run/systemd/system")
	return st, nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// Answering reports whether the LXD socket at path answers GET /1.0.
func Answering(ctx context.Context, path string) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://lxd/1.0", nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func run(ctx context.Context, a Action) error {
	switch a.Kind {
	case AptInstall:
		env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if err := command(ctx, env, "apt-get", "update"); err != nil {
			return err
		}
		return command(ctx, env, "apt-get", append([]string{"install", "-y", "--no-install-recommends"}, a.Args...)...)
	case SnapInstall:
		if err := command(ctx, nil, "snap", append([]string{"install"}, a.Args...)...); err != nil {
			return err
		}
		return command(ctx, nil, "lxd", "waitready", "--timeout", "120")
	case UnitStart:
		if err := command(ctx, nil, "systemctl", "start", a.Args[0]); err != nil {
			return err
		}
	case Spawn:
		if err := spawn(a.Args); err != nil {
			return err
		}
	}
	return waitAnswering(ctx, lxd.DefaultSocket())
}

func command(ctx context.Context, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		tail := strings.TrimSpace(string(out))
		if len(tail) > 2000 {
			tail = "..." + tail[len(tail)-2000:]
		}
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail)
	}
	return nil
}

// spawn starts the daemon in its own session so it outlives karana, with
// its output appended to LogFile.
func spawn(argv []string) error {
	log, err := os.OpenFile(LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("opening %s: %w", LogFile, err)
	}
	defer log.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}

func waitAnswering(ctx context.Context, socket string) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	for {
		if Answering(ctx, socket) {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("LXD did not answer on %s within %s (see %s)", socket, StartTimeout, LogFile)
			}
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// EnsureCommand installs Debian package pkg with apt-get when cmd is not on
// the PATH (or in /usr/sbin, /sbin): btrfs-progs for mkfs.btrfs, say.
func EnsureCommand(ctx context.Context, cmd, pkg string) error {
	if _, err := exec.LookPath(cmd); err == nil {
		return nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if exists(dir + "/" + cmd) {
			return nil
		}
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("%s is missing and this host has no apt-get: install %s", cmd, pkg)
	}
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if err := command(ctx, env, "apt-get", "install", "-y", "--no-install-recommends", pkg); err != nil {
		if uerr := command(ctx, env, "apt-get", "update"); uerr != nil {
			return uerr
		}
		return command(ctx, env, "apt-get", "install", "-y", "--no-install-recommends", pkg)
	}
	return nil
}
