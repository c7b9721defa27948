package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Files every image gets, written into the cached base tree.
var baseFiles = []File{
	// DHCP on eth0: LXD's dnsmasq hands out the fixed address karana set
	// as the nic's ipv4.address.
	{Path: "/etc/systemd/network/eth0.network", Mode: 0o644, Data: []byte(
		"[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n\n[DHCPv4]\nUseDomains=true\n")},
	// Keep images small and apt lean.
	{Path: "/etc/apt/apt.conf.d/90karana", Mode: 0o644, Data: []byte(
		"APT::Install-Recommends \"false\";\nAPT::Install-Suggests \"false\";\n")},
	{Path: "/etc/dpkg/dpkg.cfg.d/90karana-nodoc", Mode: 0o644, Data: []byte(
		"path-exclude=/usr/share/doc/*\npath-include=/usr/share/doc/*/copyright\n" +
			"path-exclude=/usr/share/man/*\npath-exclude=/usr/share/info/*\n" +
			"path-exclude=/usr/share/locale/*\npath-include=/usr/share/locale/locale.alias\n")},
}

// baseSetup runs in the chroot once, on the freshly debootstrapped tree.
var baseSetup = []string{
	"systemctl enable systemd-networkd.service systemd-resolved.service",
	// No network wait at boot (the bridge answers DHCP at once), no apt
	// runs behind karana's back.
	"systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer",
	// debootstrap installed docs before the nodoc rule existed. Fewer
	// files also make LXD's uid shifting of each new container faster.
	"find /usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete",
	"rm -rf /usr/share/man/* /usr/share/info/*",
	"find /usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +",
}

// hostTemplates are LXD metadata templates: LXD renders them when a
// container is created or copied, so each container has its own name.
var hostTemplates = map[string]string{
	"hostname.tpl": "{{ container.name }}\n",
	"hosts.tpl": "127.0.0.1\tlocalhost\n127.0.1.1\t{{ container.name }}\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
}

// sourcesList is the image's APT sources.
func sourcesList(b Base) string {
	s := fmt.Sprintf("deb %s %s main\ndeb %s %s-updates main\n", b.Mirror, b.Suite, b.Mirror, b.Suite)
	if b.Security != "" {
		s += fmt.Sprintf("deb %s %s-security main\n", b.Security, b.Suite)
	}
	return s
}

// rootfsConfigVersion fingerprints the static configuration above, so a
// change to it invalidates cached bases and built images.
func rootfsConfigVersion() string {
	h := sha256.New()
	for _, f := range baseFiles {
		fmt.Fprintf(h, "%s %o %s\n", f.Path, f.Mode, f.Data)
	}
	fmt.Fprintf(h, "%s\n", strings.Join(baseSetup, "\n"))
	for _, k := range []string{"hostname.tpl", "hosts.tpl"} {
		fmt.Fprintf(h, "%s %s\n", k, hostTemplates[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
