package lxd

import (
	"errors"
	"testing"
)

func TestFileServerGoneIsRetriedOnly(t *testing.T) {
	gone := errors.New(`dial unix /proc/self/fd/685/forkfile.sock: connect: no such file or directory`)
	if !fileServerGone(gone) {
		t.Error("LXD's vanished file server is not recognised")
	}
	for _, err := range []error{nil, errors.New("not found"), errors.New(`sftp: "lstat /x/: not a directory" (SSH_FX_FAILURE)`)} {
		if fileServerGone(err) {
			t.Errorf("%v taken for a vanished file server", err)
		}
	}
}
