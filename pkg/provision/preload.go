package provision

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/karana-project/karana/pkg/lxd"
)

// Preloader is the part of the LXD client that writes into a container
// that has not started yet.
type Preloader interface {
	PullFile(ctx context.Context, name, path string) ([]byte, error)
	PushFileGroup(ctx context.Context, name, path string, data []byte, mode os.FileMode, gid int) error
	Symlink(ctx context.Context, name, path, target string) error
	FileExists(ctx context.Context, name, path string) (bool, error)
}

// ErrNotPreloadable says that a container's image does not let Preload
// configure it before its first boot: the role's unit is unknown to it (a
// plain image), or its service has already run and kept state. The caller
// boots the container and configures it with Apply instead.
var ErrNotPreloadable = errors.New("the image cannot be configured before its first boot")

// unitDirs are where Preload looks for a unit the image ships.
var unitDirs = []string{"/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}

// wantsDir is where an enabled unit of karana's roles is linked: they all
// have WantedBy=multi-user.target.
const wantsDir = "/etc/systemd/system/multi-user.target.wants"

// Preload writes role's files into container, which was created from a
// local image and has not started yet, and enables role's unit, so that
// the first boot starts the service as configured: no exec, no restart.
// Each file gets its group's id from the container's /etc/group (root's
// when the group is missing, as Apply does). A container Preload stopped
// half-way holds some of the files; Apply on the booted container writes
// the rest and restarts the unit.
func Preload(ctx context.Context, r Preloader, container string, role Role) error {
	if role.State != "" {
		ran, err := r.FileExists(ctx, container, role.State)
		if err != nil {
			return err
		}
		if ran {
			return fmt.Errorf("%s: %s already exists: %w", container, role.State, ErrNotPreloadable)
		}
	}
	link, target, err := unitLink(ctx, r, container, role)
	if err != nil {
		return err
	}
	var groups map[string]int
	for _, f := range role.Files {
		gid := 0
		if f.Group != "" {
			if groups == nil {
				if groups, err = readGroups(ctx, r, container); err != nil {
					return err
				}
			}
			gid = groups[f.Group]
		}
		if err := r.PushFileGroup(ctx, container, f.Path, f.Data, f.Mode, gid); err != nil {
			return err
		}
		if len(f.Data) > largeFileDigest {
			if err := r.PushFileGroup(ctx, container, f.Path+".sha256", []byte(digest(f.Data)+"\n"), 0o644, 0); err != nil {
				return err
			}
		}
	}
	if link != "" {
		return r.Symlink(ctx, container, link, target)
	}
	return nil
}

// unitLink finds how role's unit gets enabled: the link to create in
// wantsDir and its target, or "" when the image already enables it.
func unitLink(ctx context.Context, r Preloader, container string, role Role) (link, target string, err error) {
	if role.Unit == "" {
		return "", "", nil
	}
	link = path.Join(wantsDir, role.Unit)
	for _, f := range role.Files {
		if f.Path == path.Join("/etc/systemd/system", role.Unit) {
			return link, f.Path, nil
		}
	}
	enabled, err := r.FileExists(ctx, container, link)
	if err != nil || enabled {
		return "", "", err
	}
	for _, d := range unitDirs {
		p := path.Join(d, role.Unit)
		ok, err := r.FileExists(ctx, container, p)
		if err != nil {
			return "", "", err
		}
		if ok {
			return link, p, nil
		}
	}
	return "", "", fmt.Errorf("%s: no %s in the image: %w", container, role.Unit, ErrNotPreloadable)
}

// readGroups reads group names and ids from the container's /etc/group.
func readGroups(ctx context.Context, r Preloader, container string) (map[string]int, error) {
	b, err := r.PullFile(ctx, container, "/etc/group")
	if errors.Is(err, lxd.ErrNotFound) {
		return map[string]int{}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseGroups(b), nil
}

func parseGroups(b []byte) map[string]int {
	groups := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 3 {
			continue
		}
		if gid, err := strconv.Atoi(f[2]); err == nil && gid >= 0 {
			groups[f[0]] = gid
		}
	}
	return groups
}
