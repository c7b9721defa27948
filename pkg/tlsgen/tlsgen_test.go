package tlsgen

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSelfSigned(t *testing.T) {
	now := time.Now()
	b, err := SelfSigned([]string{"acme.example.org", "*.acme.example.org"}, now)
	if err != nil {
		t.Fatal(err)
	}
	// tls.X509KeyPair checks that the key matches the certificate.
	pair, err := tls.X509KeyPair(b, b)
	if err != nil {
		t.Fatalf("not a usable key pair: %v", err)
	}
	if _, ok := pair.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("key is %T, want ECDSA", pair.PrivateKey)
	}
	block, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"acme.example.org", "grafana.acme.example.org"} {
		if err := cert.VerifyHostname(host); err != nil {
			t.Errorf("certificate does not cover %s: %v", host, err)
		}
	}
	if err := cert.VerifyHostname("other.example.org"); err == nil {
		t.Error("certificate covers other.example.org")
	}
	if cert.NotAfter.Before(now.Add(5 * 365 * 24 * time.Hour)) {
		t.Errorf("valid until %s only", cert.NotAfter)
	}
	if _, err := SelfSigned(nil, now); err == nil {
		t.Error("no names: want an error")
	}
}

func TestEnsure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certs", "a.example.org.pem")
	b1, created, err := Ensure(path, []string{"a.example.org"})
	if err != nil || !created {
		t.Fatalf("first Ensure: created=%v err=%v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if dst, _ := os.Stat(filepath.Dir(path)); dst.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v, want 0700", dst.Mode().Perm())
	}
	b2, created, err := Ensure(path, []string{"a.example.org"})
	if err != nil || created {
		t.Fatalf("second Ensure: created=%v err=%v", created, err)
	}
	if string(b1) != string(b2) {
		t.Error("second Ensure replaced the certificate")
	}
}

// BenchmarkSelfSigned is the CPU cost of one generated certificate (the
// first render of N tenants pays it N times, plus one fsynced write each).
func BenchmarkSelfSigned(b *testing.B) {
	now := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := SelfSigned([]string{"acme.example.org", "*.acme.example.org"}, now); err != nil {
			b.Fatal(err)
		}
	}
}
