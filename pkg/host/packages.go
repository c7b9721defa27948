package host

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Package is a Debian package karana needs on the host. Program is one
// file it installs: when that is missing, so is the package. docs/host.md
// lists the same packages with the same reasons.
type Package struct {
	Name    string
	Program string
	Why     string
	// NotWithSnap: the LXD snap (Ubuntu) brings its own copy.
	NotWithSnap bool
	// AppArmor: needed only when the kernel has AppArmor enabled.
	AppArmor bool
}

// Packages are everything the host side of karana runs: LXD and what LXD
// itself runs for karana's objects, and the programs karana runs. apt
// installs them with --no-install-recommends, so LXD's recommends that it
// uses are listed here; LXD's own Depends (rsync, attr, uidmap, lxcfs,
// the lxc client) come with it.
var Packages = []Package{
	{Name: "lxd", Program: "lxd", NotWithSnap: true,
		Why: "the container manager (Ubuntu: the lxd snap instead)"},
	{Name: "dnsmasq-base", Program: "dnsmasq", NotWithSnap: true,
		Why: "LXD's managed bridge runs dnsmasq for DHCP and DNS; an LXD Recommends: without it creating the bridge fails"},
	{Name: "iptables", Program: "iptables", NotWithSnap: true,
		Why: "LXD's bridge NAT and firewall rules when nftables' nft is not there"},
	{Name: "apparmor", Program: "apparmor_parser", NotWithSnap: true, AppArmor: true,
		Why: "an LXD Recommends: LXD confines containers with AppArmor when the kernel has it (only then installed)"},
	{Name: "squashfs-tools", Program: "unsquashfs",
		Why: "LXD unpacks squashfs images when it creates a container; karana image build packs them (mksquashfs)"},
	{Name: "xz-utils", Program: "xz", Why: "LXD unpacks xz-compressed image and backup tarballs"},
	{Name: "zstd", Program: "zstd", Why: "LXD compresses the exports of tenant remove with zstd"},
	{Name: "btrfs-progs", Program: "mkfs.btrfs", Why: "LXD's btrfs storage pools (driver: btrfs)"},
	{Name: "haproxy", Program: "haproxy", Why: "haproxy -c checks every rendered balancer configuration before it is pushed"},
	{Name: "debootstrap", Program: "debootstrap", Why: "karana image build makes the role images from Debian"},
}

// Required returns the packages a host of family needs: every one on
// Debian; on Ubuntu those the LXD snap does not bring; AppArmor's only
// when the kernel has it enabled.
func Required(family string, appArmorKernel bool) []Package {
	var out []Package
	for _, p := range Packages {
		if (family == "ubuntu" && p.NotWithSnap) || (p.AppArmor && !appArmorKernel) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// Missing returns the names of the packages whose program has is false for.
func Missing(pkgs []Package, has func(program string) bool) []string {
	var out []string
	for _, p := range pkgs {
		if !has(p.Program) {
			out = append(out, p.Name)
		}
	}
	return out
}

// HasProgram reports whether program is on the PATH or in one of the
// system folders (root's PATH may lack the sbin ones).
func HasProgram(program string) bool {
	if _, err := exec.LookPath(program); err == nil {
		return true
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		if exists(filepath.Join(d, program)) {
			return true
		}
	}
	return false
}

// AppArmorEnabled reports whether the running kernel has AppArmor on.
func AppArmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.TrimSpace(string(b)) == "Y"
}

// PackageState is one required package on this host.
type PackageState struct {
	Name      string `json:"name"`
	Program   string `json:"program"`
	Installed bool   `json:"installed"`
	Why       string `json:"why"`
}

// Report is what `karana host check` shows.
type Report struct {
	Family       string         `json:"family"`
	Packages     []PackageState `json:"packages"`
	LXDInstalled bool           `json:"lxd_installed"`
	LXDAnswering bool           `json:"lxd_answering"`
}

// Ready reports whether nothing is missing and LXD answers.
func (r Report) Ready() bool {
	for _, p := range r.Packages {
		if !p.Installed {
			return false
		}
	}
	return r.LXDInstalled && r.LXDAnswering
}

// Check inspects the host without changing it.
func Check(ctx context.Context) (Report, error) {
	st, err := Probe(ctx)
	if err != nil {
		return Report{}, err
	}
	r := Report{Family: st.Family, LXDInstalled: st.LXDInstalled, LXDAnswering: st.Answering}
	for _, p := range Required(st.Family, AppArmorEnabled()) {
		r.Packages = append(r.Packages, PackageState{Name: p.Name, Program: p.Program, Installed: HasProgram(p.Program), Why: p.Why})
	}
	return r, nil
}
