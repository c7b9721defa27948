package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Keep reports whether KARANA_E2E_KEEP=1 asks the LXD suites to leave what
// they made, to look at after a failure.
func Keep() bool { return os.Getenv("KARANA_E2E_KEEP") == "1" }

// Remove deletes what an LXD suite made: every instance and profile of
// project, the project, the bridge, and the host sockets and lock karana
// made for the project's balancers (named in balancers). Images (shared
// from the default project) and the storage pool stay. Objects already
// gone are skipped; the error lists what could not be removed.
func Remove(project, bridge string, balancers ...string) error {
	var errs []error
	if out, err := lxc("list", "--project", project, "--format", "csv", "-c", "n"); err == nil {
		// In parallel: a forced delete takes seconds, mostly waiting.
		names := strings.Fields(out)
		ierrs := make([]error, len(names))
		var wg sync.WaitGroup
		for i, n := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if out, err := lxc("delete", "--force", "--project", project, n); err != nil {
					ierrs[i] = fmt.Errorf("deleting instance %s: %v: %s", n, err, out)
				}
			}()
		}
		wg.Wait()
		errs = append(errs, ierrs...)
	}
	if out, err := lxc("profile", "list", "--project", project, "--format", "csv"); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			name, _, _ := strings.Cut(line, ",")
			if name == "" || name == "default" {
				continue
			}
			if out, err := lxc("profile", "delete", "--project", project, name); err != nil {
				errs = append(errs, fmt.Errorf("deleting profile %s: %v: %s", name, err, out))
			}
		}
	}
	if out, err := lxc("project", "delete", project); err != nil && !notFound(out) {
		errs = append(errs, fmt.Errorf("deleting project %s: %v: %s", project, err, out))
	}
	if out, err := lxc("network", "delete", bridge); err != nil && !notFound(out) {
		errs = append(errs, fmt.Errorf("deleting network %s: %v: %s", bridge, err, out))
	}
	files := []string{project + ".reload.lock"}
	for _, b := range balancers {
		files = append(files, project+"-"+b+".sock")
	}
	for _, f := range files {
		if err := os.Remove(filepath.Join("/run/karana", f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func lxc(args ...string) (string, error) {
	out, err := exec.Command("lxc", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func notFound(out string) bool {
	return strings.Contains(out, "not found") || strings.Contains(out, "doesn't exist")
}
