package lxd_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/testenv"
)

// TestIntegrationExecOutputComplete runs short commands many times: every
// run must hand back all of its output, also when stdout and stderr are the
// same buffer (combined output). That case lost all of it about every
// other time: LXD's client copies the two streams in two goroutines with
// io.Copy, which used bytes.Buffer.ReadFrom on the one buffer at once.
func TestIntegrationExecOutputComplete(t *testing.T) {
	c := connect(t)
	cleanProject(t, c)
	setup(t, c)
	ctx := context.Background()
	meta, rootfs := tinyImage(t, "exec output test")
	_, err := c.ImportImage(ctx, testAlias, bytes.NewReader(meta), bytes.NewReader(rootfs))
	must(t, err)
	spec := testSpec()
	spec.Name, spec.IPv4, spec.Devices = "d1-exec", testenv.Subnet(16, 51, ""), nil
	must(t, c.CreateInstance(ctx, spec))
	t.Cleanup(func() {
		_ = c.StopInstance(ctx, spec.Name, true)
		_ = c.DeleteInstance(ctx, spec.Name)
	})
	checkExists := func(state string) {
		for p, want := range map[string]bool{"/sbin/init": true, "/sbin": true, "/sbin/": true, "/nope": false, "/nope/x": false} {
			if got, err := c.FileExists(ctx, spec.Name, p); err != nil || got != want {
				t.Errorf("%s: FileExists(%s) = %v, %v; want %v", state, p, got, err, want)
			}
		}
	}
	checkExists("stopped")
	must(t, c.StartInstance(ctx, spec.Name))
	checkExists("running")
	if _, err := c.PullFile(ctx, spec.Name, "/sbin"); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("PullFile of a folder: %v", err)
	}

	big := make([]byte, 100000)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	cases := []struct {
		name     string
		combined bool // one buffer for stdout and stderr
		cmd      []string
		out, eo  string
	}{
		{"stderr", false, []string{"/sbin/init", "echo", "out", "err:oops"}, "out\n", "oops\n"},
		{"100k", false, []string{"/sbin/init", "bytes", "100000"}, string(big) + "end\n", ""},
		{"echo combined", true, []string{"/sbin/init", "echo", "hello"}, "hello\n", ""},
		{"stderr combined", true, []string{"/sbin/init", "echo", "err:oops"}, "oops\n", ""},
		{"100k combined", true, []string{"/sbin/init", "bytes", "100000"}, string(big) + "end\n", ""},
	}
	t.Run("concurrent", func(t *testing.T) { testExecConcurrent(t, c, spec.Name) })
	// Only the exit code wanted: run without recording any output.
	for _, want := range []int{0, 3} {
		code, err := c.Exec(ctx, spec.Name, []string{"/sbin/init", "exit", strconv.Itoa(want)}, nil, io.Discard, nil)
		if err != nil || code != want {
			t.Errorf("exit %d without output: code %d, %v", want, code, err)
		}
	}
	const runs = 50
	for _, tc := range cases {
		bad := 0
		for i := 0; i < runs; i++ {
			var out, errOut bytes.Buffer
			stderr := &errOut
			if tc.combined {
				stderr = &out
			}
			code, err := c.Exec(ctx, spec.Name, tc.cmd, nil, &out, stderr)
			if err != nil || code != 0 || out.String() != tc.out || errOut.String() != tc.eo {
				bad++
				if bad <= 3 {
					t.Errorf("%s run %d: code=%d err=%v stdout %d bytes %q, stderr %q; want %d bytes, stderr %q",
						tc.name, i, code, err, out.Len(), clip(out.String()), errOut.String(), len(tc.out), tc.eo)
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d runs lost output", tc.name, bad, runs)
		}
	}
}

// testExecConcurrent runs many commands at once, as converging several
// containers in parallel does: every one must end and bring its output.
// Some never ended (the end of their operation was missed) before wait
// also asked LXD for the operation.
func testExecConcurrent(t *testing.T, c lxd.Client, name string) {
	const n = 40
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var out bytes.Buffer
			want := fmt.Sprintf("run %d\n", i)
			code, err := c.Exec(ctx, name, []string{"/sbin/init", "echo", strings.TrimSpace(want)}, nil, &out, &out)
			if err == nil && (code != 0 || out.String() != want) {
				err = fmt.Errorf("code %d, output %q, want %q", code, out.String(), want)
			}
			errs <- err
		}()
	}
	bad := 0
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			bad++
			t.Error(err)
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d concurrent runs failed", bad, n)
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:20] + "..." + s[len(s)-20:]
	}
	return strings.TrimSpace(s)
}
