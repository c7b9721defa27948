package server_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/karana-project/karana/pkg/api/auth"
)

func TestBadTokens(t *testing.T) {
	e := newEnv(t)
	a, ta := e.createUser("alice", "client")
	parts := strings.Split(ta, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	claims := jwt.MapClaims{"sub": a, "res": "users", "role": "admin", "exp": time.Now().Add(time.Hour).Unix()}

	otherKey, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("another-secret-another-secret-xx"))
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, claims).SignedString([]byte(e.cfg.JWT.Secret))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	old, _ := auth.NewTokens([]byte(e.cfg.JWT.Secret), time.Hour, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	expired, _ := old.Issue("users", a, "client", "")
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": a, "res": "users", "role": "admin"}).SignedString([]byte(e.cfg.JWT.Secret))
	// the payload changed to claim admin, the signature kept
	forged := parts[0] + "." + b64([]byte(`{"res":"users","role":"admin","sub":"`+a+`","exp":9999999999}`)) + "." + parts[2]

	tests := []struct{ name, header string }{
		{"alg none", "Bearer " + none},
		{"alg none, no signature", "Bearer " + b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."},
		{"another key", "Bearer " + otherKey},
		{"HS512", "Bearer " + hs512},
		{"expired", "Bearer " + expired},
		{"no expiry", "Bearer " + noExp},
		{"forged payload", "Bearer " + forged},
		{"malformed", "Bearer abc.def"},
		{"garbage", "Bearer !!!"},
		{"empty bearer", "Bearer "},
		{"basic scheme", "Basic YWRtaW46YWRtaW4="},
		{"no header", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, rec := request("GET", "/v1/users/"+a), recorder()
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			e.app.Handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("got %d %s, want 401", rec.Code, rec.Body.String())
			}
		})
	}
	if code, _ := e.do("GET", "/v1/users/"+a, ta, nil); code != 200 {
		t.Errorf("the genuine token: %d", code)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	e.createUser("alice", "client")
	tests := []struct {
		name string
		body any
		want int
	}{
		{"httpie form: user", map[string]string{"user": "alice@example.org", "password": "password-alice"}, 200},
		{"login synonym", map[string]string{"login": "alice@example.org", "password": "password-alice"}, 200},
		{"seed envelope", map[string]string{"data": `{"user":"alice@example.org","password":"password-alice"}`}, 200},
		{"wrong password", map[string]string{"user": "alice@example.org", "password": "nope-nope"}, 401},
		{"unknown login", map[string]string{"user": "who@example.org", "password": "nope-nope"}, 401},
		{"no password", map[string]string{"user": "alice@example.org"}, 400},
		{"extra field", map[string]string{"user": "alice@example.org", "password": "x", "role": "admin"}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := e.do("POST", "/v1/users/login", "", tt.body)
			if code != tt.want {
				t.Errorf("got %d %v, want %d", code, out, tt.want)
			}
		})
	}
	if code, _ := e.do("POST", "/v1/karanas/login", "", map[string]string{"user": "a", "password": "b"}); code != 404 {
		t.Errorf("karanas cannot log in: got %d", code)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t)
	e.createUser("alice", "client")
	got := map[int]int{}
	for i := 0; i < 8; i++ {
		code, _ := e.do("POST", "/v1/users/login", "", map[string]string{"user": "alice@example.org", "password": "wrong-wrong"})
		got[code]++
	}
	// createUser's login took one of alice's 5 attempts
	if got[401] != 4 || got[429] != 4 {
		t.Errorf("per-login limit: got %v, want 4×401 then 4×429", got)
	}
	rec := e.raw("POST", "/v1/users/login", "", map[string]string{"user": "alice@example.org", "password": "password-alice"})
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" {
		t.Errorf("the right password is limited too once the limit is hit: %d", rec.Code)
	}
	// per address: other logins from the same address
	got = map[int]int{}
	for i := 0; i < 20; i++ {
		code, _ := e.do("POST", "/v1/users/login", "", map[string]string{"user": "u" + string(rune('a'+i)) + "@x.org", "password": "wrong-wrong"})
		got[code]++
	}
	if got[429] == 0 {
		t.Errorf("per-address limit never answered 429: %v", got)
	}
}

func TestRateLimitBehindTrustedProxy(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		cfg := testConfig(t)
		if trusted {
			cfg.TrustedProxies = []string{"192.0.2.0/24"} // httptest's RemoteAddr
		}
		e := newEnvWith(t, cfg, nil)
		limited := 0
		for i := 0; i < 25; i++ { // a different login and client each time
			body := fmt.Sprintf(`{"user":"nobody%d@x.org","password":"wrong-wrong"}`, i)
			req := httptest.NewRequest("POST", "/v1/users/login", strings.NewReader(body))
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
			rec := httptest.NewRecorder()
			e.app.Handler.ServeHTTP(rec, req)
			if rec.Code == http.StatusTooManyRequests {
				limited++
			}
		}
		// untrusted: one address (the proxy's) with 20 attempts, one used by newEnv's login
		if want := map[bool]int{false: 6, true: 0}[trusted]; limited != want {
			t.Errorf("trusted=%v: %d attempts limited, want %d", trusted, limited, want)
		}
	}
}
