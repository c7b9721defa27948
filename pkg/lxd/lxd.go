// Package lxd is karana's narrow view of the LXD API. Commands and domain
// packages depend on the Client interface; Connect returns the real
// implementation over github.com/canonical/lxd/client, and unit tests use a
// fake. Every mutating call waits for its LXD operation and honours ctx.
package lxd

import (
	"context"
	"errors"
	"io"
	"os"
	"time"
)

// ErrNotFound is returned (wrapped) when an instance, image or object does not exist.
var ErrNotFound = errors.New("not found")

// ErrNotRunning is returned (wrapped) when a command or file operation
// needs a running instance and it is stopped.
var ErrNotRunning = errors.New("instance not running")

// ErrBusy is returned (wrapped) when LXD is still running another
// operation on the instance (a create or start a killed run left).
var ErrBusy = errors.New("instance busy")

// Instance is the state of one container as karana sees it.
type Instance struct {
	Name     string            `json:"name"`
	Status   string            `json:"status"` // Running, Stopped, ...
	IPv4     string            `json:"ipv4"`   // first global IPv4 on eth0, "" if none yet
	Location string            `json:"location,omitempty"`
	Config   map[string]string `json:"config,omitempty"` // includes user.karana.* keys
}

// InstanceSpec is what karana wants an instance to be.
type InstanceSpec struct {
	Name    string
	Image   string            // local alias, or "remote:alias"
	Profile string            // profile providing root disk and eth0
	Network string            // bridge name; eth0 is attached with a fixed IPv4
	IPv4    string            // fixed address on the bridge (static DHCP lease)
	Target  string            // cluster member, "" for any
	Config  map[string]string // limits.cpu, limits.memory, user.karana.role, ...
	Devices map[string]map[string]string
	// CopyOf, when set, creates the instance as a copy of that stopped
	// instance (a template PrepareTemplate made) instead of from Image;
	// Config and Devices still apply.
	CopyOf string
}

// Image is an image in LXD as karana sees it. Properties come from the
// image's metadata.yaml (karana records its recipe hash there).
type Image struct {
	Alias        string            `json:"alias"`
	Fingerprint  string            `json:"fingerprint"`
	Architecture string            `json:"architecture"`
	Size         int64             `json:"size"`
	CreatedAt    time.Time         `json:"created_at"`
	Properties   map[string]string `json:"properties,omitempty"`
}

// StoragePool is the pool karana wants. Driver "" creates DefaultDriver
// and accepts an existing pool whatever its driver; Source "" makes LXD
// put a btrfs (or zfs, lvm) pool on a loop file of Size (LXD's default
// size when "").
type StoragePool struct {
	Name, Driver, Source, Size string
}

// DefaultDriver is the driver of a new pool when the inventory names none:
// btrfs clones an image's subvolume for each container instead of
// unpacking it, so containers launch in about half the time of dir.
const DefaultDriver = "btrfs"

// Client is every LXD operation karana needs, scoped to one project.
type Client interface {
	// Host-level objects. Ensure* create the object when missing and
	// report whether they changed anything.
	EnsureStoragePool(ctx context.Context, pool StoragePool) (bool, error)
	StoragePoolDriver(ctx context.Context, name string) (string, error) // ErrNotFound when absent
	EnsureNetwork(ctx context.Context, name, ipv4CIDR string) (bool, error)
	EnsureProject(ctx context.Context, name string) (bool, error)
	EnsureProfile(ctx context.Context, name, pool, network string) (bool, error)

	// Images, in the client's project.
	ImageFingerprint(ctx context.Context, alias string) (string, error) // ErrNotFound when absent
	ImportImage(ctx context.Context, alias string, meta, rootfs io.Reader) (string, error)
	GetImage(ctx context.Context, alias string) (*Image, error) // ErrNotFound when absent

	// Instances, in the client's project.
	GetInstance(ctx context.Context, name string) (*Instance, error) // ErrNotFound when absent
	ListInstances(ctx context.Context) ([]Instance, error)
	CreateInstance(ctx context.Context, spec InstanceSpec) error
	// PrepareTemplate creates spec.Name from spec.Image as a stopped
	// template whose root file system is already shifted to the daemon's
	// id map, so that copies of it (InstanceSpec.CopyOf) start without
	// the shift LXD 5.0.2 does at a container's first start.
	PrepareTemplate(ctx context.Context, spec InstanceSpec) error
	// UpdateInstance brings config, devices and limits of an existing
	// instance to spec and reports whether it changed anything.
	UpdateInstance(ctx context.Context, spec InstanceSpec) (bool, error)
	StartInstance(ctx context.Context, name string) error
	StopInstance(ctx context.Context, name string, force bool) error
	DeleteInstance(ctx context.Context, name string) error
	// ExportInstance writes an LXD backup tarball of the instance to w,
	// compressed with ExportCompression (zstd).
	ExportInstance(ctx context.Context, name string, w io.Writer) error
	// ImportInstance creates instance name from a tarball ExportInstance
	// wrote, on storage pool pool, stopped.
	ImportInstance(ctx context.Context, name, pool string, r io.Reader) error

	// Exec runs cmd in the instance and returns its exit code.
	Exec(ctx context.Context, name string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error)
	PushFile(ctx context.Context, name, path string, data []byte, mode os.FileMode) error
	PullFile(ctx context.Context, name, path string) ([]byte, error) // ErrNotFound when absent
	// PushFileGroup is PushFile with group gid; Symlink makes path a
	// symbolic link to target; FileExists looks for path without reading
	// it. All three work on a stopped container too.
	PushFileGroup(ctx context.Context, name, path string, data []byte, mode os.FileMode, gid int) error
	Symlink(ctx context.Context, name, path, target string) error
	FileExists(ctx context.Context, name, path string) (bool, error)
}
