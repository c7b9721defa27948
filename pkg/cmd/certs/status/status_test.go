package status

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/acme"
	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/cmdutil/cmdtest"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/tlsgen"
)

func TestNewCmdStatus(t *testing.T) {
	if got := cmdtest.MustParse(t, NewCmdStatus, []string{"-o", "json"}); got.Output != "json" || got.Now == nil {
		t.Errorf("options %+v", got)
	}
	cmdtest.WantError(t, NewCmdStatus, []string{"-o", "yaml"}, `invalid --output "yaml"`, cmdutil.ExitUsage)
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "inv.yaml")
	os.WriteFile(p, []byte(`lxd: {project: unit, network: {name: unitbr0, ipv4: 10.0.99.1/24}}
tls: {acme: {directory: "https://localhost:14000/dir", email: ops@example.org, tenants: [alpha]}}
tenants:
  - {name: alpha, domain: alpha.example.org, slot: 0}
  - {name: beta, domain: beta.example.org, slot: 1}
`), 0o644)
	os.MkdirAll(filepath.Join(dir, "certs"), 0o700)
	ss, _ := tlsgen.SelfSigned([]string{"beta.example.org", "*.beta.example.org"}, time.Now())
	os.WriteFile(filepath.Join(dir, "certs", "beta.example.org.pem"), ss, 0o600)
	for _, output := range []string{"json", "text"} {
		ios, out, _ := iostreams.Test()
		fac := &cmdutil.Factory{IOStreams: ios, InventoryFlag: p}
		if err := run(&Options{IO: ios, Inventory: fac.Inventory, Now: time.Now, Output: output}); err != nil {
			t.Fatal(err)
		}
		if output == "json" {
			var got []acme.Cert
			if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 2 {
				t.Fatalf("%v: %s", err, out)
			}
			if !got[0].ACME || !got[0].Due || got[0].Reason != "no certificate yet" || got[1].ACME || got[1].Due || got[1].NotAfter.IsZero() {
				t.Errorf("certs %+v", got)
			}
			continue
		}
		if !strings.Contains(out.String(), "yes: no certificate yet") || !strings.Contains(out.String(), "karana self-signed") {
			t.Errorf("text:\n%s", out)
		}
	}
}
