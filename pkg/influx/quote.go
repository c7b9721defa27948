package influx

import "strings"

// QuoteIdent returns s as an InfluxQL double-quoted identifier. Inside the
// quotes InfluxQL's scanner understands exactly three escapes that matter
// here: \\ for a backslash, \" for the quote and \n for a newline; anything
// else is taken literally, so escaping those three is enough to keep any
// string inside the identifier.
func QuoteIdent(s string) string {
	return `"` + identEscaper.Replace(s) + `"`
}

// QuoteString returns s as an InfluxQL single-quoted string literal, with the
// same three escapes as QuoteIdent for its own quote character.
func QuoteString(s string) string {
	return `'` + stringEscaper.Replace(s) + `'`
}

var (
	identEscaper  = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	stringEscaper = strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
)
