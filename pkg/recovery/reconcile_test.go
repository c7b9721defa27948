package recovery

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/inventory"
)

// The API's login and reconcile as pkg/api/server answers them; the
// inventory points the tenant's API address at the test server by port.
func TestAPIReconcilerLogsInThenReconciles(t *testing.T) {
	var got []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/v1/users/login":
			var b map[string]string
			json.NewDecoder(r.Body).Decode(&b)
			if b["login"] != "admin@acme.test" || b["password"] != "pw" {
				w.WriteHeader(401)
				return
			}
			w.Write([]byte(`{"results":[{"token":"T1"}]}`))
		case "/v1/sync/all/reconcile":
			if r.Header.Get("Authorization") != "Bearer T1" {
				w.WriteHeader(401)
				return
			}
			w.Write([]byte(`{"results":[{"resource":"users","id":"u1","changed":true},{"resource":"karanas","id":"k1","changed":false}]}`))
		}
	}))
	ln, err := net.Listen("tcp", "127.0.0.12:0")
	if err != nil {
		t.Skip("cannot listen on 127.0.0.12:", err)
	}
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	// slot 0 on 127.0.0.0/24 puts the API at 127.0.0.12.
	inv, err := inventory.Parse(filepath.Join(t.TempDir(), "inv.yaml"), []byte("lxd: {network: {ipv4: 127.0.0.1/24}}\nservices: {api: {port: "+port+"}}\ntenants:\n  - {name: acme, domain: acme.test, slot: 0}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if inv.TenantAddr(inv.Tenants[0], inventory.RoleAPI).String() != "127.0.0.12" {
		t.Skip("address plan changed")
	}
	a := APIReconciler{Credentials: func(*inventory.Inventory, inventory.Tenant) (string, string, error) {
		return "admin@acme.test", "pw", nil
	}}
	did, err := a.Reconcile(context.Background(), inv, inv.Tenants[0])
	if err != nil || did != "reconciled: 1 of 2 record(s) changed" {
		t.Fatalf("Reconcile = %q, %v (requests %v)", did, err, got)
	}
	if len(got) != 2 || got[1] != "POST /v1/sync/all/reconcile Bearer T1" {
		t.Errorf("requests %v", got)
	}
	a.Credentials = func(*inventory.Inventory, inventory.Tenant) (string, string, error) {
		return "admin@acme.test", "wrong", nil
	}
	if _, err := a.Reconcile(context.Background(), inv, inv.Tenants[0]); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("wrong password: %v", err)
	}
	a.Credentials = func(*inventory.Inventory, inventory.Tenant) (string, string, error) { return "", "", ErrNoCredentials }
	if did, err := a.Reconcile(context.Background(), inv, inv.Tenants[0]); err != nil || !strings.HasPrefix(did, "skipped") {
		t.Errorf("no credentials: %q, %v", did, err)
	}
}
