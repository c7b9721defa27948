// Package image builds karana's LXD images without an image server:
// debootstrap a Debian base tree once (cached under /var/cache/karana),
// copy it per role, install the role's packages in a chroot, and import
// metadata and rootfs into LXD under the inventory's alias.
package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/karana-project/karana/pkg/inventory"
)

// recipeVersion changes whenever the way images are put together changes,
// so that images built by an older karana are rebuilt.
const recipeVersion = "1"

// Roles with an image, in build order.
var Roles = []string{"balancer", "influxdb", "grafana", "api"}

// BasePackages go into every image: an init, networking by
// systemd-networkd with DHCP on eth0 and systemd-resolved for DNS, TLS
// roots, and curl for health checks run inside the containers. udev is
// needed because LXD mounts /sys read-write, and networkd then leaves
// links "pending" until udev has seen them.
var BasePackages = []string{
	"systemd", "systemd-sysv", "systemd-resolved", "udev", "dbus", "iproute2",
	"ca-certificates", "curl", "netbase", "procps",
}

// File is one file put into an image's rootfs.
type File struct {
	Path string      // absolute path in the image
	Data []byte      // content
	Mode os.FileMode // permission bits
}

// Recipe is everything that determines an image's content.
type Recipe struct {
	Role     string
	Packages []string // on top of BasePackages
	Setup    []string // shell lines run in the chroot before installing Packages
	Files    []File   // written after the packages are installed
	Enable   []string // systemd units enabled at the end
	Note     string   // shown in image list and stored as a property
	Hint     string   // added to a failed build's error
	Variant  string   // "" for production, "standin" for the test Grafana image
}

// NormalizeRole maps the container role names (influx) to image roles.
func NormalizeRole(role string) (string, error) {
	if role == string(inventory.RoleInfluxDB) {
		role = "influxdb"
	}
	if !slices.Contains(Roles, role) {
		return "", fmt.Errorf("unknown image role %q (roles: %s)", role, strings.Join(Roles, ", "))
	}
	return role, nil
}

// Alias is the inventory's alias for a role's image.
func Alias(inv *inventory.Inventory, role string) string {
	switch role {
	case "balancer":
		return inv.Images.Balancer
	case "influxdb", string(inventory.RoleInfluxDB):
		return inv.Images.InfluxDB
	case "grafana":
		return inv.Images.Grafana
	case "api":
		return inv.Images.API
	}
	return ""
}

// IsRemote reports whether an images.<role> value names a remote image
// ("images:debian/12"), which karana does not build.
func IsRemote(alias string) bool { return strings.Contains(alias, ":") }

// grafanaRepo adds Grafana's APT repository (https://apt.grafana.com).
// Untested on the development host, which cannot reach it.
var grafanaRepo = []string{
	"install -d -m 0755 /etc/apt/keyrings",
	"curl -fsSL https://apt.grafana.com/gpg.key -o /etc/apt/keyrings/grafana.asc",
	`echo "deb [signed-by=/etc/apt/keyrings/grafana.asc] https://apt.grafana.com stable main" > /etc/apt/sources.list.d/grafana.list`,
	"apt-get update",
}

// RecipeFor returns the production recipe of role.
func RecipeFor(role string) (Recipe, error) {
	role, err := NormalizeRole(role)
	if err != nil {
		return Recipe{}, err
	}
	switch role {
	case "balancer":
		return Recipe{Role: role, Packages: []string{"haproxy"}, Note: "HAProxy from Debian"}, nil
	case "influxdb":
		return Recipe{Role: role, Packages: []string{"influxdb"}, Note: "InfluxDB 1.x from Debian"}, nil
	case "grafana":
		return Recipe{Role: role, Packages: []string{"grafana"}, Setup: grafanaRepo,
			Enable: []string{"grafana-server.service"}, Note: "Grafana from apt.grafana.com",
			Hint: "the grafana image needs https://apt.grafana.com to be reachable; a test back end can use the stand-in image (see docs/images.md)"}, nil
	}
	return Recipe{Role: role, Packages: []string{"git"}, Note: "base and git (the API versions its store with git); karana pushes its own binary"}, nil
}

// StandinRecipe is the test Grafana image: the base image plus the
// Grafana stand-in binary as /usr/sbin/grafana-server, started by a
// grafana-server.service reading /etc/grafana/grafana.ini.
func StandinRecipe(binary string) (Recipe, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return Recipe{}, fmt.Errorf("reading the Grafana stand-in: %w", err)
	}
	return Recipe{
		Role: "grafana",
		Files: []File{
			{Path: "/usr/sbin/grafana-server", Data: bin, Mode: 0o755},
			{Path: "/etc/systemd/system/grafana-server.service", Data: []byte(standinUnit), Mode: 0o644},
			{Path: "/etc/grafana/grafana.ini", Data: []byte(standinINI), Mode: 0o640},
		},
		Enable:  []string{"grafana-server.service"},
		Note:    "TEST ONLY: Grafana stand-in",
		Variant: "standin",
	}, nil
}

const standinUnit = `[Unit]
Description=Grafana stand-in (karana tests)
After=network-online.target

[Service]
ExecStart=/usr/sbin/grafana-server --config /etc/grafana/grafana.ini
Restart=on-failure
RestartSec=1

[Install]
WantedBy=multi-user.target
`

const standinINI = `; replaced by karana when the tenant is provisioned
[server]
http_port = 3000
`

// Hash identifies the recipe on top of a base (suite and mirror): images
// carry it as the property karana.recipe, and a build is skipped when the
// alias already has it.
func (r Recipe) Hash(b Base) string {
	h := sha256.New()
	fmt.Fprintf(h, "v%s\nsuite %s\nmirror %s\nsecurity %s\nbase %s\n", recipeVersion, b.Suite, b.Mirror, b.Security,
		strings.Join(BasePackages, " "))
	fmt.Fprintf(h, "role %s\nvariant %s\npackages %s\nsetup %q\nenable %s\n", r.Role, r.Variant,
		strings.Join(r.Packages, " "), r.Setup, strings.Join(r.Enable, " "))
	for _, f := range r.Files {
		fmt.Fprintf(h, "file %s %o %x\n", f.Path, f.Mode, sha256.Sum256(f.Data))
	}
	_, _ = io.WriteString(h, rootfsConfigVersion())
	return hex.EncodeToString(h.Sum(nil))
}
