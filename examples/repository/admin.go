package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/httperr"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
)

type adminFunc func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int

var adminCommands map[string]adminFunc

func init() {
	adminCommands = map[string]adminFunc{
		"create-admin":  cmdCreateAdmin,
		"create-token":  cmdCreateToken,
		"reindex":       cmdReindex,
		"check-drift":   cmdCheckDrift,
		"verify-files":  cmdVerifyFiles,
		"migrate-files": cmdMigrateFiles,
		"import":        cmdImport,
		"export":        cmdExport,
	}
}

// adminEnv is what an admin command works with.
type adminEnv struct {
	app    *App
	fs     *flag.FlagSet
	stdout io.Writer
	stderr io.Writer
}

// withApp parses flags (define adds the command's own), opens the app and
// runs fn. Errors print one line on stderr and exit 1.
func withApp(ctx context.Context, name string, args []string, stdout, stderr io.Writer, needSearch bool,
	define func(fs *flag.FlagSet), fn func(ctx context.Context, e *adminEnv) int) int {
	var cfg Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cfg.register(fs)
	logLevel := fs.String("log-level", envOr("REPOKIT_LOG_LEVEL", "warn"), "debug, info, warn or error")
	if define != nil {
		define(fs)
	}
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if err := cfg.Resolve(); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return exitFailure
	}
	app, err := Open(ctx, &cfg, newLogger(stderr, *logLevel), appOptions{noSearch: !needSearch})
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return exitFailure
	}
	defer app.Close()
	return fn(withSystem(ctx), &adminEnv{app: app, fs: fs, stdout: stdout, stderr: stderr})
}

func fail(w io.Writer, err error) int {
	fmt.Fprintln(w, "error:", err)
	return exitFailure
}

func newBar(w io.Writer, total int64, desc string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

func readPassword(stdin io.Reader) (string, error) {
	if p := os.Getenv("REPOKIT_ADMIN_PASSWORD"); p != "" {
		return p, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no password: pass --password, set REPOKIT_ADMIN_PASSWORD or write it on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func cmdCreateAdmin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var email, password string
	return withApp(ctx, "create-admin", args, stdout, stderr, false, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the admin's e-mail (required)")
		fs.StringVar(&password, "password", "", "password (prefer REPOKIT_ADMIN_PASSWORD or stdin)")
	}, func(ctx context.Context, e *adminEnv) int {
		if email == "" {
			fmt.Fprintln(stderr, "create-admin: --email is required")
			return exitUsage
		}
		if password == "" {
			p, err := readPassword(stdin)
			if err != nil {
				return fail(stderr, err)
			}
			password = p
		}
		u, err := e.app.users.Create(ctx, email, password, true, e.app.bcryptCost)
		if errors.Is(err, errUserExists) {
			u, err = e.app.users.ByEmail(ctx, email)
			if err == nil {
				err = e.app.users.SetPassword(ctx, u.ID, password, true, e.app.bcryptCost)
			}
			if err == nil {
				fmt.Fprintf(stdout, "updated admin %s\n", u.Email)
				return exitOK
			}
		}
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "created admin %s\n", u.Email)
		return exitOK
	})
}

func cmdCreateToken(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	var email, name string
	return withApp(ctx, "create-token", args, stdout, stderr, false, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the token owner's e-mail (required)")
		fs.StringVar(&name, "name", "cli", "token name")
	}, func(ctx context.Context, e *adminEnv) int {
		if email == "" {
			fmt.Fprintln(stderr, "create-token: --email is required")
			return exitUsage
		}
		u, err := e.app.users.ByEmail(ctx, email)
		if errors.Is(err, sql.ErrNoRows) {
			return fail(stderr, fmt.Errorf("no user %s", email))
		}
		if err != nil {
			return fail(stderr, err)
		}
		t, err := e.app.users.CreateToken(ctx, u.ID, name)
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintln(stdout, t)
		return exitOK
	})
}

// cmdReindex rebuilds the index with zero downtime: a new concrete index
// gets a copy of the documents while searches go on, the alias switches
// atomically, then every record is dumped again from the database (revisions
// are external versions, so concurrent indexing is never overwritten by an
// older state).
func cmdReindex(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	return withApp(ctx, "reindex", args, stdout, stderr, true, nil, func(ctx context.Context, e *adminEnv) int {
		var bar *progressbar.ProgressBar
		phase := ""
		err := e.app.index.Reindex(ctx, indexDefinition, search.OnProgress(func(p search.Progress) {
			if p.Phase != phase {
				if bar != nil {
					_ = bar.Finish()
				}
				phase = p.Phase
				bar = newBar(stderr, p.Total, "reindex "+p.Phase)
			}
			_ = bar.Set64(p.Done)
		}))
		if bar != nil {
			_ = bar.Finish()
		}
		if err != nil {
			return fail(stderr, err)
		}
		var total int64
		for _, err := range e.app.records.Refs(ctx) {
			if err != nil {
				return fail(stderr, err)
			}
			total++
		}
		bar = newBar(stderr, total, "index from database")
		if err := e.app.indexer.RebuildAll(ctx, 500, func(done int64) { _ = bar.Set64(done) }); err != nil {
			return fail(stderr, err)
		}
		_ = bar.Finish()
		fmt.Fprintf(stdout, "reindexed %d records\n", total)
		return exitOK
	})
}

