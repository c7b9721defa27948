package render

import (
	"bytes"
	"text/template"

	"github.com/karana-project/karana/templates"
)

// tmpl holds every embedded template; a template that does not parse is a
// build defect, caught by any test.
var tmpl = template.Must(template.New("karana").
	Option("missingkey=error").
	ParseFS(templates.FS, "*.tmpl"))

func execute(name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
