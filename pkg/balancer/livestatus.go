package balancer

import (
	"context"
	"crypto/sha1" //nolint:gosec // HAProxy's certificate fingerprint
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"path"
	"sort"
	"strings"

	"github.com/karana-project/karana/pkg/render"
)

// LiveState says whether what an inner balancer runs (its routes, as its
// runtime API shows them) is what its files say, so that the next reload
// or restart changes nothing.
type LiveState struct {
	// Drift lists every difference: "host map: stray.test -> app only
	// live", "server be_tenants/x: only in the files", ...
	Drift []string `json:"drift,omitempty"`
}

// Matches reports whether the live routes are the files'.
func (s *LiveState) Matches() bool { return len(s.Drift) == 0 }

// LiveStatus compares the host map, the tenant servers (name and address),
// the crt-list and the certificates (their leaf's SHA-1 fingerprint) that
// balancer t runs, through rt, with its files. known holds files karana
// rendered (nil: none): a certificate whose digest on the balancer is
// theirs is not read back from it.
func LiveStatus(ctx context.Context, rt Runtime, t Target, known Files) (*LiveState, error) {
	sums, err := t.Sums(ctx)
	if err != nil {
		return nil, err
	}
	dir := ""
	for p := range sums {
		if path.Base(p) == cfgName {
			dir = path.Dir(p)
		}
	}
	if dir == "" {
		return &LiveState{Drift: []string{"no " + cfgName + " on the balancer"}}, nil
	}
	var files [3][]byte
	for i, rel := range []string{cfgName, render.MapFile, render.CrtList} {
		if _, ok := sums[path.Join(dir, rel)]; ok {
			if files[i], err = t.Read(ctx, path.Join(dir, rel)); err != nil {
				return nil, err
			}
		}
	}
	want, err := parseRoutes(dir, files[0], files[1], files[2], sums)
	if err != nil {
		return nil, err
	}
	st := &LiveState{}
	hosts, err := liveMap(ctx, rt)
	if err != nil {
		return nil, err
	}
	st.compare("host map", hosts, want.Hosts)
	servers, err := liveServers(ctx, rt)
	if err != nil {
		return nil, err
	}
	wantAddr := map[string]string{}
	for name, line := range want.Servers {
		wantAddr[name], _, _ = strings.Cut(line, " ")
	}
	st.compare("server "+render.TenantsBackend, servers, wantAddr)
	crts, err := liveCrtList(ctx, rt)
	if err != nil {
		return nil, err
	}
	wantCrts := map[string]string{}
	for c := range want.CrtList {
		wantCrts[c] = "listed"
	}
	st.compare("crt-list", crts, wantCrts)
	if err := st.compareCerts(ctx, rt, t, dir, crts, want.CrtList, sums, known); err != nil {
		return nil, err
	}
	sort.Strings(st.Drift)
	return st, nil
}

// certBatch is how many `show ssl cert` commands go in one runtime request
// (';'-separated): one request per certificate would be one LXD exec each
// through a remote daemon's relay.
const certBatch = 100

// compareCerts compares the leaf fingerprint of every certificate both the
// live crt-list and the files list (the others are reported by the
// crt-list comparison) with the one its file holds.
func (s *LiveState) compareCerts(ctx context.Context, rt Runtime, t Target, dir string, live map[string]string, files map[string]string, sums Sums, known Files) error {
	var certs []string
	for c := range files {
		if _, ok := live[c]; ok {
			certs = append(certs, c)
		}
	}
	sort.Strings(certs)
	liveFP := map[string]string{}
	for i := 0; i < len(certs); i += certBatch {
		batch := certs[i:min(i+certBatch, len(certs))]
		cmds := make([]string, len(batch))
		for j, c := range batch {
			cmds[j] = "show ssl cert " + c
		}
		out, err := rt.Command(ctx, strings.Join(cmds, ";"))
		if err != nil {
			return err
		}
		maps.Copy(liveFP, parseCertFingerprints(out))
	}
	for _, c := range certs {
		p := path.Join(dir, c)
		pem := known[p]
		if pem == nil || (Files{p: pem}).Sums()[p] != sums[p] {
			var err error
			if pem, err = t.Read(ctx, p); err != nil {
				return err
			}
		}
		fp, err := leafFingerprint(pem)
		if err != nil {
			s.Drift = append(s.Drift, fmt.Sprintf("certificate %s: the file holds no certificate: %v", c, err))
			continue
		}
		switch have := liveFP[c]; {
		case have == "":
			s.Drift = append(s.Drift, fmt.Sprintf("certificate %s: HAProxy does not show it", c))
		case have != fp:
			s.Drift = append(s.Drift, fmt.Sprintf("certificate %s: SHA-1 %s live, %s in the file", c, have, fp))
		}
	}
	return nil
}

