// Command repository is a complete starter digital repository built on
// RepoKit: a REST API in Invenio's shape, a server-rendered web UI, background
// workers and an admin CLI, in one binary.
//
//	go run ./examples/repository                  # serve on http://127.0.0.1:8080, data in ./repokit-data
//	go run ./examples/repository --data /srv/repo --addr :8080
//
// Roles (the first argument; the default is serve):
//
//	serve    web server and background workers in one process
//	web      web server only (scale web servers separately)
//	worker   background workers only; --queues indexing,default,low
//
// Admin commands: create-admin, create-token, reindex, check-drift [--repair],
// verify-files, migrate-files --to LOCATION, import FILE.jsonl, export.
// Exit codes: 0 success, 1 failure, 2 bad usage, 3 finished but found
// problems (drift, damaged files, rejected import lines).
//
// Every driver is chosen by URL (flags or REPOKIT_* environment variables);
// with none set, everything runs embedded in the data folder: SQLite, local
// files, bleve and an in-memory cache.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitProblems = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `Usage: repository [COMMAND] [FLAGS]

Roles:
  serve                 web server and workers (default)
  web                   web server only
  worker [--queues Q]   workers only (queues: indexing, default, low)

Admin:
  create-admin --email E [--password P]   create (or promote) an admin; password from REPOKIT_ADMIN_PASSWORD or stdin
  create-token --email E [--name N]       print a new personal API token
  reindex                                  rebuild the search index with zero downtime
  check-drift [--repair]                   compare database and index (exit 3 on drift)
  verify-files                             verify every file's checksums (exit 3 on damage)
  migrate-files --to LOCATION [--from L]   move files between storage locations
  import FILE.jsonl --owner E              import records, one JSON per line (exit 3 if some lines were rejected)
  export [--out FILE]                      write every live record as JSON lines

Run "repository COMMAND -h" for the flags of a command.
`

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve", "web", "worker":
		return runServer(ctx, cmd, args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if c, ok := adminCommands[cmd]; ok {
		return c(ctx, args, stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "repository: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// parseFlags parses the shared and the command's flags, which may come
// before or after positional arguments (import FILE --owner E); it returns
// the exit code to use when parsing failed (or -1). The positional
// arguments are left in fs.Args().
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) int {
	fs.SetOutput(stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	_ = fs.Parse(append([]string{"--"}, pos...))
	return -1
}

func runServer(ctx context.Context, role string, args []string, stdout, stderr io.Writer) int {
	var cfg Config
	fs := flag.NewFlagSet(role, flag.ContinueOnError)
	cfg.register(fs)
	logLevel := fs.String("log-level", envOr("REPOKIT_LOG_LEVEL", "info"), "debug, info, warn or error")
	queues := fs.String("queues", envOr("REPOKIT_QUEUES", ""), "worker: comma-separated queues to work (default all: indexing,default,low)")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", role, fs.Arg(0))
		return exitUsage
	}
	log := newLogger(stderr, *logLevel)
	qs, err := queueList(*queues)
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return exitUsage
	}
	var l net.Listener
	if role != "worker" {
		// Listen before opening the drivers so a busy port fails fast.
		if l, err = net.Listen("tcp", cfg.Addr); err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return exitFailure
		}
		defer l.Close()
		cfg.Addr = l.Addr().String()
	}
	if err := cfg.Resolve(); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return exitFailure
	}
	app, err := Open(ctx, &cfg, log, appOptions{queues: qs})
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return exitFailure
	}
	defer app.Close()
	if role != "web" {
		if err := app.Start(ctx); err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return exitFailure
		}
		log.Info("workers started", "queues", strings.Join(qs, ","))
	}
	code := exitOK
	if l != nil {
		fmt.Fprintf(stdout, "RepoKit repository (%s) listening on %s/  (data: %s)\n", role, cfg.BaseURL, cfg.Data)
		if err := app.Serve(ctx, l); err != nil {
			log.Error("server", "err", err)
			code = exitFailure
		}
	} else {
		fmt.Fprintf(stdout, "RepoKit repository worker running (queues %s)\n", strings.Join(qs, ","))
		<-ctx.Done()
	}
	// Graceful: requests are finished (Serve returned); now let running
	// tasks finish, handing back those that outlive the timeout.
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := app.Stop(sctx); err != nil {
		log.Warn("stopping workers", "err", err)
	}
	log.Info("stopped")
	return code
}
