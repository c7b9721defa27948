package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"maps"
	"os/exec"
	"runtime"
	"slices"
	"time"

	"gopkg.in/yaml.v3"
)

// lxdArch is LXD's name for the architecture karana runs on.
func lxdArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return runtime.GOARCH
}

type template struct {
	When     []string `yaml:"when"`
	Template string   `yaml:"template"`
}

type metadata struct {
	Architecture string              `yaml:"architecture"`
	CreationDate int64               `yaml:"creation_date"`
	Properties   map[string]string   `yaml:"properties"`
	Templates    map[string]template `yaml:"templates"`
}

// Properties of an image built from r on b.
func properties(r Recipe, b Base) map[string]string {
	return map[string]string{
		"description":    fmt.Sprintf("karana %s (Debian %s)", r.Role, b.Suite),
		"os":             "debian",
		"release":        b.Suite,
		"architecture":   lxdArch(),
		"karana.role":    r.Role,
		"karana.recipe":  r.Hash(b),
		"karana.note":    r.Note,
		"karana.variant": r.Variant,
	}
}

// metadataTarball is the image's metadata: metadata.yaml and the
// templates for /etc/hostname and /etc/hosts, gzipped.
func metadataTarball(props map[string]string, now time.Time) ([]byte, error) {
	m := metadata{
		Architecture: lxdArch(), CreationDate: now.Unix(), Properties: props,
		Templates: map[string]template{
			"/etc/hostname": {When: []string{"create", "copy"}, Template: "hostname.tpl"},
			"/etc/hosts":    {When: []string{"create", "copy"}, Template: "hosts.tpl"},
		},
	}
	y, err := yaml.Marshal(m)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	add := func(name string, mode int64, data []byte) error {
		hdr := &tar.Header{Name: name, Mode: mode, Size: int64(len(data)), ModTime: now, Typeflag: tar.TypeReg}
		if data == nil {
			hdr.Typeflag, hdr.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add("metadata.yaml", 0o644, y); err != nil {
		return nil, err
	}
	if err := add("templates/", 0o755, nil); err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(hostTemplates)) {
		if err := add("templates/"+name, 0o644, []byte(hostTemplates[name])); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// packRootfs writes dir as a zstd squashfs (about 2 s for a base image,
// against over a minute with mksquashfs's default gzip; LXD unpacks it
// with unsquashfs) or, without squashfs-tools, as a tar.gz.
func packRootfs(ctx context.Context, dir, out string) (string, error) {
	if _, err := exec.LookPath("mksquashfs"); err == nil {
		err := run(ctx, "mksquashfs", dir, out+".squashfs", "-noappend", "-comp", "zstd", "-Xcompression-level", "3", "-quiet",
			"-e", ".karana-complete")
		return out + ".squashfs", err
	}
	err := run(ctx, "tar", "-C", dir, "--numeric-owner", "--xattrs", "--xattrs-include=*",
		"--exclude=./.karana-complete", "-czf", out+".tar.gz", ".")
	return out + ".tar.gz", err
}
