// Command scalebench measures RepoKit at scale on one machine: it generates
// realistic bibliographic records (~2.5 KB of JSON each), imports them
// through the public API (records + recid minting in one transaction per
// batch, indexing queued in the same transaction and applied by the outbox
// indexer, as examples/repository's import command does), then measures
// search latency for a Zenodo-like query mix and deep cursor paging, the
// drift check and a full reindex with an alias switch; with -files N, the
// files package on a bucket of N object versions (listing, snapshot, sync,
// ListUploads, GC of orphans).
//
//	go run ./internal/scalebench -n 10000
//	go run ./internal/scalebench -n 100000 -files 100000 -db 'postgres://...' -keep -dir /data/sb
//	go run ./internal/scalebench -reuse -stages drift,reindex -dir /data/sb
//
// Every stage reports its wall time, process CPU time and peak RSS (VmHWM,
// reset at the stage start, and the sampled peak of RssAnon); the import
// also records/s per step and disk used. It is a program, not a test: the
// figures depend on the machine (the load average is printed with them).
// docs/scale.md holds the measured figures.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	_ "github.com/mattn/go-sqlite3"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/zenodo"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
	"github.com/repokit/repokit/search"
	_ "github.com/repokit/repokit/search/blevesearch"
	"github.com/repokit/repokit/tasks"
)

const indexQueue = "indexing"

type config struct {
	n, batch, queries, pages int
	dir, dbURL, searchURL    string
	keep, reuse, nowait      bool
	progress                 time.Duration
	ixBatch, consumers       int
	stages                   map[string]bool
	files, orphans, uploads  int
	filesDB                  string
}

func main() {
	var c config
	var stages string
	flag.IntVar(&c.n, "n", 10000, "records to import")
	flag.IntVar(&c.batch, "batch", 500, "records per import transaction")
	flag.IntVar(&c.queries, "queries", 300, "queries of the search mix")
	flag.IntVar(&c.pages, "pages", 100, "cursor pages of 20 to follow into a broad result")
	flag.StringVar(&c.dir, "dir", "", "work directory (default: a new temporary directory)")
	flag.StringVar(&c.dbURL, "db", "", "database URL (default: SQLite in the work directory)")
	flag.StringVar(&c.searchURL, "search", "", "search URL (default: bleve in the work directory)")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	flag.BoolVar(&c.reuse, "reuse", false, "skip the import when the work directory already holds an imported index (measure the other stages on it)")
	flag.BoolVar(&c.nowait, "nowait", false, "with -reuse: do not run the indexer nor wait for it (measure an index that has not caught up)")
	flag.StringVar(&stages, "stages", "import,search,drift,reindex", "record stages to run, comma-separated: import, search, drift, reindex, rebuild (RebuildFresh from the database)")
	flag.IntVar(&c.files, "files", 0, "object versions of the files stages' bucket (0: no files stages)")
	flag.IntVar(&c.orphans, "orphans", -1, "orphaned file instances for the GC stage (default: files/10)")
	flag.IntVar(&c.uploads, "uploads", -1, "multipart uploads in progress for the ListUploads stage (default: files/10)")
	flag.StringVar(&c.filesDB, "filesdb", "", "database URL of the files stages (default: SQLite in the work directory)")
	flag.IntVar(&c.ixBatch, "ixbatch", 200, "index operations per indexer batch (one bleve batch)")
	flag.IntVar(&c.consumers, "consumers", 2, "indexer consumers (batches applied concurrently)")
	flag.DurationVar(&c.progress, "progress", 10*time.Second, "print the import's progress (created, indexed, CPU, RSS) this often (0: never)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "scalebench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	c.stages = map[string]bool{}
	for _, s := range strings.Split(stages, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.stages[s] = true
		}
	}
	if c.orphans < 0 {
		c.orphans = c.files / 10
	}
	if c.uploads < 0 {
		c.uploads = c.files / 10
	}
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "scalebench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	if c.dir == "" {
		d, err := os.MkdirTemp("", "scalebench-")
		if err != nil {
			return err
		}
		c.dir = d
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	if !c.keep && !c.reuse {
		defer os.RemoveAll(c.dir)
	}
	load0 := loadavg()
	var results []stageResult
	var summary []string
	if len(c.stages) > 0 && !(len(c.stages) == 1 && c.stages["files"]) {
		rs, sum, err := recordStages(ctx, &c)
		results = append(results, rs...)
		summary = sum
		if err != nil {
			printResults(c, load0, summary, results)
			return err
		}
	}
	if c.files > 0 {
		rs, err := filesStages(ctx, c)
		results = append(results, rs...)
		if err != nil {
			printResults(c, load0, summary, results)
			return err
		}
	}
	printResults(c, load0, summary, results)
	return nil
}

