package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/karana-project/karana/pkg/haproxy"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/tlsgen"
)

// benchDirs holds the cert folders built for benchmarks, removed by TestMain.
var (
	benchMu   sync.Mutex
	benchInvs = map[int]*inventory.Inventory{}
	benchDirs []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range benchDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// benchInventory returns an inventory of n tenants on a /16 whose cert
// folder already holds every certificate (one shared key pair, written
// without fsync): the benchmarks time rendering, not key generation.
func benchInventory(b *testing.B, n int) *inventory.Inventory {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if inv, ok := benchInvs[n]; ok {
		return inv
	}
	dir, err := os.MkdirTemp("", "karana-bench-")
	if err != nil {
		b.Fatal(err)
	}
	benchDirs = append(benchDirs, dir)
	inv, err := inventory.Parse(filepath.Join(dir, "inv.yaml"), []byte(baseYAML))
	if err != nil {
		b.Fatal(err)
	}
	pem, err := tlsgen.SelfSigned([]string{"bench.example.org"}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	certs := CertDir(inv)
	os.MkdirAll(certs, 0o700)
	os.WriteFile(filepath.Join(certs, DefaultPEM), pem, 0o600)
	inv.Tenants = make([]inventory.Tenant, n)
	for i := range inv.Tenants {
		slot := i
		d := fmt.Sprintf("tenant%05d.example.org", i)
		inv.Tenants[i] = inventory.Tenant{Name: fmt.Sprintf("tenant%05d", i), Domain: d, Slot: &slot}
		if err := os.WriteFile(filepath.Join(certs, d+".pem"), pem, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	benchInvs[n] = inv
	return inv
}

func benchRender(b *testing.B, n int) {
	inv := benchInventory(b, n)
	b.ReportAllocs()
	b.ResetTimer()
	var size int
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		out, err := Render(inv, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Missing) > 0 {
			b.Fatalf("missing %d certificates", len(out.Missing))
		}
		size = len(out.Files[InnerFile])
	}
	// CPU time of the process per render: on a shared machine wall time
	// measures the neighbours as much as karana.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(size), "inner.cfg-bytes")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Goal: at most 0.5 s per render on a 2-core machine, memory linear in
// tenants (compare B/op of the two).
func BenchmarkRender1000Tenants(b *testing.B)  { benchRender(b, 1000) }
func BenchmarkRender10000Tenants(b *testing.B) { benchRender(b, 10000) }

// BenchmarkValidate10000Tenants times `haproxy -c` of both configurations
// with 10,000 tenants (30,000 backends, 10,001 certificates). Each
// iteration takes seconds; run it with -benchtime 1x.
func BenchmarkValidate10000Tenants(b *testing.B) {
	if _, err := haproxy.Find(); err != nil {
		b.Skip(err)
	}
	out, err := Render(benchInventory(b, 10000), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := Validate(context.Background(), out); err != nil {
			b.Fatal(err)
		}
	}
}
