package provision

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/secrets"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startInflux runs the real influxd with the configuration Influx renders
// (ports moved to free loopback ones).
func startInflux(t *testing.T) int {
	t.Helper()
	bin, err := exec.LookPath("influxd")
	if err != nil {
		t.Skip("influxd not installed")
	}
	dir := t.TempDir()
	port := freePort(t)
	conf := string(fileAt(t, Influx(testTenant(t)), InfluxConfPath).Data)
	conf = strings.ReplaceAll(conf, "/var/lib/influxdb", dir)
	conf = strings.Replace(conf, `bind-address = ":8086"`, fmt.Sprintf(`bind-address = "127.0.0.1:%d"`, port), 1)
	conf = strings.Replace(conf, "127.0.0.1:8088", fmt.Sprintf("127.0.0.1:%d", freePort(t)), 1)
	confPath := filepath.Join(dir, "influxdb.conf")
	os.WriteFile(confPath, []byte(conf), 0o644)
	cmd := exec.Command(bin, "-config", confPath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if err := WaitHealthy(context.Background(), netip.MustParseAddr("127.0.0.1"), Probe{Port: port, Path: "/ping", Status: 204}, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	return port
}

func TestBootstrapInfluxAgainstRealInfluxd(t *testing.T) {
	port := startInflux(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx := context.Background()
	admin := secrets.Credential{User: "admin", Password: "s3cret'pw"}

	// Auth is on: an anonymous query is refused once an admin exists.
	if err := BootstrapInflux(ctx, base, admin); err != nil {
		t.Fatalf("first bootstrap: %v", err)
	}
	if err := BootstrapInflux(ctx, base, admin); err != nil {
		t.Fatalf("repeated bootstrap: %v", err)
	}
	resp, err := http.Get(base + "/query?q=SHOW+DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous query: %s, want 401", resp.Status)
	}
	err = BootstrapInflux(ctx, base, secrets.Credential{User: "admin", Password: "other"})
	if err == nil || !strings.Contains(err.Error(), "secrets file") {
		t.Errorf("wrong password: %v", err)
	}
}
