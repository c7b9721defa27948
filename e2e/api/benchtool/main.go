// Command benchtool supports e2e/bench-api.sh:
//
//	benchtool seed -dir D -users N    write a dump of N users (one shared argon2id hash)
//	benchtool bare -listen A -file F  serve F's bytes on every path: the bare net/http baseline
//	benchtool post -url U -token T -n N  create N users one after another; print latency percentiles
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/karana-project/karana/pkg/api/auth"
	"github.com/karana-project/karana/pkg/fsutil"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtool seed|bare|post [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seed(os.Args[2:])
	case "bare":
		err = bare(os.Args[2:])
	case "post":
		err = post(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}

func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	dir := fs.String("dir", "", "data folder")
	n := fs.Int("users", 10000, "users to write")
	fs.Parse(args)
	h, err := auth.NewHasher(auth.DefaultArgon2)
	if err != nil {
		return err
	}
	hash, _ := h.Hash("bench-password")
	users := make(map[string]any, *n)
	for i := 0; i < *n; i++ {
		id := uuid.NewString()
		email := fmt.Sprintf("user%05d@bench.example.org", i)
		users[id] = map[string]any{"uuid": id, "name": fmt.Sprintf("User %d", i), "email": email, "role": "client",
			"password_influx": "UUTQAMMMLZoZ3RTK", "created_at": "2017-03-02T15:26:11.767166+00:00", "karanas": []any{},
			"credentials": map[string]any{"login": email, "password": hash}}
	}
	data, err := json.Marshal(map[string]any{"users": users, "karanas": map[string]any{}})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o750); err != nil {
		return err
	}
	return fsutil.WriteFile(filepath.Join(*dir, "table_db.json"), data, 0o600)
}

func bare(args []string) error {
	fs := flag.NewFlagSet("bare", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:18081", "address")
	file := fs.String("file", "", "response body")
	fs.Parse(args)
	body, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	return http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
}

func post(args []string) error {
	fs := flag.NewFlagSet("post", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:18080", "API base URL")
	token := fs.String("token", "", "admin token")
	n := fs.Int("n", 300, "users to create")
	fs.Parse(args)
	client := &http.Client{Timeout: 30 * time.Second}
	lat := make([]time.Duration, 0, *n)
	run := time.Now().UnixNano()
	for i := 0; i < *n; i++ {
		email := fmt.Sprintf("new%d-%d@bench.example.org", run, i)
		body, _ := json.Marshal(map[string]any{"name": "New", "email": email,
			"credentials": map[string]string{"login": email, "password": "bench-password"}})
		req, _ := http.NewRequest("POST", *url+"/v1/users/new", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+*token)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("POST %d: status %d", i, resp.StatusCode)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	fmt.Printf("n=%d p50=%.1fms p90=%.1fms p99=%.1fms max=%.1fms\n", len(lat), ms(pct(0.5)), ms(pct(0.9)), ms(pct(0.99)), ms(lat[len(lat)-1]))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
