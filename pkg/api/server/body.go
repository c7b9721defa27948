package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/karana-project/karana/pkg/api/apierr"
)

// Limits on request bodies.
const (
	MaxBody  = 1 << 20 // bytes
	MaxDepth = 32      // nested objects and lists
)

// readBody reads a JSON object body, in the seed's form {"data": "<JSON>"}
// or plain. Too large, not UTF-8, too deep or not an object: refused.
func readBody(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, apierr.New(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", MaxBody)
		}
		return nil, apierr.New(http.StatusBadRequest, "reading request body: %v", err)
	}
	obj, aerr := decodeObject(data, "body")
	if aerr != nil {
		return nil, aerr
	}
	// The seed's envelope: one key "data" holding the record as a JSON string.
	if s, ok := obj["data"].(string); ok && len(obj) == 1 {
		inner, aerr := decodeObject([]byte(s), "data")
		if aerr != nil {
			return nil, aerr
		}
		return inner, nil
	}
	return obj, nil
}

func decodeObject(data []byte, what string) (map[string]any, *apierr.Error) {
	if !utf8.Valid(data) {
		return nil, apierr.Field(what, "is not valid UTF-8")
	}
	if depth(data) > MaxDepth {
		return nil, apierr.Field(what, "is nested deeper than %d levels", MaxDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, apierr.Field(what, "is empty; a JSON object is expected")
		}
		return nil, apierr.Field(what, "is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, apierr.Field(what, "has data after the JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, apierr.Field(what, "must be a JSON object")
	}
	return obj, nil
}

// depth returns the deepest nesting of objects and lists in JSON text,
// without decoding it (so that a deep body costs no allocation).
func depth(data []byte) int {
	d, max, inString, escaped := 0, 0, false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			d++
			if d > max {
				max = d
			}
		case c == '}' || c == ']':
			d--
		}
	}
	return max
}
