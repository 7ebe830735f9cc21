package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is everything the binary reads from flags and the environment.
// Every driver is chosen by a URL, so the same binary runs on the embedded
// defaults (empty URLs: SQLite, local files, bleve and an in-memory cache in
// the data folder) or on PostgreSQL/MySQL, OpenSearch, RabbitMQ/NATS, Redis
// and S3.
type Config struct {
	Addr    string // listen address
	Data    string // data folder of the embedded defaults
	BaseURL string // public URL of the site ("" = http://Addr)

	DBURL       string // sqlite://, postgres://, mysql://
	SearchURL   string // bleve:///dir, opensearch://host:9200
	StorageURL  string // file:///dir, s3://bucket?..., mem://
	Locations   string // extra storage locations: name=url,name=url
	CacheURL    string // mem://, redis://, memcache://
	BrokerURL   string // "" (SQL polling), rabbit://, nats://
	IndexPrefix string

	SecretKey string // signs storage URLs; shared by every process

	DataCiteURL, DataCiteUser, DataCitePassword, DOIPrefix string
	SMTPAddr, MailFrom                                     string

	Queues          string        // worker: queues to work (comma separated)
	MaxUpload       int64         // largest file upload (bytes)
	MaxBody         int64         // largest body on non-file routes (bytes)
	OffloadMinSize  int64         // files at least this big are served by a 302 to a signed URL (0 = never)
	AccelPrefix     string        // non-empty: X-Accel-Redirect to PREFIX/<location>/<key> (Nginx)
	SecureCookies   bool          // Secure flag on the session cookie (HTTPS deployments)
	RetryBase       time.Duration // first retry delay of failed tasks
	FixityPeriod    time.Duration // every file is checked once per period
	UploadTTL       time.Duration // multipart uploads untouched this long are abandoned
	ShutdownTimeout time.Duration

	// filled by Resolve
	secretFile string
}

// envOr returns the environment variable or def.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// register adds the flags shared by every subcommand to fs.
func (c *Config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", envOr("REPOKIT_ADDR", "127.0.0.1:8080"), "listen address (env REPOKIT_ADDR)")
	fs.StringVar(&c.Data, "data", envOr("REPOKIT_DATA", "repokit-data"), "data folder for the embedded defaults (env REPOKIT_DATA)")
	fs.StringVar(&c.BaseURL, "base-url", envOr("REPOKIT_BASE_URL", ""), "public URL of the site (env REPOKIT_BASE_URL; default http://ADDR)")
	fs.StringVar(&c.DBURL, "db-url", envOr("REPOKIT_DB_URL", ""), "database URL: sqlite:///path.db, postgres://..., mysql://... (env REPOKIT_DB_URL; default SQLite in the data folder)")
	fs.StringVar(&c.SearchURL, "search-url", envOr("REPOKIT_SEARCH_URL", ""), "search URL: bleve:///dir, opensearch://host:9200 (env REPOKIT_SEARCH_URL; default bleve in the data folder)")
	fs.StringVar(&c.StorageURL, "storage-url", envOr("REPOKIT_STORAGE_URL", ""), "default file location: file:///dir, s3://bucket?region=&endpoint=&use_path_style=true (env REPOKIT_STORAGE_URL; default files in the data folder)")
	fs.StringVar(&c.Locations, "locations", envOr("REPOKIT_STORAGE_LOCATIONS", ""), "extra storage locations name=url,name=url (env REPOKIT_STORAGE_LOCATIONS)")
	fs.StringVar(&c.CacheURL, "cache-url", envOr("REPOKIT_CACHE_URL", "mem://?max_bytes=64MiB"), "cache URL: mem://, redis://host:6379/0, memcache://host:11211 (env REPOKIT_CACHE_URL)")
	fs.StringVar(&c.BrokerURL, "broker-url", envOr("REPOKIT_BROKER_URL", ""), "task broker URL: rabbit://user:pass@host:5672/, nats://host:4222 (env REPOKIT_BROKER_URL; default: poll the database)")
	fs.StringVar(&c.IndexPrefix, "index-prefix", envOr("REPOKIT_INDEX_PREFIX", "repokit-"), "search index prefix (env REPOKIT_INDEX_PREFIX)")
	fs.StringVar(&c.SecretKey, "secret-key", envOr("REPOKIT_SECRET_KEY", ""), "secret for signed URLs, same in every process (env REPOKIT_SECRET_KEY; default generated into the data folder)")
	fs.StringVar(&c.DataCiteURL, "datacite-url", envOr("REPOKIT_DATACITE_URL", ""), "DataCite REST API, e.g. https://api.test.datacite.org (env REPOKIT_DATACITE_URL; empty: no DOIs)")
	fs.StringVar(&c.DataCiteUser, "datacite-user", envOr("REPOKIT_DATACITE_USER", ""), "DataCite repository id (env REPOKIT_DATACITE_USER)")
	fs.StringVar(&c.DataCitePassword, "datacite-password", envOr("REPOKIT_DATACITE_PASSWORD", ""), "DataCite password (env REPOKIT_DATACITE_PASSWORD)")
	fs.StringVar(&c.DOIPrefix, "doi-prefix", envOr("REPOKIT_DOI_PREFIX", "10.5072"), "DOI prefix (env REPOKIT_DOI_PREFIX)")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", envOr("REPOKIT_SMTP_ADDR", ""), "SMTP server host:port for notifications (env REPOKIT_SMTP_ADDR; empty: no mail)")
	fs.StringVar(&c.MailFrom, "mail-from", envOr("REPOKIT_MAIL_FROM", "repository@localhost"), "sender of notifications (env REPOKIT_MAIL_FROM)")
	fs.Int64Var(&c.MaxUpload, "max-upload", 10<<30, "largest file upload in bytes (files routes)")
	fs.Int64Var(&c.MaxBody, "max-body", 2<<20, "largest request body in bytes on other routes")
	fs.Int64Var(&c.OffloadMinSize, "offload-min-size", 64<<20, "serve files of at least this many bytes by a 302 to a signed URL (0: never)")
	fs.StringVar(&c.AccelPrefix, "accel-prefix", envOr("REPOKIT_ACCEL_PREFIX", ""), "behind Nginx: answer downloads with X-Accel-Redirect: PREFIX/<location>/<key> (env REPOKIT_ACCEL_PREFIX)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", envOr("REPOKIT_SECURE_COOKIES", "") == "1", "mark the session cookie Secure (HTTPS; env REPOKIT_SECURE_COOKIES=1)")
	fs.DurationVar(&c.RetryBase, "retry-base", time.Second, "first retry delay of failed background tasks (doubles each attempt)")
	fs.DurationVar(&c.FixityPeriod, "fixity-period", 30*24*time.Hour, "every file's checksum is verified once per period, spread over it")
	fs.DurationVar(&c.UploadTTL, "upload-ttl", 24*time.Hour, "multipart uploads untouched this long are removed by the cleanup task")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long SIGTERM waits for requests and running tasks")
}

