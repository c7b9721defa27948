package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/tlsgen"
)

// defaultCertName is the name in the generated default certificate, the
// one served to clients that send no or an unknown SNI.
const defaultCertName = "default.karana.invalid"

// CertDir is the folder holding the certificates: tls.cert_dir resolved
// against the inventory's folder. It is a key store, not render output.
func CertDir(inv *inventory.Inventory) string {
	d := inv.TLS.CertDir
	if d == "" {
		d = "certs"
	}
	return inv.Resolve(d)
}

func certDirPath(inv *inventory.Inventory, file string) string {
	return filepath.Join(CertDir(inv), file)
}

// CertError is a certificate that cannot be read, generated or used.
type CertError struct {
	Owner string // tenant "acme" or "default certificate"
	Path  string
	Err   error
}

func (e *CertError) Error() string {
	return fmt.Sprintf("%s: certificate %s: %v", e.Owner, e.Path, e.Err)
}

func (e *CertError) Unwrap() error { return e.Err }

type certResult struct {
	data      []byte
	generated bool
	missing   bool
	err       error
}

// loadCerts reads (or generates) every certificate of m into out. Reading
// ten thousand small files is I/O bound, so it is spread over a few
// goroutines; results are collected by index to stay deterministic.
func loadCerts(inv *inventory.Inventory, m *model, opts Options, out *Output) error {
	res := make([]certResult, len(m.certs))
	var wg sync.WaitGroup
	next := make(chan int)
	workers := 2 * runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res[i] = loadCert(m.certs[i], opts)
			}
		}()
	}
	for i := range m.certs {
		next <- i
	}
	close(next)
	wg.Wait()

	for i, r := range res {
		c := m.certs[i]
		switch {
		case r.err != nil:
			return r.err
		case r.missing:
			out.Missing = append(out.Missing, c.Src)
		default:
			out.Files[c.Dst] = r.data
			if r.generated {
				out.Generated = append(out.Generated, c.Src)
			}
		}
	}
	return nil
}

func loadCert(c tenantCert, opts Options) certResult {
	var r certResult
	switch {
	case c.Custom:
		r.data, r.err = os.ReadFile(c.Src)
		if r.err != nil {
			return certResult{err: &CertError{Owner: c.Owner, Path: c.Src, Err: r.err}}
		}
	case opts.GenerateCerts:
		r.data, r.generated, r.err = tlsgen.Ensure(c.Src, c.Names)
		if r.err != nil {
			return certResult{err: &CertError{Owner: c.Owner, Path: c.Src, Err: r.err}}
		}
	default:
		r.data, r.err = os.ReadFile(c.Src)
		if errors.Is(r.err, fs.ErrNotExist) {
			return certResult{missing: true}
		}
		if r.err != nil {
			return certResult{err: &CertError{Owner: c.Owner, Path: c.Src, Err: r.err}}
		}
	}
	if err := checkPEM(r.data); err != nil {
		return certResult{err: &CertError{Owner: c.Owner, Path: c.Src, Err: err}}
	}
	return r
}

// checkPEM catches the common mistakes (a key or a chain alone) with a
// clearer message than HAProxy's; HAProxy still checks the rest. It only
// looks for the PEM headers: decoding ten thousand bundles would cost a
// third of a render.
func checkPEM(b []byte) error {
	haveCert := bytes.Contains(b, []byte("-----BEGIN CERTIFICATE-----"))
	haveKey := bytes.Contains(b, []byte("PRIVATE KEY-----"))
	switch {
	case !haveCert && !haveKey:
		return errors.New("no PEM certificate or key in it (want the chain followed by the key)")
	case !haveCert:
		return errors.New("has a private key but no certificate")
	case !haveKey:
		return errors.New("has no private key: append the key to the chain in the same file")
	}
	return nil
}
