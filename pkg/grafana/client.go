// Package grafana is a small client for the part of Grafana's HTTP API that
// karana's sync uses: organisations, users, org membership and data sources.
// Every "already exists" and "not found" answer comes back as an *APIError
// that errors.Is matches against ErrConflict, ErrPreconditionFailed or
// ErrNotFound, so callers branch on status codes, never on message text.
package grafana

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds every request when Client.Timeout is zero.
const DefaultTimeout = 10 * time.Second

const maxBody = 8 << 20

// Sentinel errors matched by *APIError.Is.
var (
	ErrNotFound           = errors.New("not found")           // 404
	ErrConflict           = errors.New("already exists")      // 409
	ErrPreconditionFailed = errors.New("precondition failed") // 412 (user exists)
	ErrUnauthorized       = errors.New("unauthorized")        // 401
	ErrForbidden          = errors.New("permission denied")   // 403
)

// APIError is a non-2xx answer from Grafana.
type APIError struct {
	Call    string // e.g. "POST /api/orgs"
	Status  int
	Message string // Grafana's {"message": ...}
}

func (e *APIError) Error() string {
	return fmt.Sprintf("grafana: %s: %d %s", e.Call, e.Status, e.Message)
}

// Is maps status codes onto the sentinel errors.
func (e *APIError) Is(target error) bool {
	want := map[error]int{
		ErrNotFound: 404, ErrConflict: 409, ErrPreconditionFailed: 412,
		ErrUnauthorized: 401, ErrForbidden: 403,
	}
	code, ok := want[target]
	return ok && code == e.Status
}

// Client talks to one Grafana with one set of Basic-auth credentials.
type Client struct {
	base     *url.URL
	user     string
	password string
	hc       *http.Client
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
}

// New returns a client for the Grafana at rawURL (for example
// http://10.0.12.11:3000), authenticating as user (a server admin for the
// admin calls). hc may be nil.
func New(rawURL, user, password string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("grafana: parsing url %q: %w", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("grafana: url %q: want http://host:port or https://host:port", rawURL)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{base: u, user: user, password: password, hc: hc}, nil
}

// As returns a copy of c that authenticates as another user.
func (c *Client) As(user, password string) *Client {
	cp := *c
	cp.user, cp.password = user, password
	return &cp
}

// request is one API call. orgID, when non-zero, is sent as
// X-Grafana-Org-Id to select the organisation for per-org calls.
type request struct {
	method string
	path   string // already escaped
	query  url.Values
	orgID  int64
	in     any
	out    any
}

func (c *Client) do(ctx context.Context, r request) error {
	call := r.method + " " + r.path
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var body io.Reader
	if r.in != nil {
		data, err := json.Marshal(r.in)
		if err != nil {
			return fmt.Errorf("grafana: %s: encoding request: %w", call, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, strings.TrimSuffix(c.base.String(), "/")+r.path, body)
	if err != nil {
		return fmt.Errorf("grafana: %s: %w", call, err)
	}
	if len(r.query) > 0 {
		req.URL.RawQuery = r.query.Encode()
	}
	req.Header.Set("Accept", "application/json")
	if r.in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.orgID != 0 {
		req.Header.Set("X-Grafana-Org-Id", strconv.FormatInt(r.orgID, 10))
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("grafana: %s: %w", call, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("grafana: %s: reading answer: %w", call, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apiError(call, resp.StatusCode, data)
	}
	if r.out != nil {
		if err := json.Unmarshal(data, r.out); err != nil {
			return fmt.Errorf("grafana: %s: decoding answer: %w", call, err)
		}
	}
	return nil
}

func apiError(call string, status int, body []byte) error {
	var e struct {
		Message string `json:"message"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		msg = e.Message
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &APIError{Call: call, Status: status, Message: msg}
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// Health is GET /api/health, which needs no credentials.
type Health struct {
	Database string `json:"database"`
	Version  string `json:"version"`
}

// Health reports Grafana's health.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/health", out: &h})
	return h, err
}
