package add

import (
	"strings"
	"testing"

	"github.com/karana-project/karana/pkg/converge"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
)

// A finished add ends with the welcome: the three URLs, the admin logins
// and the command that shows the passwords; passwords only when asked.
func TestAddWelcome(t *testing.T) {
	for _, show := range []bool{false, true} {
		path, _ := writeInventory(t)
		inv, err := inventory.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		ios, out, _ := iostreams.Test()
		e := converge.NewEngine(nil, inv, nil)
		sec, _, err := e.Secrets.Ensure("alpha", "admin@alpha.example.org")
		if err != nil {
			t.Fatal(err)
		}
		opts := &Options{IO: ios, InventoryPath: func() string { return path }, Output: "text", ShowSecrets: show}
		alpha, _ := inv.Tenant("alpha")
		if err := report(opts, e, *alpha, nil); err != nil {
			t.Fatal(err)
		}
		s := out.String()
		for _, want := range []string{
			"Welcome, alpha (tenant id AAAAAAAAAAAAA)",
			"  API       https://api.alpha.example.org      login admin@alpha.example.org",
			"  Grafana   https://grafana.alpha.example.org  login admin",
			"  InfluxDB  https://influx.alpha.example.org   login admin",
			"Passwords: karana tenant credentials alpha --inventory " + path + "\n",
		} {
			if !strings.Contains(s, want) {
				t.Errorf("show=%v: output lacks %q:\n%s", show, want, s)
			}
		}
		for _, pw := range []string{sec.API.Password, sec.Grafana.Password, sec.InfluxDB.Password} {
			if strings.Contains(s, pw) != show {
				t.Errorf("show=%v: password %s printed %v:\n%s", show, pw, !show, s)
			}
		}
	}
}
