// Command loadgen puts a fixed load on a running examples/repository server:
// a fixed number of workers loop for a fixed time over a mix of record reads,
// searches with facets and small file downloads, and it reports throughput,
// p50/p99 latency and errors per kind of request.
//
//	TOKEN=$(go run ./examples/repository create-token --email you@example.org)
//	go run ./examples/repository/cmd/loadgen --url http://127.0.0.1:8080 --token $TOKEN --seed 200 --concurrency 8 --duration 30s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

var words = []string{"ocean", "salinity", "glacier", "protein", "genome", "galaxy", "neutrino", "forest", "climate", "soil"}

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "server URL")
	token := flag.String("token", os.Getenv("REPOKIT_TOKEN"), "personal API token (needed for --seed)")
	seed := flag.Int("seed", 0, "create this many records (each with a small file) before the run")
	conc := flag.Int("concurrency", 8, "concurrent workers")
	dur := flag.Duration("duration", 30*time.Second, "length of the run")
	mix := flag.String("mix", "read=4,search=4,download=2", "relative weights of the request kinds: read (API record), search (API, with a facet), download (small file), page (record page, page-cached)")
	flag.Parse()
	if err := run(*base, *token, *seed, *conc, *dur, *mix, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

type target struct{ id, file string }

func run(base, token string, seed, conc int, dur time.Duration, mix string, out io.Writer) error {
	base = strings.TrimRight(base, "/")
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2}}
	if seed > 0 {
		if token == "" {
			return errors.New("--seed needs --token")
		}
		if err := seedRecords(client, base, token, seed, out); err != nil {
			return err
		}
	}
	targets, err := discover(client, base)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return errors.New("no public record with a file found; use --seed")
	}
	kinds, weights, err := parseMix(mix)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "load: %d workers for %s over %d records (mix %s)\n", conc, dur, len(targets), mix)

	type sample struct {
		kind int
		d    time.Duration
		err  bool
	}
	results := make([][]sample, conc)
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for ctx.Err() == nil {
				k := pick(rng, weights)
				t := targets[rng.IntN(len(targets))]
				var u string
				switch kinds[k] {
				case "read":
					u = base + "/api/records/" + t.id
				case "search":
					u = fmt.Sprintf("%s/api/records?q=%s&resource_type=%s&size=10", base, words[rng.IntN(len(words))], []string{"dataset", "software", "publication"}[rng.IntN(3)])
				case "download":
					u = base + "/api/records/" + t.id + "/files/" + t.file
				case "page":
					u = base + "/records/" + t.id // anonymous HTML, page-cached
				}
				t0 := time.Now()
				bad := get(ctx, client, u)
				if ctx.Err() != nil {
					break // cut off by the end of the run: not counted
				}
				results[w] = append(results[w], sample{k, time.Since(t0), bad})
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	fmt.Fprintf(out, "%-9s %9s %9s %9s %9s %7s\n", "kind", "requests", "req/s", "p50", "p99", "errors")
	var all []time.Duration
	allErr := 0
	for k, name := range kinds {
		var ds []time.Duration
		errs := 0
		for _, rs := range results {
			for _, s := range rs {
				if s.kind == k {
					ds = append(ds, s.d)
					if s.err {
						errs++
					}
				}
			}
		}
		all = append(all, ds...)
		allErr += errs
		printRow(out, name, ds, errs, elapsed)
	}
	printRow(out, "total", all, allErr, elapsed)
	return nil
}

func printRow(out io.Writer, name string, ds []time.Duration, errs int, elapsed time.Duration) {
	slices.Sort(ds)
	q := func(p float64) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		return ds[min(len(ds)-1, int(p*float64(len(ds))))]
	}
	fmt.Fprintf(out, "%-9s %9d %9.1f %9s %9s %7d\n", name, len(ds), float64(len(ds))/elapsed.Seconds(),
		q(0.50).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), errs)
}

