package grafanastandin

import (
	"net/http/httptest"
	"testing"
)

// Start serves a fresh stand-in on loopback for the test and returns it
// with its URL. The server admin is admin/admin unless opts say otherwise.
func Start(t testing.TB, opts Options) (*Server, string) {
	t.Helper()
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}
