package influx

import (
	"strings"
	"testing"
)

func TestQuoteIdent(t *testing.T) {
	tests := []struct{ in, want string }{
		{`u_abc`, `"u_abc"`},
		{`a"b`, `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{"a\nb", `"a\nb"`},
		{`x"; DROP DATABASE "y`, `"x\"; DROP DATABASE \"y"`},
		{`it's`, `"it's"`},
		{`\"`, `"\\\""`},
	}
	for _, tt := range tests {
		if got := QuoteIdent(tt.in); got != tt.want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestQuoteString(t *testing.T) {
	tests := []struct{ in, want string }{
		{`pw`, `'pw'`},
		{`it's`, `'it\'s'`},
		{`a\b`, `'a\\b'`},
		{"a\nb", `'a\nb'`},
		{`x' WITH ALL PRIVILEGES; --`, `'x\' WITH ALL PRIVILEGES; --'`},
		{`\'`, `'\\\''`},
		{`say "hi"`, `'say "hi"'`},
	}
	for _, tt := range tests {
		if got := QuoteString(tt.in); got != tt.want {
			t.Errorf("QuoteString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestStatementsRedactPasswords(t *testing.T) {
	for _, st := range []Statement{
		CreateUser("u", "s3cret'pw", false),
		CreateUser("u", "s3cret'pw", true),
		SetPassword("u", "s3cret'pw"),
	} {
		if got := st.Redacted; strings.Contains(got, "s3cret") {
			t.Errorf("redacted statement leaks the password: %s", got)
		}
		if !strings.Contains(st.Text, `'s3cret\'pw'`) {
			t.Errorf("statement %s does not carry the quoted password", st.Text)
		}
	}
	want := `CREATE USER "u" WITH PASSWORD 'p' WITH ALL PRIVILEGES`
	if got := CreateUser("u", "p", true).Text; got != want {
		t.Errorf("CreateUser admin = %s, want %s", got, want)
	}
	want = `GRANT WRITE ON "d\"b" TO "u"`
	if got := Grant(Write, `d"b`, "u").Text; got != want {
		t.Errorf("Grant = %s, want %s", got, want)
	}
}
