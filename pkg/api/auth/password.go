// Package auth holds the management API's credentials handling: password
// hashes (sha512-crypt of the old API, bcrypt, argon2id), JSON web tokens
// pinned to HS256, and the login rate limiter.
package auth

import (
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-crypt/crypt"
	"github.com/go-crypt/crypt/algorithm/bcrypt"
	"github.com/go-crypt/crypt/algorithm/shacrypt"
)

// Argon2 is the cost of new hashes. The default (7 MiB, 5 passes) is one of
// OWASP's argon2id recommendations, in 2 lanes for this box's 2 cores: it
// costs ~13 ms and 7 MiB a hash where 19 MiB, 2 passes would take 19 MiB.
type Argon2 struct {
	MemoryKiB   uint32 `yaml:"memory_kib"`
	Iterations  int    `yaml:"iterations"`
	Parallelism int    `yaml:"parallelism"`
}

// DefaultArgon2 is used when the configuration sets no cost.
var DefaultArgon2 = Argon2{MemoryKiB: 7168, Iterations: 5, Parallelism: 2}

// Limits on stored hashes' cost: a hash asking for more is refused rather
// than letting one login burn the CPU for minutes.
const (
	maxSHARounds   = 1_000_000
	maxBcryptCost  = 14
	maxArgonMemKiB = 256 * 1024
	maxArgonIter   = 16
	maxArgonLanes  = 16
)

// Hasher hashes new passwords with argon2id and verifies the supported formats.
type Hasher struct {
	cost   Argon2
	prefix string // "$argon2id$v=19$m=..,t=..,p=..$": hashes with it are current
	dec    *crypt.Decoder
	dummy  string        // verified against when a login is unknown, to take the same time
	sem    chan struct{} // bounds concurrent hashes: each takes MemoryKiB of memory
}

// NewHasher returns a Hasher producing argon2id hashes of cost p.
func NewHasher(p Argon2) (*Hasher, error) {
	if p.MemoryKiB == 0 {
		p = DefaultArgon2
	}
	if p.MemoryKiB > maxArgonMemKiB || p.Iterations < 1 || p.Iterations > maxArgonIter || p.Parallelism < 1 || p.Parallelism > maxArgonLanes {
		return nil, fmt.Errorf("argon2: memory_kib at most %d, iterations 1-%d, parallelism 1-%d", maxArgonMemKiB, maxArgonIter, maxArgonLanes)
	}
	if p.MemoryKiB < 8*uint32(p.Parallelism) {
		return nil, fmt.Errorf("argon2: memory_kib must be at least 8 × parallelism")
	}
	dec := crypt.NewDecoder()
	for _, reg := range []func() error{
		func() error { return bcrypt.RegisterDecoder(dec) },
		func() error { return shacrypt.RegisterDecoderSHA512(dec) },
	} {
		if err := reg(); err != nil {
			return nil, fmt.Errorf("password decoders: %w", err)
		}
	}
	h := &Hasher{cost: p, prefix: argonPrefix(p), dec: dec, sem: make(chan struct{}, 2)}
	h.dummy = argonHash(p, Secret())
	return h, nil
}

// Hash returns the argon2id hash of password.
func (h *Hasher) Hash(password string) (string, error) {
	h.sem <- struct{}{}
	defer func() { <-h.sem }()
	return argonHash(h.cost, password), nil
}

// Verify checks password against encoded. rehash is true when the match is
// against an older format or cost, which the caller should replace.
func (h *Hasher) Verify(password, encoded string) (ok, rehash bool, err error) {
	if err := checkCost(encoded); err != nil {
		return false, false, err
	}
	h.sem <- struct{}{}
	defer func() { <-h.sem }()
	if strings.HasPrefix(encoded, "$argon2id$") {
		ok, err := argonVerify(password, encoded)
		return ok, ok && !strings.HasPrefix(encoded, h.prefix), err
	}
	d, err := h.dec.Decode(encoded)
	if err != nil {
		return false, false, fmt.Errorf("stored password hash: %w", err)
	}
	ok, err = d.MatchAdvanced(password)
	if err != nil || !ok {
		return false, false, err
	}
	return true, !strings.HasPrefix(encoded, h.prefix), nil
}

// VerifyDummy spends the time of a verification for an unknown login.
func (h *Hasher) VerifyDummy(password string) {
	_, _, _ = h.Verify(password, h.dummy)
}

// checkCost refuses hashes whose stated cost is absurd.
func checkCost(enc string) error {
	parts := strings.Split(enc, "$")
	if len(parts) < 3 {
		return fmt.Errorf("stored password hash: not a crypt hash")
	}
	switch parts[1] {
	case "6":
		if r, ok := strings.CutPrefix(parts[2], "rounds="); ok {
			n, err := strconv.Atoi(r)
			if err != nil || n > maxSHARounds {
				return fmt.Errorf("stored password hash: sha512-crypt rounds %q exceed %d", r, maxSHARounds)
			}
		}
	case "2a", "2b", "2y":
		n, err := strconv.Atoi(parts[2])
		if err != nil || n > maxBcryptCost {
			return fmt.Errorf("stored password hash: bcrypt cost %q exceeds %d", parts[2], maxBcryptCost)
		}
	case "argon2id":
		if len(parts) < 4 {
			return fmt.Errorf("stored password hash: malformed argon2id hash")
		}
		return checkArgon(parts[3])
	default:
		return fmt.Errorf("stored password hash: unsupported format $%s$ (sha512-crypt, bcrypt, argon2id)", parts[1])
	}
	return nil
}

func checkArgon(params string) error {
	limits := map[string]int{"m": maxArgonMemKiB, "t": maxArgonIter, "p": maxArgonLanes}
	for _, kv := range strings.Split(params, ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if max, known := limits[k]; !known || err != nil || n > max {
			return fmt.Errorf("stored password hash: argon2id parameter %q out of range", kv)
		}
	}
	return nil
}

// Equal compares secrets in constant time.
func Equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
