package lxd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	lxdclient "github.com/canonical/lxd/client"
	"github.com/canonical/lxd/shared/api"
)

// ImageFingerprint returns the fingerprint the alias points at.
func (c *client) ImageFingerprint(ctx context.Context, alias string) (string, error) {
	a, _, err := c.srv(ctx).GetImageAlias(alias)
	if err != nil {
		return "", fmt.Errorf("getting image %q: %w", alias, notFound(err))
	}
	return a.Target, nil
}

// GetImage returns the image the alias points at.
func (c *client) GetImage(ctx context.Context, alias string) (*Image, error) {
	fp, err := c.ImageFingerprint(ctx, alias)
	if err != nil {
		return nil, err
	}
	img, _, err := c.srv(ctx).GetImage(fp)
	if err != nil {
		return nil, fmt.Errorf("getting image %q (%s): %w", alias, fp, notFound(err))
	}
	return &Image{Alias: alias, Fingerprint: img.Fingerprint, Size: img.Size,
		Properties: img.Properties, CreatedAt: img.CreatedAt, Architecture: img.Architecture}, nil
}

// ImportImage uploads a split image (metadata and rootfs tarballs) and
// points alias at it. The image an alias pointed at before is deleted
// when no alias refers to it any more. Importing content LXD already has
// just moves the alias.
func (c *client) ImportImage(ctx context.Context, alias string, meta, rootfs io.Reader) (string, error) {
	s := c.srv(ctx)
	// LXD fingerprints a split image as sha256(meta || rootfs), the order
	// in which the upload reads them.
	h := sha256.New()
	args := &lxdclient.ImageCreateArgs{
		MetaFile: io.TeeReader(meta, h), MetaName: "meta.tar.gz",
		RootfsFile: io.TeeReader(rootfs, h), RootfsName: "rootfs.tar.gz",
		Type: "container",
	}
	op, err := s.CreateImage(api.ImagesPost{}, args)
	err = c.wait(ctx, op, err)
	fp := ""
	switch {
	case err == nil:
		fp, _ = op.Get().Metadata["fingerprint"].(string)
	case strings.Contains(err.Error(), "already exists"):
		fp = hex.EncodeToString(h.Sum(nil))
	default:
		return "", fmt.Errorf("importing image %q: %w", alias, err)
	}
	if fp == "" {
		return "", fmt.Errorf("importing image %q: LXD returned no fingerprint", alias)
	}
	if err := c.pointAlias(ctx, alias, fp); err != nil {
		return "", fmt.Errorf("importing image %q: %w", alias, err)
	}
	return fp, nil
}

func (c *client) pointAlias(ctx context.Context, alias, fp string) error {
	s := c.srv(ctx)
	old, etag, err := s.GetImageAlias(alias)
	if isNotFound(err) {
		entry := api.ImageAliasesPost{ImageAliasesEntry: api.ImageAliasesEntry{
			Name: alias, Type: "container", Target: fp, Description: "karana",
		}}
		return s.CreateImageAlias(entry)
	}
	if err != nil {
		return fmt.Errorf("getting alias: %w", err)
	}
	if old.Target == fp {
		return nil
	}
	put := api.ImageAliasesEntryPut{Description: old.Description, Target: fp}
	if err := s.UpdateImageAlias(alias, put, etag); err != nil {
		return fmt.Errorf("moving alias to %s: %w", fp, err)
	}
	if img, _, err := s.GetImage(old.Target); err == nil && len(img.Aliases) == 0 {
		op, err := s.DeleteImage(old.Target)
		_ = c.wait(ctx, op, err) // only tidying; the new image is in place
	}
	return nil
}
