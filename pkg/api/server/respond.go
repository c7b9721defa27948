package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/karana-project/karana/pkg/api/apierr"
	"github.com/karana-project/karana/pkg/api/store"
)

// handlerFunc is an HTTP handler that returns its error; serve writes it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) serve(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// writeError writes every error response: {"error": {status, field, message}}.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := apierr.As(err)
	switch {
	case errors.Is(err, store.ErrStale):
		e = apierr.New(http.StatusConflict, "the record was changed by another request; retry")
	case !ok:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = apierr.New(http.StatusInternalServerError, "internal error; see the server log")
	}
	if e.Status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "60")
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="karana"`)
	}
	writeJSON(w, e.Status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":{"status":500,"message":"encoding the response failed"}}`)
		status = http.StatusInternalServerError
	}
	writeRaw(w, status, append(b, '\n'))
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	w.Write(b)
}

// writeRecords writes {"results": [{"<uuid>": record, ...}]}: the seed's
// shape, records keyed by their uuid.
func writeRecords(w http.ResponseWriter, status int, entries []*store.Entry) {
	n := 16
	for _, e := range entries {
		n += len(e.ID) + e.PublicLen() + 4
	}
	b := make([]byte, 0, n)
	b = append(b, `{"results":[{`...)
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, e.ID...)
		b = append(b, `":`...)
		b = e.AppendPublic(b)
	}
	b = append(b, "}]}\n"...)
	writeRaw(w, status, b)
}
