package recovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/lxd"
)

// ErrNoCredentials is what a credentials source returns for a tenant
// whose API has no admin karana knows the password of.
var ErrNoCredentials = errors.New("no API admin credentials")

// APIReconciler logs in to the tenant's API as its admin (POST
// /v1/users/login) and asks it for its full reconcile (POST
// /v1/sync/all/reconcile), straight at the API container's address.
type APIReconciler struct {
	// Credentials returns the API admin's login and password.
	Credentials func(inv *inventory.Inventory, t inventory.Tenant) (login, password string, err error)
	HTTP        *http.Client // nil: 5 minutes timeout (a reconcile walks every record)
}

// Reconcile implements Reconciler.
func (a APIReconciler) Reconcile(ctx context.Context, inv *inventory.Inventory, t inventory.Tenant) (string, error) {
	if a.Credentials == nil {
		return "skipped: " + ErrNoCredentials.Error(), nil
	}
	login, password, err := a.Credentials(inv, t)
	if errors.Is(err, ErrNoCredentials) {
		return "skipped: " + err.Error(), nil
	}
	if err != nil {
		return "", err
	}
	hc := a.HTTP
	if hc == nil {
		// Through the context's dialer: from inside lb0 for a remote LXD.
		dial := lxd.DialerFrom(ctx)
		tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dial(ctx, network, addr)
		}}
		defer tr.CloseIdleConnections()
		hc = &http.Client{Timeout: 5 * time.Minute, Transport: tr}
	}
	base := fmt.Sprintf("http://%s:%d", inv.TenantAddr(t, inventory.RoleAPI), inv.Services.API.Port)
	var tok struct {
		Results []struct {
			Token string `json:"token"`
		} `json:"results"`
	}
	if code, err := call(ctx, hc, base+"/v1/users/login", "", map[string]string{"login": login, "password": password}, &tok); err != nil {
		return "", fmt.Errorf("logging in to %s as %q: %w", base, login, err)
	} else if code != http.StatusOK || len(tok.Results) == 0 || tok.Results[0].Token == "" {
		return "", fmt.Errorf("logging in to %s as %q: HTTP %d", base, login, code)
	}
	var out struct {
		Results []struct {
			Resource string `json:"resource"`
			ID       string `json:"id"`
			Changed  bool   `json:"changed"`
			Error    string `json:"error"`
		} `json:"results"`
	}
	code, err := call(ctx, hc, base+"/v1/sync/all/reconcile", tok.Results[0].Token, map[string]string{}, &out)
	if err != nil {
		return "", fmt.Errorf("reconcile of %s: %w", base, err)
	}
	if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		return fmt.Sprintf("skipped: the API has no reconcile (HTTP %d)", code), nil
	}
	if code != http.StatusOK {
		return "", fmt.Errorf("reconcile of %s: HTTP %d", base, code)
	}
	changed, failed, first := 0, 0, ""
	for _, r := range out.Results {
		if r.Error != "" {
			if failed++; failed == 1 {
				first = fmt.Sprintf("%s %s: %s", r.Resource, r.ID, r.Error)
			}
		} else if r.Changed {
			changed++
		}
	}
	if failed > 0 {
		return "", fmt.Errorf("reconcile of %s: %d of %d record(s) failed, first %s", base, failed, len(out.Results), first)
	}
	return fmt.Sprintf("reconciled: %d of %d record(s) changed", changed, len(out.Results)), nil
}

func call(ctx context.Context, hc *http.Client, url, token string, body, into any) (int, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, into); err != nil {
			return resp.StatusCode, fmt.Errorf("reading the answer: %w", err)
		}
	}
	return resp.StatusCode, nil
}

// DefaultReconciler is the API reconciler with the admin credentials
// from the tenant's secrets file.
func DefaultReconciler() Reconciler {
	return APIReconciler{Credentials: secretsCredentials}
}
