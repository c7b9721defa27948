package host

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// MissingPackages lists, sorted and without repeats, the packages of the
// tools (binary name -> package) that are not on the PATH.
func MissingPackages(tools map[string]string, lookPath func(string) (string, error)) []string {
	seen := map[string]bool{}
	var pkgs []string
	for bin, pkg := range tools {
		if _, err := lookPath(bin); err == nil || seen[pkg] {
			continue
		}
		seen[pkg] = true
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	return pkgs
}

// EnsureTools installs with apt-get the packages of the tools that are
// missing, and returns what it installed. Without apt-get it names the
// packages to install instead.
func EnsureTools(ctx context.Context, tools map[string]string) ([]string, error) {
	pkgs := MissingPackages(tools, exec.LookPath)
	if len(pkgs) == 0 {
		return nil, nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return nil, fmt.Errorf("missing %s and no apt-get to install them: install them and run again", strings.Join(pkgs, ", "))
	}
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if err := command(ctx, env, "apt-get", "update"); err != nil {
		return nil, err
	}
	args := append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)
	if err := command(ctx, env, "apt-get", args...); err != nil {
		return nil, fmt.Errorf("installing %s: %w", strings.Join(pkgs, ", "), err)
	}
	return pkgs, nil
}
