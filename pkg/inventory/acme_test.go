package inventory

import (
	"strings"
	"testing"
	"time"
)

func TestACMEValidation(t *testing.T) {
	base := "tenants:\n  - {name: alpha, domain: alpha.example.org}\ntls:\n  acme:\n"
	for _, tt := range []struct{ yaml, want string }{
		{"    directory: http://ca.example/dir\n    email: a@b.c\n", "tls.acme.directory"},
		{"    directory: https://ca.example/dir\n    email: nope\n", "tls.acme.email"},
		{"    directory: https://ca.example/dir\n    email: a@b.c\n    tenants: [Bad_Name]\n", "tls.acme.tenants"},
		{"    directory: https://ca.example/dir\n    email: a@b.c\n    renew_before: 30d\n", "tls.acme.renew_before"},
	} {
		_, err := Parse("inv.yaml", []byte(base+tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "inv.yaml:") {
			t.Errorf("%q: %v, want an error at a line naming %s", tt.yaml, err, tt.want)
		}
	}
	inv, err := Parse("inv.yaml", []byte(base+"    directory: https://ca.example/dir\n    email: a@b.c\n    tenants: [alpha]\n    renew_before: 240h\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !inv.TLS.ACME.Covers("alpha") || inv.TLS.ACME.Covers("beta") || inv.TLS.ACME.RenewWindow() != 240*time.Hour {
		t.Errorf("acme %+v", inv.TLS.ACME)
	}
	var none *ACME
	if none.Covers("alpha") || none.RenewWindow() != DefaultRenewBefore {
		t.Error("no tls.acme covers a tenant")
	}
}
