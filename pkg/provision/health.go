package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/karana-project/karana/pkg/lxd"
	"github.com/karana-project/karana/pkg/secrets"
)

// httpClient connects the way ctx says (lxd.WithDialer: through a
// container, for a remote daemon; else directly) and keeps no idle
// connections, which would each hold an LXD exec open.
func httpClient(ctx context.Context, timeout time.Duration) *http.Client {
	return dialingClient(ctx, timeout, 0)
}

// dialingClient is httpClient whose connection attempts give up after
// connect (0: the dialer's own timeout).
func dialingClient(ctx context.Context, timeout, connect time.Duration) *http.Client {
	dial := lxd.DialerFrom(ctx)
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if connect > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, connect)
				defer cancel()
			}
			return dial(ctx, network, addr)
		},
		DisableKeepAlives: true,
	}}
}

// Check asks the service at addr once whether it is healthy.
func Check(ctx context.Context, addr netip.Addr, p Probe) error {
	return check(ctx, addr, p, 0)
}

func check(ctx context.Context, addr netip.Addr, p Probe, connect time.Duration) error {
	u := fmt.Sprintf("http://%s%s", netip.AddrPortFrom(addr, uint16(p.Port)), p.Path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := dialingClient(ctx, 3*time.Second, connect).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != p.Status {
		return fmt.Errorf("GET %s: %s, want %d", u, resp.Status, p.Status)
	}
	return nil
}

// WaitHealthy polls Check until it succeeds, ctx ends or timeout passes,
// and then returns the last error.
func WaitHealthy(ctx context.Context, addr netip.Addr, p Probe, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Every 100 ms while a just-started service is expected (a refused
	// connection costs nothing), then every second. While the container's
	// network comes up, a connection attempt's first SYN is lost and
	// retried by the kernel only after a second: a direct attempt gives
	// up after 200 ms instead, so the next one starts afresh. (Through a
	// tunnel the dial is an LXD exec, slower than that.)
	start := time.Now()
	for {
		connect := 200 * time.Millisecond
		if lxd.Tunneled(ctx) || time.Since(start) > 10*time.Second {
			connect = 0
		}
		err := check(ctx, addr, p, connect)
		if err == nil {
			return nil
		}
		delay := 100 * time.Millisecond
		if time.Since(start) > 10*time.Second {
			delay = time.Second
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not healthy after %s: %w", timeout, err)
		case <-time.After(delay):
		}
	}
}

// BootstrapInflux makes cred an InfluxDB admin. Before any admin exists
// InfluxDB accepts exactly this statement without authentication; after,
// it is authenticated as cred and changes nothing, so it is safe to repeat.
func BootstrapInflux(ctx context.Context, baseURL string, cred secrets.Credential) error {
	q := fmt.Sprintf("CREATE USER %s WITH PASSWORD %s WITH ALL PRIVILEGES", QuoteIdent(cred.User), QuoteString(cred.Password))
	form := url.Values{"q": {q}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/query", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(cred.User, cred.Password)
	resp, err := httpClient(ctx, 10*time.Second).Do(req)
	if err != nil {
		return fmt.Errorf("creating InfluxDB admin %q: %w", cred.User, err)
	}
	defer resp.Body.Close()
	var body struct {
		Error   string `json:"error"`
		Results []struct {
			Error string `json:"error"`
		} `json:"results"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("creating InfluxDB admin %q: another admin password is set than the one in the secrets file", cred.User)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("creating InfluxDB admin %q: %s %s", cred.User, resp.Status, body.Error)
	case len(body.Results) > 0 && body.Results[0].Error != "":
		return fmt.Errorf("creating InfluxDB admin %q: %s", cred.User, body.Results[0].Error)
	}
	return nil
}

// QuoteIdent quotes an InfluxQL identifier.
func QuoteIdent(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// QuoteString quotes an InfluxQL string literal.
func QuoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return `'` + r.Replace(s) + `'`
}

// DialCheck tells whether a TCP connection to addr is accepted.
func DialCheck(ctx context.Context, addr netip.AddrPort) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := lxd.DialerFrom(ctx)(ctx, "tcp", addr.String())
	if err != nil {
		return err
	}
	return c.Close()
}
