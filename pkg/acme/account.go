package acme

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/lego"
	legolog "github.com/go-acme/lego/v5/log"
	"github.com/go-acme/lego/v5/registration"

	"github.com/karana-project/karana/pkg/fsutil"
	"github.com/karana-project/karana/pkg/inventory"
)

// user is the ACME account: lego's registration.User.
type user struct {
	email string
	key   crypto.Signer
	reg   *acme.ExtendedAccount
}

func (u *user) GetEmail() string                       { return u.email }
func (u *user) GetRegistration() *acme.ExtendedAccount { return u.reg }
func (u *user) GetPrivateKey() crypto.Signer           { return u.key }

// accountFile is what is kept of the registration, per directory: an
// account registered with one CA means nothing to another.
type accountFile struct {
	Directory string                `json:"directory"`
	Email     string                `json:"email"`
	Account   *acme.ExtendedAccount `json:"account"`
}

// loadAccount reads (or creates, 0600) the account key; the registration
// is read when it was made with this directory and e-mail.
func loadAccount(inv *inventory.Inventory) (*user, error) {
	a := inv.TLS.ACME
	dir := accountDir(inv)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ACME account folder: %w", err)
	}
	keyPath := filepath.Join(dir, "account.key")
	u := &user{email: a.Email}
	b, err := os.ReadFile(keyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if u.key, err = certcrypto.GeneratePrivateKey(certcrypto.EC256); err != nil {
			return nil, err
		}
		if err := fsutil.WriteFile(keyPath, certcrypto.PEMEncode(u.key), 0o600); err != nil {
			return nil, fmt.Errorf("writing the ACME account key: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("reading the ACME account key: %w", err)
	default:
		if u.key, err = certcrypto.ParsePEMPrivateKey(b); err != nil {
			return nil, fmt.Errorf("ACME account key %s: %w", keyPath, err)
		}
	}
	var af accountFile
	if b, err := os.ReadFile(filepath.Join(dir, "account.json")); err == nil && json.Unmarshal(b, &af) == nil &&
		af.Directory == a.Directory && af.Email == a.Email && af.Account != nil {
		u.reg = af.Account
	}
	return u, nil
}

func saveAccount(inv *inventory.Inventory, u *user) error {
	b, err := json.MarshalIndent(accountFile{Directory: inv.TLS.ACME.Directory, Email: u.email, Account: u.reg}, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFile(filepath.Join(accountDir(inv), "account.json"), append(b, '\n'), 0o600)
}

// httpClient trusts tls.acme.ca_file for the CA's own HTTPS when set.
func httpClient(inv *inventory.Inventory) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if f := inv.TLS.ACME.CAFile; f != "" {
		p := inv.Resolve(f)
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("tls.acme.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("tls.acme.ca_file %s: no PEM certificate in it", p)
		}
		tc.RootCAs = pool
	}
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, TLSClientConfig: tc, TLSHandshakeTimeout: 15 * time.Second,
		DialContext: (&net.Dialer{Timeout: 15 * time.Second}).DialContext, ResponseHeaderTimeout: 30 * time.Second,
	}}, nil
}

// client is a lego client for the account, registered on first use, with
// the balancers answering HTTP-01.
func client(ctx context.Context, inv *inventory.Inventory, b *balancers) (*lego.Client, error) {
	u, err := loadAccount(inv)
	if err != nil {
		return nil, err
	}
	hc, err := httpClient(inv)
	if err != nil {
		return nil, err
	}
	// lego logs every step at info level; karana reports per tenant itself.
	legolog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	cfg := lego.NewConfig(u)
	cfg.CADirURL, cfg.HTTPClient, cfg.UserAgent = inv.TLS.ACME.Directory, hc, "karana"
	c, err := lego.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("ACME directory %s: %w", inv.TLS.ACME.Directory, err)
	}
	if err := c.Challenge.SetHTTP01Provider(b); err != nil {
		return nil, err
	}
	if u.reg == nil {
		reg, err := c.Registration.Register(ctx, registration.RegisterOptions{TermsOfServiceAgreed: true})
		if err != nil {
			return nil, fmt.Errorf("registering the ACME account %s at %s: %w", u.email, inv.TLS.ACME.Directory, err)
		}
		u.reg = reg
		if err := saveAccount(inv, u); err != nil {
			return nil, fmt.Errorf("saving the ACME account: %w", err)
		}
	}
	return c, nil
}
