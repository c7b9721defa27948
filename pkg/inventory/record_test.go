package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tenant written by hand, without id or slot, gets both recorded once,
// with the operator's comments kept; a second run changes nothing.
func TestRecordTenantKeys(t *testing.T) {
	p := filepath.Join(t.TempDir(), "inv.yaml")
	src := "# my back end\ntenants:\n  - name: first\n    domain: first.example.org\n    id: FIRSTID\n    slot: 0\n  - name: hand # written by hand\n    domain: hand.example.org\n"
	if err := os.WriteFile(p, []byte(src), 0o640); err != nil {
		t.Fatal(err)
	}
	n := 0
	newID := func() string { n++; return "NEWID" }
	inv, done, err := RecordTenantKeys(p, newID)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0] != "hand" || n != 1 {
		t.Fatalf("completed %v with %d new ids, want [hand] and 1", done, n)
	}
	h, _ := inv.Tenant("hand")
	if h.ID != "NEWID" || h.Slot == nil || *h.Slot != 1 {
		t.Fatalf("hand = %+v, want id NEWID slot 1", h)
	}
	data, _ := os.ReadFile(p)
	for _, want := range []string{"# my back end", "# written by hand", "id: NEWID", "slot: 1"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("file lacks %q:\n%s", want, data)
		}
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
	}
	again, done, err := RecordTenantKeys(p, newID)
	if err != nil || len(done) != 0 || n != 1 {
		t.Fatalf("second run: %v, %v, %d new ids", done, err, n)
	}
	if a, _ := again.Tenant("hand"); a.ID != "NEWID" || *a.Slot != 1 {
		t.Errorf("reloaded hand = %+v", a)
	}
	if data2, _ := os.ReadFile(p); string(data2) != string(data) {
		t.Errorf("second run rewrote the file:\n%s", data2)
	}
}
