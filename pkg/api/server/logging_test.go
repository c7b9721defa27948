package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/api"
)

// Nothing secret reaches the log, even at debug level and on failures.
func TestNoSecretIsLogged(t *testing.T) {
	var buf bytes.Buffer
	cfg := testConfig(t)
	app, err := api.Build(context.Background(), cfg, api.Options{Test: true, Log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(context.Background())
	e := &env{t: t, cfg: cfg, app: app}
	e.admin = e.login("admin@example.com", "admin")
	_, tok := e.createUser("alice", "client")
	e.do("POST", "/v1/users/login", "", map[string]string{"user": "alice@example.org", "password": "wrong-password-xyz"})
	e.do("GET", "/v1/users/", tok[:len(tok)-3]+"AAA", nil) // a refused token is logged at debug
	e.do("POST", "/v1/sync/all/db", e.admin, nil)
	log := buf.String()
	if !strings.Contains(log, "token refused") || !strings.Contains(log, "msg=request method=POST path=/v1/users/new status=201") {
		t.Fatalf("the debug log was not written:\n%s", log)
	}
	for _, secret := range []string{"password-alice", "wrong-password-xyz", e.admin, tok, tok[:len(tok)-3], cfg.JWT.Secret, "$argon2id$"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log contains a secret %.12q...:\n%s", secret, log)
		}
	}
}
