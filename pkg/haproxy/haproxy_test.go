package haproxy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeCfg(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	if _, err := Find(); err != nil {
		t.Skip(err)
	}
	good := writeCfg(t, "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend f\n    bind 127.0.0.1:1\n    http-request return status 200\n")
	if err := Check(context.Background(), good); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
	bad := writeCfg(t, "frontend f\n    bind 127.0.0.1:1\n    no-such-keyword yes\n")
	err := Check(context.Background(), bad)
	var ce *CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("invalid config: got %v, want a *CheckError", err)
	}
	for _, w := range []string{"haproxy refuses " + bad, "no-such-keyword", "ALERT"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not quote %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "haproxy version is") {
		t.Errorf("error keeps the banner: %q", err)
	}
}

func TestCheckWarningIsError(t *testing.T) {
	if _, err := Find(); err != nil {
		t.Skip(err)
	}
	// No timeouts: HAProxy warns, and -dW makes that fatal.
	p := writeCfg(t, "frontend f\n    mode http\n    bind 127.0.0.1:1\n    http-request return status 200\n")
	if err := Check(context.Background(), p); err == nil {
		t.Error("a configuration with warnings passed")
	}
}

func TestFindEnv(t *testing.T) {
	t.Setenv(Env, filepath.Join(t.TempDir(), "nope"))
	_, err := Find()
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
	if err := Check(context.Background(), "x.cfg"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Check: got %v, want ErrNotFound", err)
	}
}
