package lxd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/canonical/lxd/shared"
	"github.com/canonical/lxd/shared/api"

	"github.com/karana-project/karana/pkg/fsutil"
	"github.com/karana-project/karana/pkg/inventory"
)

// TrustResult is what Trust did.
type TrustResult struct {
	Endpoint        string `json:"endpoint"`         // the address that accepted the token
	Fingerprint     string `json:"fingerprint"`      // the daemon's certificate, as the token pinned it
	ClientCert      string `json:"client_cert"`      // file
	ClientGenerated bool   `json:"client_generated"` // the client certificate was made now
	ServerCert      string `json:"server_cert"`      // file holding the daemon's certificate
	AlreadyTrusted  bool   `json:"already_trusted"`
	ServerVersion   string `json:"server_version"`
}

// ErrToken is wrapped by Trust's errors about the token itself.
var ErrToken = errors.New("invalid trust token")

// Trust does what `lxc remote add NAME TOKEN` does, for the inventory's
// files: it makes the client certificate (client_cert, client_key) when
// missing, fetches the daemon's certificate from the first address in
// the token that answers and accepts it only if its fingerprint is the
// one the token carries (so no one in between can pose as the daemon),
// stores it as server_cert, and presents the token to the daemon, which
// then trusts the client certificate. The token comes from
// `lxc config trust add --name NAME` on the daemon. cfg's paths are used
// as given. Running it again with the same files changes nothing.
func Trust(ctx context.Context, cfg inventory.LXD, token string) (*TrustResult, error) {
	tok, err := shared.CertificateTokenDecode(strings.TrimSpace(token))
	if err != nil {
		return nil, fmt.Errorf("%w: %v (copy it whole from `lxc config trust add --name karana` on the daemon)", ErrToken, err)
	}
	if cfg.ClientCert == "" || cfg.ClientKey == "" || cfg.ServerCert == "" {
		return nil, errors.New("the inventory needs lxd.client_cert, lxd.client_key and lxd.server_cert (files karana writes; for example client.crt, client.key, server.crt)")
	}
	res := &TrustResult{Fingerprint: tok.Fingerprint, ClientCert: cfg.ClientCert, ServerCert: cfg.ServerCert}
	if res.ClientGenerated, err = ensureClientCert(cfg.ClientCert, cfg.ClientKey); err != nil {
		return nil, err
	}
	addrs := tok.Addresses
	if strings.HasPrefix(cfg.Endpoint, "https://") {
		// The inventory's own address first: the token lists the
		// daemon's, which may not be how this machine reaches it.
		addrs = append([]string{strings.TrimPrefix(cfg.Endpoint, "https://")}, addrs...)
	}
	var errs []string
	for _, a := range addrs {
		ep := "https://" + strings.TrimSuffix(a, "/")
		err := trustAt(ctx, cfg, ep, token, tok.Fingerprint, res)
		if err == nil {
			res.Endpoint = ep
			return res, nil
		}
		if errors.Is(err, errMismatch) {
			return nil, err
		}
		errs = append(errs, err.Error())
	}
	return nil, fmt.Errorf("no address of the token accepted it:\n  %s", strings.Join(errs, "\n  "))
}

var errMismatch = errors.New("certificate fingerprint mismatch")

func trustAt(ctx context.Context, cfg inventory.LXD, ep, token, fingerprint string, res *TrustResult) error {
	cert, err := remoteCertificate(ctx, ep)
	if err != nil {
		return fmt.Errorf("%s: %w", ep, err)
	}
	if got := shared.CertFingerprint(cert); got != fingerprint {
		return fmt.Errorf("%w: %s presents %s, the token names %s: not trusting it", errMismatch, ep, got, fingerprint)
	}
	serverPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if err := writeIfChanged(cfg.ServerCert, serverPEM, 0o644); err != nil {
		return err
	}
	c := cfg
	c.Endpoint = ep
	srv, err := connectHTTPS(ctx, c)
	if err != nil {
		return fmt.Errorf("%s: %w", ep, err)
	}
	info, _, err := srv.GetServer()
	if err != nil {
		return fmt.Errorf("%s: %w", ep, err)
	}
	if info.Auth != "trusted" {
		if err := srv.CreateCertificate(api.CertificatesPost{Password: strings.TrimSpace(token)}); err != nil {
			return fmt.Errorf("%s refused the token: %w (tokens are single-use and expire: make a new one)", ep, err)
		}
		if info, _, err = srv.GetServer(); err != nil {
			return fmt.Errorf("%s: %w", ep, err)
		}
		if info.Auth != "trusted" {
			return fmt.Errorf("%s took the token but does not trust the client certificate %s", ep, cfg.ClientCert)
		}
	} else {
		res.AlreadyTrusted = true
	}
	res.ServerVersion = info.Environment.ServerVersion
	return nil
}

// remoteCertificate reads the certificate ep presents, without trusting
// it yet: the caller compares its fingerprint with the token's.
func remoteCertificate(ctx context.Context, ep string) (*x509.Certificate, error) {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // verified by fingerprint below
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return nil, errors.New("no certificate presented")
	}
	return resp.TLS.PeerCertificates[0], nil
}

// ensureClientCert makes a client certificate and key (as lxc does) when
// the files do not exist yet.
func ensureClientCert(certPath, keyPath string) (bool, error) {
	_, cerr := os.Stat(certPath)
	_, kerr := os.Stat(keyPath)
	switch {
	case cerr == nil && kerr == nil:
		if _, err := tls.LoadX509KeyPair(certPath, keyPath); err != nil {
			return false, fmt.Errorf("client certificate %s and key %s: %w", certPath, keyPath, err)
		}
		return false, nil
	case cerr == nil || kerr == nil:
		return false, fmt.Errorf("only one of %s and %s exists: remove it, or put back the other", certPath, keyPath)
	}
	certPEM, keyPEM, err := shared.GenerateMemCert(true, false)
	if err != nil {
		return false, fmt.Errorf("generating a client certificate: %w", err)
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{keyPath, keyPEM, 0o600}, {certPath, certPEM, 0o644}} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
			return false, err
		}
		if err := fsutil.WriteFile(f.path, f.data, f.mode); err != nil {
			return false, fmt.Errorf("writing %s: %w", f.path, err)
		}
	}
	return true, nil
}

func writeIfChanged(path string, data []byte, mode os.FileMode) error {
	if b, err := os.ReadFile(path); err == nil && string(b) == string(data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := fsutil.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
