// Package balancer knows how karana's HAProxy containers are reached and
// rolled: their runtime sockets on the host and the rolling reload.
package balancer

import (
	"path/filepath"

	"github.com/karana-project/karana/pkg/inventory"
)

// ContainerSocket is HAProxy's admin runtime socket inside every balancer
// container (Debian's default path).
const ContainerSocket = "/run/haproxy/admin.sock"

// HostSocketDir holds the host ends of the balancers' runtime sockets.
const HostSocketDir = "/run/karana"

// HostSocket is where the runtime socket of balancer name appears on the
// host, through an LXD proxy device.
func HostSocket(inv *inventory.Inventory, name string) string {
	return filepath.Join(HostSocketDir, inv.LXD.Project+"-"+name+".sock")
}

// SocketDeviceName names the proxy device that exposes the runtime socket.
const SocketDeviceName = "karana-admin"

// SocketDevice is the LXD proxy device exposing balancer name's runtime
// socket on the host, readable by root only.
func SocketDevice(inv *inventory.Inventory, name string) map[string]string {
	return map[string]string{
		"type":    "proxy",
		"bind":    "host",
		"listen":  "unix:" + HostSocket(inv, name),
		"connect": "unix:" + ContainerSocket,
		"mode":    "0600",
	}
}
