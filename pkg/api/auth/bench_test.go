package auth

import (
	"sort"
	"testing"
	"time"
)

// BenchmarkHashDefault: the cost of a new password (create, password change).
func BenchmarkHashDefault(b *testing.B) {
	h, err := NewHasher(DefaultArgon2)
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		start := time.Now()
		h.Hash("correct horse battery staple")
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkVerifyDefault: the cost of a login with a current hash.
func BenchmarkVerifyDefault(b *testing.B) {
	h, _ := NewHasher(DefaultArgon2)
	enc, _ := h.Hash("correct horse battery staple")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ok, _, _ := h.Verify("correct horse battery staple", enc); !ok {
			b.Fatal("no match")
		}
	}
}

// BenchmarkVerifySHA512Crypt: a login with the old API's $6$ hash (5000 rounds).
func BenchmarkVerifySHA512Crypt(b *testing.B) {
	h, _ := NewHasher(DefaultArgon2)
	const enc = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
	for i := 0; i < b.N; i++ {
		if ok, _, _ := h.Verify("Hello world!", enc); !ok {
			b.Fatal("no match")
		}
	}
}