// Resolve fills the defaults that live in the data folder.
func (c *Config) Resolve() error {
	if c.Data == "" {
		return errors.New("--data must not be empty")
	}
	abs, err := filepath.Abs(c.Data)
	if err != nil {
		return err
	}
	c.Data = abs
	needData := c.DBURL == "" || c.SearchURL == "" || c.StorageURL == "" || c.SecretKey == ""
	if needData {
		if err := os.MkdirAll(c.Data, 0o750); err != nil {
			return fmt.Errorf("data folder: %w", err)
		}
	}
	if c.DBURL == "" {
		c.DBURL = "sqlite://" + filepath.Join(c.Data, "repository.db")
	}
	if c.SearchURL == "" {
		c.SearchURL = "bleve://" + filepath.ToSlash(filepath.Join(c.Data, "search"))
	}
	if c.StorageURL == "" {
		dir := filepath.Join(c.Data, "files")
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		c.StorageURL = "file://" + filepath.ToSlash(dir) + "?create_dir=1"
	}
	if c.SecretKey == "" {
		c.secretFile = filepath.Join(c.Data, "secret.key")
		b, err := os.ReadFile(c.secretFile)
		if errors.Is(err, os.ErrNotExist) {
			buf := make([]byte, 32)
			_, _ = rand.Read(buf)
			b = []byte(hex.EncodeToString(buf))
			if err := os.WriteFile(c.secretFile, b, 0o600); err != nil {
				return fmt.Errorf("write secret: %w", err)
			}
		} else if err != nil {
			return err
		}
		c.SecretKey = strings.TrimSpace(string(b))
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return nil
}

// extraLocations parses --locations.
func (c *Config) extraLocations() (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(c.Locations, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		name, u, ok := strings.Cut(kv, "=")
		if !ok || name == "" || u == "" {
			return nil, fmt.Errorf("--locations: %q is not name=url", kv)
		}
		if name == defaultLocation {
			return nil, fmt.Errorf("--locations: %q is the name of the default location", name)
		}
		out[name] = u
	}
	return out, nil
}

// redact hides the password of a URL for logs.
func redact(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@")
	if at < 0 {
		return u
	}
	userinfo := rest[:at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return scheme + "://" + user + ":xxxxx" + rest[at:]
	}
	return u
}
