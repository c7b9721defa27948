package auth

import "testing"

// BenchmarkHashDefault: the cost of a new password (create, password change).
func BenchmarkHashDefault(b *testing.B) {
	h, err := NewHasher(DefaultArgon2)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		h.Hash("correct horse battery staple")
	}
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
