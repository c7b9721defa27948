package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims is what a token carries: the resource and id of the record that
// logged in, its role, and the registered issue and expiry times.
type Claims struct {
	Res  string `json:"res"`
	Role string `json:"role"`
	// Cred fingerprints the record's credentials when the token was
	// issued (login, password hash, role); a token whose Cred no longer
	// matches the record is refused.
	Cred string `json:"cred,omitempty"`
	jwt.RegisteredClaims
}

// Tokens issues and verifies HS256 tokens with one key.
type Tokens struct {
	key      []byte
	lifetime time.Duration
	parser   *jwt.Parser
	now      func() time.Time

	// verified remembers tokens whose signature checked out, keyed by the
	// whole token: a repeated token then costs a map lookup, not a JSON
	// decode and an HMAC. Expiry is still checked on every use.
	mu       sync.RWMutex
	verified map[string]*Claims
}

// maxVerified bounds the cache; it is emptied when full.
const maxVerified = 10_000

// NewTokens returns Tokens signing with key; tokens expire after lifetime.
func NewTokens(key []byte, lifetime time.Duration, now func() time.Time) (*Tokens, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("jwt secret: at least 32 bytes needed, got %d", len(key))
	}
	if now == nil {
		now = time.Now
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(now),
	)
	return &Tokens{key: key, lifetime: lifetime, parser: p, now: now, verified: map[string]*Claims{}}, nil
}

// Issue returns a signed token for a record whose credentials have the
// fingerprint cred.
func (t *Tokens) Issue(res, id, role, cred string) (string, error) {
	now := t.now()
	c := Claims{Res: res, Role: role, Cred: cred, RegisteredClaims: jwt.RegisteredClaims{
		Subject:   id,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.lifetime)),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	return s, nil
}

// ErrToken is returned for every token that is not valid; the reason is
// wrapped for logs, never shown to the client in detail.
var ErrToken = errors.New("invalid or expired token")

// Verify checks the signature (HS256 with our key only), the expiry and
// the claims, and returns them.
func (t *Tokens) Verify(token string) (*Claims, error) {
	t.mu.RLock()
	c, ok := t.verified[token]
	t.mu.RUnlock()
	if ok {
		if !t.now().Before(c.ExpiresAt.Time) {
			return nil, fmt.Errorf("%w: token has expired", ErrToken)
		}
		return c, nil
	}
	c, err := t.verify(token)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if len(t.verified) >= maxVerified {
		t.verified = map[string]*Claims{}
	}
	t.verified[token] = c
	t.mu.Unlock()
	return c, nil
}

func (t *Tokens) verify(token string) (*Claims, error) {
	var c Claims
	_, err := t.parser.ParseWithClaims(token, &c, func(tok *jwt.Token) (any, error) {
		if tok.Method != jwt.SigningMethodHS256 {
			return nil, fmt.Errorf("unexpected signing method %v", tok.Header["alg"])
		}
		return t.key, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrToken, err)
	}
	if c.Subject == "" || c.Res == "" || c.Role == "" {
		return nil, fmt.Errorf("%w: claims sub, res and role are required", ErrToken)
	}
	return &c, nil
}

// Secret returns 32 random bytes, base64url-encoded (43 characters).
func Secret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err)) // the kernel's RNG does not fail
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