func cmdCheckDrift(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	var repair bool
	return withApp(ctx, "check-drift", args, stdout, stderr, true, func(fs *flag.FlagSet) {
		fs.BoolVar(&repair, "repair", false, "queue an index operation for every drifting record (the workers apply them)")
	}, func(ctx context.Context, e *adminEnv) int {
		rep, err := e.app.indexer.CheckDrift(ctx, search.DriftOptions{Repair: repair, Samples: 20})
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "records %d, documents %d, missing %d, stale %d, orphaned %d\n", rep.Records, rep.Docs, rep.Missing, rep.Stale, rep.Orphaned)
		for kind, ids := range map[string][]string{"missing": rep.MissingIDs, "stale": rep.StaleIDs, "orphaned": rep.OrphanedIDs} {
			if len(ids) > 0 {
				fmt.Fprintf(stdout, "  %s: %s\n", kind, strings.Join(ids, " "))
			}
		}
		if rep.Clean() {
			fmt.Fprintln(stdout, "index matches the database")
			return exitOK
		}
		if repair {
			fmt.Fprintf(stdout, "queued %d repairs\n", rep.Enqueued)
		}
		return exitProblems
	})
}

func cmdVerifyFiles(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	return withApp(ctx, "verify-files", args, stdout, stderr, false, nil, func(ctx context.Context, e *adminEnv) int {
		// A period of 1ns: every file is due.
		due, err := e.app.files.ScheduleChecks(ctx, time.Nanosecond, 0, 0)
		if err != nil {
			return fail(stderr, err)
		}
		bar := newBar(stderr, int64(len(due)), "verify files")
		var bad []string
		for _, f := range due {
			res, err := e.app.files.Verify(ctx, f.ID)
			if err != nil {
				return fail(stderr, err)
			}
			if res != files.CheckOK {
				bad = append(bad, fmt.Sprintf("%s %s (location %s)", res, f.ID, f.Location))
			}
			_ = bar.Add(1)
		}
		_ = bar.Finish()
		fmt.Fprintf(stdout, "verified %d files, %d damaged\n", len(due), len(bad))
		for _, b := range bad {
			fmt.Fprintln(stdout, "  "+b)
		}
		if len(bad) > 0 {
			return exitProblems
		}
		return exitOK
	})
}

func cmdMigrateFiles(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	var to, from string
	var conc int
	return withApp(ctx, "migrate-files", args, stdout, stderr, false, func(fs *flag.FlagSet) {
		fs.StringVar(&to, "to", "", "destination location name (see --locations; required)")
		fs.StringVar(&from, "from", defaultLocation, "source location name")
		fs.IntVar(&conc, "concurrency", 4, "files moved at once")
	}, func(ctx context.Context, e *adminEnv) int {
		if to == "" {
			fmt.Fprintln(stderr, "migrate-files: --to is required")
			return exitUsage
		}
		for _, n := range []string{to, from} {
			if _, err := e.app.locs.Get(n); err != nil {
				fmt.Fprintf(stderr, "migrate-files: unknown location %q (known: %s)\n", n, strings.Join(e.app.locs.Names(), ", "))
				return exitUsage
			}
		}
		var bar *progressbar.ProgressBar
		failed := 0
		err := e.app.files.MigrateLocation(ctx, from, to, conc, files.MoveOptions{Grace: 5 * time.Second}, func(p files.MigrateProgress) {
			if bar == nil {
				bar = newBar(stderr, int64(p.Total), "migrate "+from+" → "+to)
			}
			_ = bar.Set(p.Done + p.Failed)
			failed = p.Failed
			if p.Err != nil {
				fmt.Fprintf(stderr, "\nfile %s: %v\n", p.Last.ID, p.Err)
			}
		})
		if bar != nil {
			_ = bar.Finish()
		}
		if err != nil && failed == 0 {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "migration from %s to %s finished, %d failed\n", from, to, failed)
		if failed > 0 {
			return exitProblems
		}
		return exitOK
	})
}

// importLine is one line of an import file: the record input and,
// optionally, its owner's e-mail (default: --owner).
type importLine struct {
	Input
	Owner string `json:"owner"`
}

func cmdImport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	var owner string
	return withApp(ctx, "import", args, stdout, stderr, false, func(fs *flag.FlagSet) {
		fs.StringVar(&owner, "owner", "", "e-mail of the owner of records whose line names none (required)")
	}, func(ctx context.Context, e *adminEnv) int {
		if e.fs.NArg() != 1 || owner == "" {
			fmt.Fprintln(stderr, "usage: repository import --owner EMAIL FILE.jsonl   (FILE - reads stdin)")
			return exitUsage
		}
		name := e.fs.Arg(0)
		var in io.Reader = os.Stdin
		var size int64 = -1
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				return fail(stderr, err)
			}
			defer f.Close()
			if st, err := f.Stat(); err == nil {
				size = st.Size()
			}
			in = f
		}
		bar := progressbar.NewOptions64(size, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("import"),
			progressbar.OptionShowBytes(true), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }))
		n, bad, err := e.app.importRecords(ctx, io.TeeReader(in, bar), owner, func(line int, msg string) {
			fmt.Fprintf(stderr, "\nline %d: %s\n", line, msg)
		})
		_ = bar.Finish()
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "imported %d records, rejected %d lines (indexing is queued for the workers)\n", n, bad)
		if bad > 0 {
			return exitProblems
		}
		return exitOK
	})
}