func printResults(c config, load0 string, summary []string, results []stageResult) {
	fmt.Printf("scalebench: %d records, %d file versions; db %s, search %s; load average at the start %s; %s\n",
		c.n, c.files, sqldb.Redact(c.dbURL), strings.SplitN(c.searchURL, "?", 2)[0], load0, gcSettings())
	for _, l := range summary {
		fmt.Println(l)
	}
	fmt.Printf("%-40s %10s %10s %9s %9s %9s %6s  %s\n", "stage", "time", "CPU", "peak RSS", "peak anon", "start RSS", "load", "")
	for _, r := range results {
		fmt.Printf("%-40s %10s %10s %6.0f MiB %5.0f MiB %5.0f MiB %6s  %s\n", r.name, r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond),
			mib(r.peak), mib(r.peakAnon), mib(r.startRSS), r.load, r.note)
	}
}

// recordStages imports c.n records (unless -reuse finds them imported) and
// runs the record stages: the search mix, cursor paging, the drift check and
// a full reindex with an alias switch.
func recordStages(ctx context.Context, c *config) ([]stageResult, []string, error) {
	if c.dbURL == "" {
		c.dbURL = "sqlite://" + filepath.Join(c.dir, "repokit.db")
	}
	if c.searchURL == "" {
		c.searchURL = "bleve://" + filepath.Join(c.dir, "index")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	db, err := sqldb.Open(ctx, c.dbURL)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	recs, err := records.New(ctx, db, records.WithLogger(log))
	if err != nil {
		return nil, nil, err
	}
	defer recs.Close()
	pids, err := pid.New(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	// The indexing queue holds only the batch consumer's tasks, which it
	// claims by type: no queue producer for it (tasks.WithQueue), whose
	// claim would scan the whole pending backlog (every index task
	// excluded by type) at every poll and commit.
	tc, err := tasks.New(ctx, db, tasks.WithLogger(log), tasks.WithPollInterval(200*time.Millisecond))
	if err != nil {
		return nil, nil, err
	}
	defer tc.Close()
	engine, err := search.Open(ctx, c.searchURL, search.WithLogger(log))
	if err != nil {
		return nil, nil, err
	}
	defer engine.Close()
	index, err := engine.EnsureIndex(ctx, "records", zenodo.Definition)
	if err != nil {
		return nil, nil, err
	}
	// indexed counts the documents the indexer applied (progress and the
	// wait for the import: a count through the searcher computes its facets
	// over the whole index, which cost a quarter of the import's CPU when
	// polled every 200 ms)
	var indexed atomic.Int64
	ix := search.NewIndexer(engine, tc, search.WithIndexName("records"), search.WithTaskQueue(indexQueue),
		search.WithBatch(c.ixBatch, 100*time.Millisecond), search.WithConsumers(c.consumers), search.WithLogger(log),
		search.WithAfterIndex(func(_ context.Context, _ string, ids []string) { indexed.Add(int64(len(ids))) }))
	ix.Attach(recs)
	searcher, err := search.NewSearcher(index, zenodo.SearchConfig())
	if err != nil {
		return nil, nil, err
	}
	if !(c.reuse && c.nowait) {
		if err := tc.Start(ctx); err != nil {
			return nil, nil, err
		}
		defer func() { _ = tc.Stop(context.Background()) }()
	}

	var out []stageResult
	var summary []string
	row := func(k, f string, a ...any) {
		summary = append(summary, fmt.Sprintf("%-52s %s", k, fmt.Sprintf(f, a...)))
	}
	stage := func(name string, fn func() (string, error)) error {
		r, err := measure(name, fn)
		out = append(out, r)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	imported := false
	if c.reuse {
		var n int
		if err := db.GetContext(ctx, &n, "SELECT COUNT(*) FROM records_metadata"); err != nil {
			return nil, nil, err
		}
		if n > 0 {
			// the indexer (running) applies what the outbox still holds
			c.n, imported = n, true
			if c.nowait {
				res, err := searcher.Search(ctx, &search.Request{Size: 1})
				if err != nil {
					return nil, nil, err
				}
				row("import", "skipped (-reuse -nowait): %d records, %d indexed, indexer stopped", n, res.Total)
			} else {
				t := time.Now()
				if err := waitIndexed(ctx, searcher, n, t); err != nil {
					return nil, nil, err
				}
				row("import", "skipped (-reuse): %d records, indexed after %s", n, time.Since(t).Round(time.Second))
			}
		}
	}
	if c.stages["import"] && !imported {
		err := stage("import (imported and searchable)", func() (string, error) {
			return importRecords(ctx, c, db, recs, pids, &indexed, row)
		})
		if err != nil {
			return out, summary, err
		}
		t := time.Now()
		if err := waitIndexed(ctx, searcher, c.n, t); err != nil {
			return out, summary, err
		}
		row("check: the index holds every record", "after %s (not counted in the import)", time.Since(t).Round(time.Millisecond))
		disk := du(c.dir)
		what := "disk used (database + index)"
		if !strings.HasPrefix(c.dbURL, "sqlite:") {
			what = "disk used (work directory only: the index)"
		}
		row(what, "%.0f MiB (%.1f KiB/record)", float64(disk)/(1<<20), float64(disk)/1024/float64(c.n))
	}
	if c.stages["search"] {
		err := stage("search mix", func() (string, error) {
			mix := make([]time.Duration, 0, c.queries)
			var hits int64
			for _, r := range zenodo.Mix(2, c.queries) {
				t := time.Now()
				res, err := searcher.Search(ctx, r)
				if err != nil {
					return "", fmt.Errorf("search %q: %w", r.Q, err)
				}
				mix = append(mix, time.Since(t))
				hits += res.Total
			}
			p := percentiles(mix)
			return fmt.Sprintf("%d queries p50/p95/p99 %s / %s / %s (avg %d hits)", len(mix), p[0], p[1], p[2], hits/int64(max(1, len(mix)))), nil
		})
		if err != nil {
			return out, summary, err
		}
		err = stage("cursor paging", func() (string, error) {
			// deep cursor paging into a broad result (every open record, newest first)
			var paging []time.Duration
			req := zenodo.Browse(20)
			for range c.pages {
				t := time.Now()
				res, err := searcher.Search(ctx, req)
				if err != nil {
					return "", fmt.Errorf("cursor page: %w", err)
				}
				paging = append(paging, time.Since(t))
				if res.Next == "" || len(res.Hits) == 0 {
					break
				}
				req.After = res.Next
			}
			p := percentiles(paging)
			return fmt.Sprintf("%d pages of 20 p50/p95/p99 %s / %s / %s", len(paging), p[0], p[1], p[2]), nil
		})
		if err != nil {
			return out, summary, err
		}
	}
	if c.stages["drift"] {
		releaseIndexPages(ctx, engine, "records")
		err := stage("drift check", func() (string, error) {
			rep, err := ix.CheckDrift(ctx, search.DriftOptions{})
			if err != nil {
				return "", err
			}
			if rep.Records != int64(c.n) {
				return "", fmt.Errorf("drift: %d records read, want %d", rep.Records, c.n)
			}
			if !rep.Clean() {
				if !c.nowait {
					return "", fmt.Errorf("drift: %d records, %d docs, missing %d, stale %d, orphaned %d", rep.Records, rep.Docs, rep.Missing, rep.Stale, rep.Orphaned)
				}
				return fmt.Sprintf("%d records and %d documents compared: missing %d, stale %d, orphaned %d (index not caught up: -nowait)",
					rep.Records, rep.Docs, rep.Missing, rep.Stale, rep.Orphaned), nil
			}
			return fmt.Sprintf("%d records and %d documents compared, clean", rep.Records, rep.Docs), nil
		})
		if err != nil {
			return out, summary, err
		}
	}
	if c.stages["reindex"] {
		releaseIndexPages(ctx, engine, "records")
		err := stage("reindex (copy + alias switch)", func() (string, error) {
			t0, next, phase := time.Now(), int64(0), ""
			progress := search.OnProgress(func(p search.Progress) {
				if p.Phase != phase {
					phase, next = p.Phase, 0
				}
				if p.Done >= next { // a line every 10% (memory over time)
					fmt.Fprintf(os.Stderr, "scalebench: reindex %s %d/%d after %s, RSS %.0f MiB (anon %.0f, file %.0f MiB)\n", p.Phase, p.Done, p.Total,
						time.Since(t0).Round(time.Second), mib(procStatus("VmRSS")), mib(procStatus("RssAnon")), mib(procStatus("RssFile")))
					next = p.Done + max(p.Total/10, 1)
				}
			})
			if err := index.Reindex(ctx, zenodo.Definition, progress); err != nil {
				return "", err
			}
			return fmt.Sprintf("%d documents copied into a new index", c.n), nil
		})
		if err == nil {
			err = checkCount(ctx, index, c.n, "reindex")
		}
		if err != nil {
			return out, summary, err
		}
	}
	if c.stages["rebuild"] {
		releaseIndexPages(ctx, engine, "records")
		err := stage("rebuild from the database", func() (string, error) {
			if err := ix.RebuildFresh(ctx, "records", 0); err != nil {
				return "", err
			}
			return fmt.Sprintf("%d records indexed into a new index", c.n), nil
		})
		if err == nil {
			err = checkCount(ctx, index, c.n, "rebuild")
		}
		if err != nil {
			return out, summary, err
		}
	}
	return out, summary, nil
}

// importRecords imports c.n generated records the way the starter's import
// command does and waits until the indexer has applied them all.
func importRecords(ctx context.Context, c *config, db *sqlx.DB, recs *records.Store, pids *pid.Store, indexed *atomic.Int64, row func(k, f string, a ...any)) (string, error) {
	load0 := loadavg()
	g := zenodo.NewGenerator(1)
	var genTime, createTime time.Duration
	var docBytes int64
	start := time.Now()
	prog := startProgress(indexed, c.progress)
	for done := 0; done < c.n; {
		k := min(c.batch, c.n-done)
		t0 := time.Now()
		docs := make([]map[string]any, k)
		for i := range docs {
			docs[i] = g.Record()
		}
		genTime += time.Since(t0)
		t1 := time.Now()
		err := sqldb.InTx(ctx, db, nil, func(tx *sqlx.Tx) error {
			p, r := pids.WithTx(tx), recs.WithTx(tx)
			for _, doc := range docs {
				id, err := uuid.NewV7()
				if err != nil {
					return err
				}
				recid, err := p.MintRecid(ctx, pid.ObjectRecord, id)
				if err != nil {
					return err
				}
				doc["recid"] = recid.Value
				b, err := json.Marshal(doc)
				if err != nil {
					return err
				}
				docBytes += int64(len(b))
				if _, err := r.Create(ctx, b, records.WithID(id)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("import: %w", err)
		}
		createTime += time.Since(t1)
		done += k
		prog.created.Store(int64(done))
	}
	created := time.Since(start)
	createdCPU := processCPU() - prog.cpu0
	createdRSS := procStatus("VmHWM")
	indexedAtCreate := indexed.Load()
	// wait until the outbox indexer has applied every record (applied
	// documents are searchable); the caller then checks, outside the
	// stage, that the index holds them: that count through the searcher
	// reads the whole index (its facets and ids), which would count in
	// the stage's peak RSS as the file pages of every segment
	for indexed.Load() < int64(c.n) {
		if time.Since(start) > 6*time.Hour {
			return "", errors.New("indexing did not finish")
		}
		time.Sleep(100 * time.Millisecond)
	}
	total := time.Since(start)
	cpu := processCPU() - prog.cpu0
	prog.finish()
	row("records", "%d (%.0f B JSON each on average), batch %d", c.n, float64(docBytes)/float64(c.n), c.batch)
	row("load average before / after import", "%s / %s", load0, loadavg())
	row("generate (JSON built in memory)", "%s (%.0f rec/s)", genTime.Round(time.Millisecond), rate(c.n, genTime))
	row("create: records + recids + outbox rows", "%s (%.0f rec/s)", createTime.Round(time.Millisecond), rate(c.n, createTime))
	row("indexing backlog drained after create", "%s (%d indexed when the last record was created)", (total - created).Round(time.Millisecond), indexedAtCreate)
	row("overall: imported and searchable", "%s (%.0f rec/s)", total.Round(time.Millisecond), rate(c.n, total))
	row("process CPU: until created / in all", "%s / %s (%.2f ms per record, %.2f cores on average)", createdCPU.Round(time.Second), cpu.Round(time.Second),
		float64(cpu.Microseconds())/1000/float64(c.n), cpu.Seconds()/total.Seconds())
	row("indexing rate by index size (wall)", "%s", prog.bands(int64(c.n), 5))
	row("after create: CPU per indexed doc by index size", "%s", prog.cpuBands(int64(c.n), 10))
	row("peak RSS (VmHWM) when the last record was created", "%.0f MiB", mib(createdRSS))
	return fmt.Sprintf("%.0f rec/s overall", rate(c.n, total)), nil
}

// waitIndexed waits until the index holds n documents.
func waitIndexed(ctx context.Context, searcher *search.Searcher, n int, start time.Time) error {
	for {
		res, err := searcher.Search(ctx, &search.Request{Size: 1})
		// a count on a busy machine can exceed the search timeout: retry
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		if err == nil && res.Total >= int64(n) {
			return nil
		}
		if time.Since(start) > 6*time.Hour {
			return errors.New("indexing did not finish")
		}
		time.Sleep(time.Second) // a count computes the facets over the index
	}
}

// gcSettings describes the garbage collector's settings in effect (GOGC and
// GOMEMLIMIT change the import's CPU and memory: see docs/scale.md).
func gcSettings() string {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	lim := "none"
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		lim = fmt.Sprintf("%.0f MiB", mib(l))
	}
	return fmt.Sprintf("GOGC %d, GOMEMLIMIT %s", p, lim)
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func percentiles(ds []time.Duration) [3]time.Duration {
	var out [3]time.Duration
	if len(ds) == 0 {
		return out
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	for i, q := range []float64{0.50, 0.95, 0.99} {
		out[i] = s[min(len(s)-1, int(q*float64(len(s))))].Round(100 * time.Microsecond)
	}
	return out
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func du(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
