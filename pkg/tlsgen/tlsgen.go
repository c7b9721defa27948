// Package tlsgen creates the self-signed certificates karana uses until a
// real one is put in the cert folder.
package tlsgen

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/karana-project/karana/pkg/fsutil"
)

// Validity of a generated certificate: long, since nobody renews it; a
// real certificate replaces it by being put in the cert folder.
const Validity = 10 * 365 * 24 * time.Hour

// SelfSigned returns a PEM bundle, certificate then PKCS#8 private key, of
// a new self-signed ECDSA P-256 certificate for names (the first is also
// the common name), valid from an hour before now for Validity.
func SelfSigned(names []string, now time.Time) ([]byte, error) {
	if len(names) == 0 {
		return nil, errors.New("generating a certificate: no names")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating a key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating a serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names[0], Organization: []string{"karana self-signed"}},
		DNSNames:              names,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(Validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("signing a certificate for %s: %w", names[0], err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the key for %s: %w", names[0], err)
	}
	var buf bytes.Buffer
	_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	_ = pem.Encode(&buf, &pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	return buf.Bytes(), nil
}

// Ensure returns the PEM bundle at path, first creating it with a new
// self-signed certificate for names if it does not exist. The file is
// written atomically with mode 0600 in a folder created 0700; created
// reports whether it was generated.
func Ensure(path string, names []string) (pemBytes []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return b, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("reading certificate: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("creating the cert folder: %w", err)
	}
	b, err = SelfSigned(names, time.Now())
	if err != nil {
		return nil, false, err
	}
	if err := fsutil.WriteFile(path, b, 0o600); err != nil {
		return nil, false, err
	}
	return b, true, nil
}