// importRecords creates a record per JSON line; a bad line is reported with
// its number and skipped, good ones are kept.
func (a *App) importRecords(ctx context.Context, r io.Reader, ownerEmail string, report func(line int, msg string)) (ok, bad int, err error) {
	owners := map[string]*User{}
	ownerOf := func(email string) (*User, error) {
		if u, ok := owners[email]; ok {
			return u, nil
		}
		u, err := a.users.ByEmail(ctx, email)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("no user %s", email)
		}
		if err != nil {
			return nil, err
		}
		owners[email] = u
		return u, nil
	}
	if _, err := ownerOf(ownerEmail); err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), records.DefaultMaxSize+1024)
	line := 0
	for sc.Scan() {
		line++
		b := strings.TrimSpace(sc.Text())
		if b == "" || strings.HasPrefix(b, "#") {
			continue
		}
		var il importLine
		if err := json.Unmarshal([]byte(b), &il); err != nil {
			report(line, "not valid JSON: "+err.Error())
			bad++
			continue
		}
		email := il.Owner
		if email == "" {
			email = ownerEmail
		}
		u, err := ownerOf(email)
		if err != nil {
			report(line, err.Error())
			bad++
			continue
		}
		if _, _, err := a.createRecord(ctx, il.Input, u); err != nil {
			b := httperr.BodyOf(err)
			msg := b.Message
			for _, fe := range b.Errors {
				msg += " " + fe.Field + ": " + strings.Join(fe.Messages, "; ") + "."
			}
			if errors.Is(err, context.Canceled) {
				return ok, bad, err
			}
			report(line, msg)
			bad++
			continue
		}
		ok++
	}
	if err := sc.Err(); err != nil {
		return ok, bad, fmt.Errorf("line %d: %w", line+1, err)
	}
	return ok, bad, nil
}

func cmdExport(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	var out string
	return withApp(ctx, "export", args, stdout, stderr, false, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "-", "output file (- is stdout)")
	}, func(ctx context.Context, e *adminEnv) int {
		var w io.Writer = stdout
		var f *os.File
		if out != "-" {
			var err error
			if f, err = os.Create(out + ".tmp"); err != nil {
				return fail(stderr, err)
			}
			defer os.Remove(out + ".tmp")
			w = f
		}
		bw := bufio.NewWriter(w)
		n, err := e.app.exportTo(ctx, bw, nil)
		if err == nil {
			err = bw.Flush()
		}
		if f != nil {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Rename(out+".tmp", out)
			}
		}
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stderr, "exported %d records\n", n)
		return exitOK
	})
}

// exportLine is one exported record; it imports back with import.
type exportLine struct {
	ID       string            `json:"id"`
	Created  time.Time         `json:"created"`
	Updated  time.Time         `json:"updated"`
	Revision int64             `json:"revision_id"`
	Metadata Metadata          `json:"metadata"`
	Access   Access            `json:"access"`
	Owner    string            `json:"owner,omitempty"`
	PIDs     map[string]string `json:"pids,omitempty"`
}

// exportTo writes every live record as a JSON line, in id order.
func (a *App) exportTo(ctx context.Context, w io.Writer, progress func(done int64)) (int64, error) {
	emails := map[string]string{}
	enc := json.NewEncoder(w)
	var done int64
	batch := make([]uuid.UUID, 0, 500)
	flush := func() error {
		recs, err := a.records.GetMany(ctx, batch)
		if err != nil {
			return err
		}
		batch = batch[:0]
		for _, rec := range recs {
			s, err := decodeStored(rec)
			if err != nil {
				return err
			}
			l := exportLine{ID: s.ID, Created: rec.Created, Updated: rec.Updated, Revision: rec.Revision, Metadata: s.Metadata, Access: s.Access, PIDs: s.PIDs}
			if len(s.Owners) > 0 {
				e, ok := emails[s.Owners[0]]
				if !ok {
					if u, err := a.users.ByID(ctx, s.Owners[0]); err == nil {
						e = u.Email
					}
					emails[s.Owners[0]] = e
				}
				l.Owner = e
			}
			if err := enc.Encode(l); err != nil {
				return err
			}
			done++
			if progress != nil {
				progress(done)
			}
		}
		return nil
	}
	for ref, err := range a.records.Refs(ctx) {
		if err != nil {
			return done, err
		}
		if ref.Deleted {
			continue
		}
		batch = append(batch, ref.ID)
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return done, err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return done, err
		}
	}
	return done, nil
}