// parseCertFingerprints reads `show ssl cert <name>` answers, one after the
// other: "Filename: <name>" starts each, "SHA1 FingerPrint: <hex>" gives
// its leaf's fingerprint.
func parseCertFingerprints(out string) map[string]string {
	fps := map[string]string{}
	name := ""
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "Filename":
			name = strings.TrimPrefix(strings.TrimSpace(v), "*") // "*" marks an uncommitted transaction
		case "SHA1 FingerPrint":
			if name != "" && fps[name] == "" {
				fps[name] = strings.ToUpper(strings.TrimSpace(v))
			}
		}
	}
	return fps
}

// leafFingerprint is the SHA-1 fingerprint (upper-case hex) of the first
// certificate in pem, as HAProxy shows it.
func leafFingerprint(pemBytes []byte) (string, error) {
	for rest := pemBytes; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return "", errors.New("no CERTIFICATE block")
		}
		if b.Type == "CERTIFICATE" {
			sum := sha1.Sum(b.Bytes) //nolint:gosec // the fingerprint HAProxy shows, not a security check
			return strings.ToUpper(hex.EncodeToString(sum[:])), nil
		}
	}
}

func (s *LiveState) compare(what string, live, files map[string]string) {
	for k, v := range live {
		if fv, ok := files[k]; !ok {
			s.Drift = append(s.Drift, fmt.Sprintf("%s: %s %s only live", what, k, v))
		} else if fv != v {
			s.Drift = append(s.Drift, fmt.Sprintf("%s: %s is %s live, %s in the files", what, k, v, fv))
		}
	}
	for k, v := range files {
		if _, ok := live[k]; !ok {
			s.Drift = append(s.Drift, fmt.Sprintf("%s: %s %s only in the files", what, k, v))
		}
	}
}

// liveMap reads the host map: `show map` lines are "<ref> <key> <value>".
func liveMap(ctx context.Context, rt Runtime) (map[string]string, error) {
	out, err := rt.Command(ctx, "show map "+render.MapFile)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 3 && strings.HasPrefix(f[0], "0x"):
			m[f[1]] = f[2]
		case len(f) > 0 && !strings.HasPrefix(f[0], "0x"):
			return nil, &RuntimeError{Command: "show map " + render.MapFile, Answer: out}
		}
	}
	return m, nil
}

// liveServers reads the tenant servers' addresses from `show servers
// state`: fields 3, 4 and 18 are the name, address and port.
func liveServers(ctx context.Context, rt Runtime) (map[string]string, error) {
	out, err := rt.Command(ctx, "show servers state "+render.TenantsBackend)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 0 || strings.HasPrefix(f[0], "#") || (len(f) == 1 && f[0] == "1"):
		case len(f) > 18:
			m[f[3]] = f[4] + ":" + f[18]
		default:
			return nil, &RuntimeError{Command: "show servers state " + render.TenantsBackend, Answer: out}
		}
	}
	return m, nil
}

func liveCrtList(ctx context.Context, rt Runtime) (map[string]string, error) {
	out, err := command(ctx, rt, "show ssl crt-list "+render.CrtList, "# "+render.CrtList)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			m[f[0]] = "listed"
		}
	}
	return m, nil
}
