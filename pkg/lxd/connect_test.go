package lxd

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/inventory"
)

func TestConnectHTTPSWithoutCertificateSaysHowToGetOne(t *testing.T) {
	dir := t.TempDir()
	_, err := Connect(context.Background(), inventory.LXD{Endpoint: "https://192.0.2.10:8443",
		ClientCert: filepath.Join(dir, "client.crt"), ClientKey: filepath.Join(dir, "client.key"), Project: "p"})
	if err == nil || !strings.Contains(err.Error(), "client.crt does not exist") || !strings.Contains(err.Error(), "karana remote trust") {
		t.Errorf("err = %v, want the missing file and karana remote trust", err)
	}
}

func TestRemote(t *testing.T) {
	for ep, want := range map[string]bool{"https://h:8443": true, "unix": false, "unix:///x.sock": false, "": false} {
		if got := (inventory.LXD{Endpoint: ep}).Remote(); got != want {
			t.Errorf("Remote(%q) = %v", ep, got)
		}
	}
}
