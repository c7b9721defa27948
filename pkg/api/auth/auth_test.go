package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/go-crypt/crypt/algorithm/argon2"
	"github.com/go-crypt/crypt/algorithm/bcrypt"
)

func cheap(t *testing.T) *Hasher {
	h, err := NewHasher(Argon2{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestVerifyFormats(t *testing.T) {
	h := cheap(t)
	b, err := bcrypt.New(bcrypt.WithIterations(10))
	if err != nil {
		t.Fatal(err)
	}
	bd, _ := b.Hash("Hello world!")
	a, _ := h.Hash("Hello world!")
	other, _ := NewHasher(Argon2{MemoryKiB: 128, Iterations: 1, Parallelism: 1})
	oa, _ := other.Hash("Hello world!")
	tests := []struct {
		name, hash  string
		ok, rehash  bool
		errContains string
	}{
		{"sha512-crypt", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", true, true, ""},
		{"sha512-crypt rounds", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.", true, true, ""},
		{"bcrypt", bd.Encode(), true, true, ""},
		{"argon2id current", a, true, false, ""},
		{"argon2id other cost", oa, true, true, ""},
		{"absurd rounds", "$6$rounds=999999999$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.", false, false, "rounds"},
		{"absurd bcrypt", "$2b$31$" + strings.Repeat("a", 53), false, false, "bcrypt cost"},
		{"absurd argon", "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", false, false, "m=4194304"},
		{"md5-crypt", "$1$salt$hash", false, false, "unsupported"},
		{"plain text", "Hello world!", false, false, "not a crypt hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify("Hello world!", tt.hash)
			if ok != tt.ok || rehash != tt.rehash || (tt.errContains != "") != (err != nil) || (err != nil && !strings.Contains(err.Error(), tt.errContains)) {
				t.Errorf("got ok=%v rehash=%v err=%v", ok, rehash, err)
			}
			if tt.ok {
				if ok, _, _ := h.Verify("hello world!", tt.hash); ok {
					t.Error("a wrong password matched")
				}
			}
		})
	}
}

func TestTokens(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	tk, err := NewTokens([]byte(strings.Repeat("k", 32)), time.Hour, clock)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := tk.Issue("users", "id-1", "client", "")
	c, err := tk.Verify(s)
	if err != nil || c.Subject != "id-1" || c.Role != "client" || c.Res != "users" {
		t.Fatalf("round trip: %+v %v", c, err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := tk.Verify(s); err == nil {
		t.Error("an expired token verified")
	}
	if _, err := NewTokens([]byte("short"), time.Hour, nil); err == nil {
		t.Error("a short key was accepted")
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := NewLimiter(2, time.Minute, func() time.Time { return now })
	got := []bool{l.Allow("a"), l.Allow("a"), l.Allow("a"), l.Allow("b")}
	if !got[0] || !got[1] || got[2] || !got[3] {
		t.Errorf("burst of 2 per key: %v", got)
	}
	now = now.Add(time.Minute)
	if !l.Allow("a") || l.Allow("a") {
		t.Error("one token back per minute")
	}
}

// argon2id hashes written by another library (go-crypt) verify too.
func TestArgon2idInterop(t *testing.T) {
	a, err := argon2.New(argon2.WithVariantID(), argon2.WithM(128), argon2.WithT(1), argon2.WithP(1))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := a.Hash("Hello world!")
	h := cheap(t)
	if ok, rehash, err := h.Verify("Hello world!", d.Encode()); !ok || !rehash || err != nil {
		t.Errorf("go-crypt argon2id: ok=%v rehash=%v err=%v (%s)", ok, rehash, err, d.Encode())
	}
	if ok, _, _ := h.Verify("Hello world?", d.Encode()); ok {
		t.Error("a wrong password matched")
	}
}
