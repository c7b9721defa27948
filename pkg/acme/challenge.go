package acme

import (
	"context"
	"fmt"
	"strings"

	"github.com/karana-project/karana/pkg/render"
)

// Runtime is what the challenge and the live load need of an inner
// balancer's runtime API (pkg/balancer's Runtime has it).
type Runtime interface {
	Command(ctx context.Context, cmd string) (string, error)
}

// balancers answers HTTP-01 challenges on every inner balancer: lb0 sends
// the CA's request to either, so both must know the token. fe_http looks
// /.well-known/acme-challenge/<token> up in render.ACMEMap, which is empty
// on disk and filled only through the runtime API while a challenge runs.
type balancers struct {
	rts   map[string]Runtime // by balancer name
	names []string
}

// mapRef is how the runtime API names the challenge map on rt: "#<id>" of
// the map loaded from a file ending in render.ACMEMap.
func mapRef(ctx context.Context, rt Runtime) (string, error) {
	out, err := rt.Command(ctx, "show map")
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && strings.HasSuffix(strings.Trim(f[1], "()"), render.ACMEMap) {
			return "#" + f[0], nil
		}
	}
	return "", fmt.Errorf("no challenge map %s (rendered by an older karana? run karana balancer reload)", render.ACMEMap)
}

// Present implements lego's challenge.Provider.
func (b *balancers) Present(ctx context.Context, domain, token, keyAuth string) error {
	if strings.ContainsAny(token+keyAuth, " \t\r\n") {
		return fmt.Errorf("challenge for %s: token or key authorization holds white space", domain)
	}
	for _, name := range b.names {
		rt := b.rts[name]
		ref, err := mapRef(ctx, rt)
		if err == nil {
			_, _ = rt.Command(ctx, "del map "+ref+" "+token) // a retried challenge
			var out string
			out, err = rt.Command(ctx, "add map "+ref+" "+token+" "+keyAuth)
			if err == nil && strings.TrimSpace(out) != "" {
				err = fmt.Errorf("add map: %s", strings.TrimSpace(out))
			}
		}
		if err != nil {
			return fmt.Errorf("challenge for %s on %s: %w", domain, name, err)
		}
	}
	return nil
}

// CleanUp implements lego's challenge.Provider.
func (b *balancers) CleanUp(ctx context.Context, domain, token, _ string) error {
	var first error
	for _, name := range b.names {
		rt := b.rts[name]
		ref, err := mapRef(ctx, rt)
		if err == nil {
			_, err = rt.Command(ctx, "del map "+ref+" "+token)
		}
		if err != nil && first == nil {
			first = fmt.Errorf("removing the challenge for %s on %s: %w", domain, name, err)
		}
	}
	return first
}
