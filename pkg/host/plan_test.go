package host

import (
	"os"
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	tests := []struct {
		name  string
		state State
		want  string // actions joined by "; "
		err   string
	}{
		{"debian ready", State{Family: "debian", LXDInstalled: true, Answering: true}, "", ""},
		{"debian bare, no systemd", State{Family: "debian", Missing: []string{"lxd", "dnsmasq-base", "haproxy"}},
			"apt-install lxd dnsmasq-base haproxy; spawn lxd --group root", ""},
		{"debian bare, systemd", State{Family: "debian", Systemd: true, Missing: []string{"lxd", "dnsmasq-base"}},
			"apt-install lxd dnsmasq-base; unit-start lxd.service", ""},
		{"debian missing haproxy only", State{Family: "debian", LXDInstalled: true, Answering: true, Missing: []string{"haproxy"}},
			"apt-install haproxy", ""},
		{"debian installed, stopped", State{Family: "debian", LXDInstalled: true},
			"spawn lxd --group root", ""},
		{"ubuntu bare", State{Family: "ubuntu", Systemd: true, Missing: []string{"haproxy", "debootstrap"}},
			"apt-install haproxy debootstrap; snap-install lxd; unit-start snap.lxd.daemon.service", ""},
		{"ubuntu ready", State{Family: "ubuntu", LXDInstalled: true, Answering: true}, "", ""},
		{"other, installed, running", State{LXDInstalled: true, Answering: true}, "", ""},
		{"other, not installed", State{}, "", "only on Debian or Ubuntu"},
		{"other, packages missing", State{LXDInstalled: true, Answering: true, Missing: []string{"haproxy"}}, "", "install haproxy"},
		{"other, systemd, stopped", State{LXDInstalled: true, Systemd: true}, "", "no systemd unit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := Plan(tt.state)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range plan {
				got = append(got, a.String())
			}
			if s := strings.Join(got, "; "); s != tt.want {
				t.Errorf("plan = %q, want %q", s, tt.want)
			}
		})
	}
}

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		name, in, family, codename string
		err                        string
	}{
		{"debian", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n", "debian", "bookworm", ""},
		{"ubuntu", "ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\n", "ubuntu", "jammy", ""},
		{"mint", "ID=linuxmint\nID_LIKE='ubuntu debian'\n# comment\n\nVERSION_CODENAME=virginia\n", "ubuntu", "virginia", ""},
		{"raspbian", "ID=raspbian\nID_LIKE=debian\n", "debian", "", ""},
		{"fedora", "ID=fedora\n", "", "", ""},
		{"bad line", "ID=debian\nnonsense\n", "", "", "line 2"},
		{"bad quote", "ID=\"debian\n", "", "", "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseOSRelease(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Family() != tt.family || o.Codename != tt.codename {
				t.Errorf("family %q codename %q, want %q %q", o.Family(), o.Codename, tt.family, tt.codename)
			}
		})
	}
}

func TestToRaise(t *testing.T) {
	cur := map[string]int64{
		"kernel.keys.maxkeys":           200,     // kernel default: raise
		"kernel.keys.maxbytes":          5000000, // already above: keep
		"fs.inotify.max_user_instances": 1024,    // equal: keep
		// fs.inotify.max_user_watches unreadable: leave alone
	}
	got := ToRaise(cur)
	if len(got) != 1 || got[0].Key != "kernel.keys.maxkeys" || got[0].Want != 2000 {
		t.Errorf("ToRaise = %+v, want only kernel.keys.maxkeys -> 2000", got)
	}
}

func TestRequired(t *testing.T) {
	names := func(ps []Package) string {
		var n []string
		for _, p := range ps {
			n = append(n, p.Name)
		}
		return strings.Join(n, " ")
	}
	if got, want := names(Required("debian", false)), "lxd dnsmasq-base iptables squashfs-tools xz-utils zstd btrfs-progs haproxy debootstrap"; got != want {
		t.Errorf("debian = %q, want %q", got, want)
	}
	if got := names(Required("debian", true)); !strings.Contains(got, "apparmor") {
		t.Errorf("debian with AppArmor lacks apparmor: %q", got)
	}
	if got, want := names(Required("ubuntu", true)), "squashfs-tools xz-utils zstd btrfs-progs haproxy debootstrap"; got != want {
		t.Errorf("ubuntu = %q, want %q (the snap brings LXD, dnsmasq, iptables, AppArmor support)", got, want)
	}
	has := map[string]bool{"lxd": true, "haproxy": true}
	if got := Missing(Required("debian", false), func(p string) bool { return has[p] }); strings.Join(got, " ") != "dnsmasq-base iptables squashfs-tools xz-utils zstd btrfs-progs debootstrap" {
		t.Errorf("missing = %v", got)
	}
	for _, p := range Packages {
		if p.Name == "" || p.Program == "" || p.Why == "" {
			t.Errorf("package %+v lacks a name, program or reason", p)
		}
	}
}

// docs/host.md must list every package karana installs.
func TestHostDocListsPackages(t *testing.T) {
	doc, err := os.ReadFile("../../docs/host.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Packages {
		if !strings.Contains(string(doc), "`"+p.Name+"`") {
			t.Errorf("docs/host.md does not name package %s", p.Name)
		}
	}
}