func get(ctx context.Context, c *http.Client, u string) (bad bool) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	res, err := c.Do(req)
	if err != nil {
		return true
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return err != nil || res.StatusCode >= 400
}

func pick(rng *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func parseMix(s string) ([]string, []int, error) {
	var kinds []string
	var ws []int
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		var n int
		if _, err := fmt.Sscan(v, &n); !ok || err != nil || n < 0 || (k != "read" && k != "search" && k != "download" && k != "page") {
			return nil, nil, fmt.Errorf("bad --mix entry %q", kv)
		}
		if n > 0 {
			kinds, ws = append(kinds, k), append(ws, n)
		}
	}
	if len(kinds) == 0 {
		return nil, nil, errors.New("--mix has no positive weight")
	}
	return kinds, ws, nil
}

func seedRecords(c *http.Client, base, token string, n int, out io.Writer) error {
	rng := rand.New(rand.NewPCG(7, 7))
	types := []string{"dataset", "software", "publication"}
	t0 := time.Now()
	for i := range n {
		w1, w2 := words[rng.IntN(len(words))], words[rng.IntN(len(words))]
		body, _ := json.Marshal(map[string]any{"metadata": map[string]any{
			"title": fmt.Sprintf("%s and %s, study %d", w1, w2, i), "creators": []string{"Load Generator"},
			"resource_type": types[i%3], "keywords": []string{w1, w2}, "publication_year": 2000 + i%25,
			"description": strings.Repeat(w1+" ", 20)}})
		req, _ := http.NewRequest(http.MethodPost, base+"/api/records", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		var rec struct {
			ID string `json:"id"`
		}
		err = json.NewDecoder(res.Body).Decode(&rec)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusCreated {
			return fmt.Errorf("seed record %d: HTTP %d %v", i, res.StatusCode, err)
		}
		req, _ = http.NewRequest(http.MethodPut, base+"/api/records/"+rec.ID+"/files/data.csv", strings.NewReader(strings.Repeat("1,2,3,4\n", 512)))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err = c.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode >= 300 {
			return fmt.Errorf("seed file %d: HTTP %d", i, res.StatusCode)
		}
	}
	fmt.Fprintf(out, "seeded %d records with a 4 KiB file each in %s\n", n, time.Since(t0).Round(time.Millisecond))
	// Wait for the indexer to catch up.
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var s struct {
			Hits struct {
				Total int `json:"total"`
			} `json:"hits"`
		}
		res, err := c.Get(base + "/api/records?q=creators:generator&size=1")
		if err == nil {
			_ = json.NewDecoder(res.Body).Decode(&s)
			res.Body.Close()
			if s.Hits.Total >= n {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("seeded records were not all indexed within 2 minutes")
}

// discover lists public records with their first file through the API
// (up to 500, by cursor).
func discover(c *http.Client, base string) ([]target, error) {
	var out []target
	u := base + "/api/records?size=100&sort=newest"
	for u != "" && len(out) < 500 {
		res, err := c.Get(u)
		if err != nil {
			return nil, err
		}
		var page struct {
			Hits struct {
				Hits []struct {
					ID string `json:"id"`
				} `json:"hits"`
			} `json:"hits"`
			Links map[string]string `json:"links"`
		}
		err = json.NewDecoder(res.Body).Decode(&page)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		for _, h := range page.Hits.Hits {
			res, err := c.Get(base + "/api/records/" + h.ID + "/files")
			if err != nil {
				return nil, err
			}
			var fl struct {
				Contents []struct {
					Key string `json:"key"`
				} `json:"contents"`
			}
			_ = json.NewDecoder(res.Body).Decode(&fl)
			res.Body.Close()
			if len(fl.Contents) > 0 {
				out = append(out, target{id: h.ID, file: fl.Contents[0].Key})
			}
		}
		u = page.Links["next_cursor"]
	}
	return out, nil
}
