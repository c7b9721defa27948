package host

import (
	"errors"
	"slices"
	"testing"
)

func TestMissingPackages(t *testing.T) {
	onPath := map[string]bool{"debootstrap": true}
	look := func(bin string) (string, error) {
		if onPath[bin] {
			return "/usr/sbin/" + bin, nil
		}
		return "", errors.New("not found")
	}
	tools := map[string]string{"debootstrap": "debootstrap", "mksquashfs": "squashfs-tools", "unsquashfs": "squashfs-tools", "zstd": "zstd"}
	if got, want := MissingPackages(tools, look), []string{"squashfs-tools", "zstd"}; !slices.Equal(got, want) {
		t.Fatalf("missing = %v, want %v", got, want)
	}
	onPath["mksquashfs"], onPath["unsquashfs"], onPath["zstd"] = true, true, true
	if got := MissingPackages(tools, look); len(got) != 0 {
		t.Fatalf("nothing should be missing, got %v", got)
	}
}
