package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/karana-project/karana/pkg/grafana"
)

// start runs the command with config until the test ends and returns a
// client for it logged in as user/password.
func start(t *testing.T, cfgPath, user, password string) *grafana.Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	var log bytes.Buffer
	go func() { done <- run(ctx, []string{"--config", cfgPath}, &log, func(a string) { addr <- a }) }()
	var a string
	select {
	case a = <-addr:
	case err := <-done:
		cancel()
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	c, err := grafana.New("http://"+a, user, password, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeIni(t *testing.T, dir, password string) string {
	t.Helper()
	p := filepath.Join(dir, "grafana.ini")
	ini := "[server]\nhttp_addr = 127.0.0.1\nhttp_port = 0\nroot_url = https://grafana.t1.example/\n" +
		"[security]\nadmin_user = boss\nadmin_password = " + password + "\n[paths]\ndata = " + filepath.Join(dir, "data") + "\n"
	if err := os.WriteFile(p, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := writeIni(t, dir, "first-pw")
	ctx := context.Background()

	ctx1, cancel := context.WithCancel(ctx)
	addr, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx1, []string{"--config", cfg}, &bytes.Buffer{}, func(a string) { addr <- a }) }()
	c, _ := grafana.New("http://"+<-addr, "boss", "first-pw", nil)
	if h, err := c.Health(ctx); err != nil || h.Database != "ok" {
		t.Fatalf("health = %+v, %v", h, err)
	}
	orgID, err := c.CreateOrg(ctx, "kept")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "grafana-standin.json")); err != nil {
		t.Fatalf("state file: %v", err)
	}

	// As in Grafana, the ini's admin password only counts on first start.
	writeIni(t, dir, "changed-pw")
	c2 := start(t, cfg, "boss", "first-pw")
	if o, err := c2.OrgByName(ctx, "kept"); err != nil || o.ID != orgID {
		t.Fatalf("after restart org = %+v, %v; want id %d", o, err, orgID)
	}
	if _, err := c2.As("boss", "changed-pw").CurrentUser(ctx); !errors.Is(err, grafana.ErrUnauthorized) {
		t.Fatalf("ini password change after first start: got %v, want 401", err)
	}
}

func TestBadConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "grafana.ini")
	os.WriteFile(p, []byte("[server]\nhttp_port = three thousand\n"), 0o600)
	err := run(context.Background(), []string{"--config", p}, &bytes.Buffer{}, nil)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("http_port")) {
		t.Fatalf("got %v, want an error naming http_port", err)
	}
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{"), 0o600)
	err = run(context.Background(), []string{"--config", filepath.Join(dir, "none.ini"), "--state", filepath.Join(dir, "bad.json")}, &bytes.Buffer{}, nil)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("bad.json")) {
		t.Fatalf("got %v, want an error naming the state file", err)
	}
}
