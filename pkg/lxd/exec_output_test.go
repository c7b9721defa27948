package lxd

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// stalledReader blocks in Read until release is closed, then ends; it
// says on started when the first Read began.
type stalledReader struct{ started, release chan struct{} }

func (r stalledReader) Read([]byte) (int, error) {
	select {
	case r.started <- struct{}{}:
	default:
	}
	<-r.release
	return 0, io.EOF
}

// LXD's client copies stdout and stderr with io.Copy in two goroutines.
// Here stderr's copy is mid-read when stdout's copies "hello": with the
// buffer handed over as it is, stderr's Buffer.ReadFrom ends by cutting the
// buffer back to empty.
func TestExecOutputCombinedKeepsBothStreams(t *testing.T) {
	var buf bytes.Buffer
	o := newExecOutput(&buf, &buf)
	r := stalledReader{started: make(chan struct{}, 1), release: make(chan struct{})}
	done := make(chan error)
	go func() {
		_, err := io.Copy(o.stderr, r)
		done <- err
	}()
	<-r.started
	if _, err := io.Copy(o.stdout, strings.NewReader("hello\n")); err != nil {
		t.Fatal(err)
	}
	close(r.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if buf.String() != "hello\n" {
		t.Errorf("combined output = %q, want %q", buf.String(), "hello\n")
	}
	o.close()
	if n, err := o.stdout.Write([]byte("late")); n != 4 || err != nil || buf.String() != "hello\n" {
		t.Errorf("write after close: n=%d err=%v buffer %q; want it dropped", n, err, buf.String())
	}
	if _, ok := o.stdout.(io.ReaderFrom); ok {
		t.Error("the writers must not offer ReadFrom")
	}
}

func TestSentinelErrors(t *testing.T) {
	for _, tt := range []struct {
		msg  string
		want error
	}{
		{"Instance is not running", ErrNotRunning},
		{"Instance is busy running a \"create\" operation", ErrBusy},
	} {
		err := notFound(errors.New(tt.msg))
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%q: %v, want %v keeping LXD's words", tt.msg, err, tt.want)
		}
	}
	if err := notFound(errors.New("other")); errors.Is(err, ErrNotRunning) || errors.Is(err, ErrBusy) || errors.Is(err, ErrNotFound) {
		t.Errorf("an unrelated error became a sentinel: %v", err)
	}
}
