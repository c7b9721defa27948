package auth

import (
	"sync"
	"time"
)

// Limiter is a token bucket per key (a login name, a client address).
type Limiter struct {
	burst float64
	every time.Duration // one token back every this long
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxKeys bounds the memory an attacker can make the limiter use.
const maxKeys = 100_000

// NewLimiter allows burst attempts per key, then one every interval.
func NewLimiter(burst int, every time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{burst: float64(burst), every: every, now: now, buckets: map[string]*bucket{}}
}

// Allow takes a token for key; false means the caller must wait.
func (l *Limiter) Allow(key string) bool { return l.Take(key) == 0 }

// Take takes a token for key and returns 0, or, when there is none,
// returns how long until there is one (the Retry-After).
func (l *Limiter) Take(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxKeys {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens += float64(now.Sub(b.last)) / float64(l.every)
	if b.tokens > l.burst {
		b.tokens = l.burst
	}
	b.last = now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) * float64(l.every))
	}
	b.tokens--
	return 0
}

// prune drops the buckets that have refilled; if none has, it drops all.
func (l *Limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.last))/float64(l.every) >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxKeys {
		l.buckets = map[string]*bucket{}
	}
}
