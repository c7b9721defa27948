// Package influx is a small client for the InfluxDB 1.x HTTP API: every
// statement goes through POST /query, one statement per request so that each
// error maps to its statement, plus GET /ping and POST /write.
package influx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds every request when Client.Timeout is zero.
const DefaultTimeout = 10 * time.Second

const maxBody = 16 << 20

// Client talks to one InfluxDB with one set of credentials.
type Client struct {
	base     *url.URL
	user     string
	password string
	hc       *http.Client
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
}

// New returns a client for the InfluxDB at rawURL (for example
// http://10.0.12.10:8086). user may be empty when auth is disabled. hc may
// be nil for a default client.
func New(rawURL, user, password string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("influx: parsing url %q: %w", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("influx: url %q: want http://host:port or https://host:port", rawURL)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{base: u, user: user, password: password, hc: hc}, nil
}

// As returns a copy of c that authenticates as user.
func (c *Client) As(user, password string) *Client {
	cp := *c
	cp.user, cp.password = user, password
	return &cp
}

// URL returns the base URL the client talks to.
func (c *Client) URL() string { return c.base.String() }

// Series is one series of a query result.
type Series struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Values  [][]any  `json:"values"`
}

type queryResponse struct {
	Results []struct {
		StatementID int      `json:"statement_id"`
		Series      []Series `json:"series"`
		Error       string   `json:"error"`
	} `json:"results"`
	Error string `json:"error"`
}

// Ping checks that InfluxDB answers; /ping needs no credentials.
func (c *Client) Ping(ctx context.Context) error {
	resp, body, err := c.do(ctx, http.MethodGet, "/ping", nil, nil, "GET /ping")
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusNoContent {
		return httpError("GET /ping", resp.StatusCode, body)
	}
	return nil
}

// Exec runs a statement that returns no rows.
func (c *Client) Exec(ctx context.Context, st Statement) error {
	_, err := c.Query(ctx, st)
	return err
}

// Query runs one statement and returns its series. A statement-level error
// comes back as *StatementError, an HTTP-level one as *HTTPError.
func (c *Client) Query(ctx context.Context, st Statement) ([]Series, error) {
	return c.query(ctx, "", st)
}

// QueryDB is Query with db as the default database (needed for SELECT).
func (c *Client) QueryDB(ctx context.Context, db string, st Statement) ([]Series, error) {
	return c.query(ctx, db, st)
}

func (c *Client) query(ctx context.Context, db string, st Statement) ([]Series, error) {
	form := url.Values{"q": {st.Text}}
	if db != "" {
		form.Set("db", db)
	}
	call := "POST /query " + st.Redacted
	resp, body, err := c.do(ctx, http.MethodPost, "/query", nil, strings.NewReader(form.Encode()), call)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, httpError(call, resp.StatusCode, body)
	}
	var qr queryResponse
	if err := json.Unmarshal(body, &qr); err != nil {
		return nil, fmt.Errorf("influx: %s: decoding answer: %w", call, err)
	}
	if qr.Error != "" {
		return nil, &StatementError{Statement: st.Redacted, Message: qr.Error}
	}
	if len(qr.Results) != 1 {
		return nil, fmt.Errorf("influx: %s: got %d results, want 1", call, len(qr.Results))
	}
	if r := qr.Results[0]; r.Error != "" {
		return nil, &StatementError{Statement: st.Redacted, Message: r.Error}
	}
	return qr.Results[0].Series, nil
}

// Write sends points in line protocol to db. InfluxDB answers 204 on success,
// 401 for bad credentials, 403 without WRITE on db and 404 for a missing db.
func (c *Client) Write(ctx context.Context, db, lines string) error {
	call := "POST /write db=" + db
	q := url.Values{"db": {db}}
	resp, body, err := c.do(ctx, http.MethodPost, "/write", q, strings.NewReader(lines), call)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusNoContent {
		return httpError(call, resp.StatusCode, body)
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body io.Reader, call string) (*http.Response, []byte, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, nil, fmt.Errorf("influx: %s: %w", call, err)
	}
	if path == "/query" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("influx: %s: %w", call, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, fmt.Errorf("influx: %s: reading answer: %w", call, err)
	}
	return resp, data, nil
}

func httpError(call string, status int, body []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &HTTPError{Call: call, Status: status, Message: msg}
}

// IsStatus reports whether err is an *HTTPError with the given status.
func IsStatus(err error, status int) bool {
	var he *HTTPError
	return errors.As(err, &he) && he.Status == status
}
