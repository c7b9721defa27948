package lxd

import "testing"

func TestSplitImage(t *testing.T) {
	tests := []struct {
		in, server, alias, err string
	}{
		{"karana/api", "", "karana/api", ""},
		{"images:debian/12", "https://images.linuxcontainers.org", "debian/12", ""},
		{"ubuntu:22.04", "https://cloud-images.ubuntu.com/releases", "22.04", ""},
		{"nowhere:x", "", "", `unknown remote "nowhere"`},
	}
	for _, tt := range tests {
		server, alias, err := SplitImage(tt.in)
		if tt.err != "" {
			if err == nil || !contains(err.Error(), tt.err) {
				t.Errorf("SplitImage(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || server != tt.server || alias != tt.alias {
			t.Errorf("SplitImage(%q) = %q, %q, %v; want %q, %q", tt.in, server, alias, err, tt.server, tt.alias)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestOwnedConfig(t *testing.T) {
	for key, want := range map[string]bool{
		"user.karana.role": true, "limits.memory": true,
		"volatile.eth0.hwaddr": false, "image.os": false, "user.other": false,
	} {
		if got := ownedConfig(key); got != want {
			t.Errorf("ownedConfig(%q) = %v, want %v", key, got, want)
		}
	}
}
