package grafanastandin

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// proxyPrefix is Grafana's data-source proxy:
// /api/datasources/proxy/uid/:uid/<path> forwards <path> to the data
// source's URL with the data source's stored credentials.
const proxyPrefix = "/api/datasources/proxy/uid/"

// proxyClient is what the proxy forwards with; Grafana's dataproxy.timeout
// defaults to 30 s.
var proxyClient = &http.Client{Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Request headers the proxy never forwards: the caller's own credentials
// and session, and hop-by-hop headers.
var dropRequestHeaders = []string{"Authorization", "Cookie", "X-Grafana-Org-Id", "X-Ds-Authorization",
	"Connection", "Keep-Alive", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// proxy runs with s.mu held (ServeHTTP) and releases it while the data
// source answers. Any member of the data source's org may use it (Grafana's
// Viewer can query); the caller never sees the stored password. For an
// InfluxDB data source Grafana sends the stored user and password as Basic
// auth (ds_proxy.go), keeping the caller's query string.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request) {
	c, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	uid, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, proxyPrefix), "/")
	if c.role == "" {
		writeError(w, http.StatusForbidden, "Access denied to datasource")
		return
	}
	ds := s.findDataSource(c.orgID, func(ds *DataSource) bool { return ds.UID == uid })
	if ds == nil {
		writeError(w, http.StatusNotFound, "Unable to find datasource")
		return
	}
	target, err := url.Parse(ds.URL)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		writeError(w, http.StatusBadRequest, "Invalid data source url")
		return
	}
	target.Path = strings.TrimSuffix(target.Path, "/") + "/" + rest
	target.RawPath = ""
	target.RawQuery = r.URL.RawQuery
	user, password, dsType := ds.User, ds.SecureJSONData["password"], ds.Type
	s.mu.Unlock()
	defer s.mu.Lock()

	body := http.MaxBytesReader(w, r.Body, 10<<20)
	out, err := http.NewRequestWithContext(r.Context(), r.Method, target.String(), body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Invalid request")
		return
	}
	out.Header = r.Header.Clone()
	for _, h := range dropRequestHeaders {
		out.Header.Del(h)
	}
	out.ContentLength = r.ContentLength
	if dsType == "influxdb" && user != "" {
		out.SetBasicAuth(user, password)
	}
	resp, err := proxyClient.Do(out)
	if err != nil {
		writeError(w, http.StatusBadGateway, "Bad Gateway")
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Set-Cookie", "Connection", "Keep-Alive", "Transfer-Encoding":
			continue
		}
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, 64<<20))
}
