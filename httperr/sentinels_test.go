package httperr_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/repokit/repokit"
	"github.com/repokit/repokit/access"
	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/driver"
	"github.com/repokit/repokit/cache/redisdriver"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/httperr"
	"github.com/repokit/repokit/recordfiles"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
	"github.com/repokit/repokit/search"
	"github.com/repokit/repokit/sqltx"
	"github.com/repokit/repokit/storage"
	"github.com/repokit/repokit/storage/webdav"
	"github.com/repokit/repokit/tasks"
)

// sentinels is every exported sentinel error of the module's public
// packages (keyed by package directory and name) with the status it must
// map to. TestEverySentinelMaps finds the sentinels in the source, so a new
// one fails until it is listed here, and listing it needs a kind (or a
// reason in kindless).
var sentinels = map[string]struct {
	err    error
	status int
}{
	".ErrNotFound":    {repokit.ErrNotFound, 404},
	".ErrDeleted":     {repokit.ErrDeleted, 410},
	".ErrRedirected":  {repokit.ErrRedirected, 301},
	".ErrExists":      {repokit.ErrExists, 409},
	".ErrConflict":    {repokit.ErrConflict, 409},
	".ErrForbidden":   {repokit.ErrForbidden, 403},
	".ErrInvalid":     {repokit.ErrInvalid, 400},
	".ErrTooLarge":    {repokit.ErrTooLarge, 413},
	".ErrUnsupported": {repokit.ErrUnsupported, 501},
	".ErrUnavailable": {repokit.ErrUnavailable, 503},
	".ErrClosed":      {repokit.ErrClosed, 503},

	"access.ErrForbidden": {access.ErrForbidden, 403},

	"records.ErrNotFound":      {records.ErrNotFound, 404},
	"records.ErrDeleted":       {records.ErrDeleted, 410},
	"records.ErrConflict":      {records.ErrConflict, 409},
	"records.ErrInvalid":       {records.ErrInvalid, 400},
	"records.ErrSchema":        {records.ErrSchema, 400},
	"records.ErrUnknownSchema": {records.ErrUnknownSchema, 400},
	"records.ErrNoSchema":      {records.ErrNoSchema, 400},
	"records.ErrTooLarge":      {records.ErrTooLarge, 413},

	"records/pid.ErrNotFound":          {pid.ErrNotFound, 404},
	"records/pid.ErrExists":            {pid.ErrExists, 409},
	"records/pid.ErrInvalid":           {pid.ErrInvalid, 400},
	"records/pid.ErrInvalidTransition": {pid.ErrInvalidTransition, 409},
	"records/pid.ErrAlreadyAssigned":   {pid.ErrAlreadyAssigned, 409},
	"records/pid.ErrDeleted":           {pid.ErrDeleted, 410},
	"records/pid.ErrRedirected":        {pid.ErrRedirected, 301},
	"records/pid.ErrUnregistered":      {pid.ErrUnregistered, 404},
	"records/pid.ErrObjectMissing":     {pid.ErrObjectMissing, 404},

	"recordfiles.ErrNotFound": {recordfiles.ErrNotFound, 404},

	"files.ErrNotFound":         {files.ErrNotFound, 404},
	"files.ErrInvalid":          {files.ErrInvalid, 400},
	"files.ErrInvalidKey":       {files.ErrInvalidKey, 400},
	"files.ErrConflict":         {files.ErrConflict, 409},
	"files.ErrLocked":           {files.ErrLocked, 403},
	"files.ErrQuotaExceeded":    {files.ErrQuotaExceeded, 413},
	"files.ErrFileTooLarge":     {files.ErrFileTooLarge, 413},
	"files.ErrTooLarge":         {files.ErrTooLarge, 413},
	"files.ErrSizeMismatch":     {files.ErrSizeMismatch, 400},
	"files.ErrChecksumMismatch": {files.ErrChecksumMismatch, 400},
	"files.ErrUnsupported":      {files.ErrUnsupported, 501},

	"storage.ErrNotFound":            {storage.ErrNotFound, 404},
	"storage.ErrTooLarge":            {storage.ErrTooLarge, 413},
	"storage.ErrSizeMismatch":        {storage.ErrSizeMismatch, 400},
	"storage.ErrChecksumMismatch":    {storage.ErrChecksumMismatch, 400},
	"storage.ErrUnsupported":         {storage.ErrUnsupported, 501},
	"storage.ErrInvalid":             {storage.ErrInvalid, 400},
	"storage.ErrInsufficientStorage": {storage.ErrInsufficientStorage, 503},
	"storage.ErrUnavailable":         {storage.ErrUnavailable, 503},

	"storage/webdav.ErrLocked":     {webdav.ErrLocked, 503},
	"storage/webdav.ErrServer":     {webdav.ErrServer, 503},
	"storage/webdav.ErrConnection": {webdav.ErrConnection, 503},
	"storage/webdav.ErrAuth":       {webdav.ErrAuth, 503},

	"search.ErrNotFound":    {search.ErrNotFound, 404},
	"search.ErrExists":      {search.ErrExists, 409},
	"search.ErrInvalid":     {search.ErrInvalid, 400},
	"search.ErrBadQuery":    {search.ErrBadQuery, 400},
	"search.ErrUnsupported": {search.ErrUnsupported, 501},
	"search.ErrClosed":      {search.ErrClosed, 503},

	"tasks.ErrNotFound":    {tasks.ErrNotFound, 404},
	"tasks.ErrInvalid":     {tasks.ErrInvalid, 400},
	"tasks.ErrConflict":    {tasks.ErrConflict, 409},
	"tasks.ErrUnknownType": {tasks.ErrUnknownType, 400},
	"tasks.ErrBadArgs":     {tasks.ErrBadArgs, 400},
	"tasks.ErrBadSchedule": {tasks.ErrBadSchedule, 400},
	"tasks.ErrNotDone":     {tasks.ErrNotDone, 409},
	"tasks.ErrFailed":      {tasks.ErrFailed, 500},
	"tasks.ErrClosed":      {tasks.ErrClosed, 503},

	"cache/driver.ErrMiss":        {driver.ErrMiss, 404},
	"cache/driver.ErrNotStored":   {driver.ErrNotStored, 409},
	"cache/driver.ErrInvalidKey":  {driver.ErrInvalidKey, 400},
	"cache/driver.ErrTooLarge":    {driver.ErrTooLarge, 413},
	"cache/driver.ErrUnavailable": {driver.ErrUnavailable, 503},
	"cache/driver.ErrMismatch":    {driver.ErrMismatch, 409},
	"cache/driver.ErrNotInteger":  {driver.ErrNotInteger, 400},
	"cache/driver.ErrClosed":      {driver.ErrClosed, 503},

	"cache/redisdriver.ErrClosedBeforeReply": {redisdriver.ErrClosedBeforeReply, 503},

	"cache.ErrMiss":        {cache.ErrMiss, 404},
	"cache.ErrNotStored":   {cache.ErrNotStored, 409},
	"cache.ErrInvalidKey":  {cache.ErrInvalidKey, 400},
	"cache.ErrTooLarge":    {cache.ErrTooLarge, 413},
	"cache.ErrUnavailable": {cache.ErrUnavailable, 503},
	"cache.ErrNotInteger":  {cache.ErrNotInteger, 400},
	"cache.ErrClosed":      {cache.ErrClosed, 503},
	"cache.ErrInvalid":     {cache.ErrInvalid, 400},
	"cache.ErrLocked":      {cache.ErrLocked, 409},
	"cache.ErrNotOwner":    {cache.ErrNotOwner, 409},
	"cache.ErrLockLost":    {cache.ErrLockLost, 409},
	"cache.ErrCircuitOpen": {cache.ErrCircuitOpen, 503},

	"sqltx.ErrUnmanagedTx": {sqltx.ErrUnmanagedTx, 500},
}

// kindless are the sentinels deliberately of no kind, with why: they are
// server errors (500, logged by Write), not something the client did.
var kindless = map[string]string{
	"tasks.ErrFailed":      "the task itself failed: a server-side failure",
	"sqltx.ErrUnmanagedTx": "the host passed a transaction sqltx did not begin: a bug in the host",
}

func TestEverySentinelMaps(t *testing.T) {
	found := exportedSentinels(t)
	if len(found) < len(sentinels)/2 {
		t.Fatalf("found only %d sentinels in the source: %v", len(found), found)
	}
	for _, name := range found {
		s, ok := sentinels[name]
		if !ok {
			t.Errorf("%s: not in the table: give it a repokit kind and list it with its status", name)
			continue
		}
		if got := httperr.Status(s.err); got != s.status {
			t.Errorf("%s (kind %v): status %d, want %d", name, repokit.KindOf(s.err), got, s.status)
		}
		_, noKind := kindless[name]
		if k := repokit.KindOf(s.err); (k == nil) != noKind {
			t.Errorf("%s: kind %v; kindless list says %v", name, k, noKind)
		}
		if msg := httperr.PublicMessage(s.err); msg == "" || (s.status != 500 && msg == "internal server error") {
			t.Errorf("%s: public message %q", name, msg)
		}
	}
	for name := range sentinels {
		if !slices.Contains(found, name) {
			t.Errorf("%s: listed but not found in the source (renamed or removed?)", name)
		}
	}
}

// exportedSentinels lists "dir.ErrName" for every exported package-level
// variable named Err... in the non-test files of the module's public
// packages (not internal, not main, not examples).
func exportedSentinels(t *testing.T) []string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "internal" || name == "testdata" || name == "examples" ||
				strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		if rel == "." {
			rel = ""
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(n.Name, "Err") && n.IsExported() {
						found = append(found, filepath.ToSlash(rel)+"."+n.Name)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestRelations keeps the errors.Is relations between packages that
// existed before the kinds, and checks the error types match both their
// package's sentinel and its kind.
func TestRelations(t *testing.T) {
	if files.ErrTooLarge != storage.ErrTooLarge || cache.ErrMiss != driver.ErrMiss || sqltx.ErrUnmanagedTx == nil {
		t.Error("re-exported sentinels are not the same values")
	}
	for _, c := range []struct {
		err     error
		targets []error
	}{
		{files.ErrQuotaExceeded, []error{files.ErrTooLarge, storage.ErrTooLarge, repokit.ErrTooLarge}},
		{files.ErrFileTooLarge, []error{storage.ErrTooLarge, repokit.ErrTooLarge}},
		{files.ErrInvalidKey, []error{files.ErrInvalid, repokit.ErrInvalid}},
		{records.ErrDeleted, []error{records.ErrNotFound, repokit.ErrDeleted, repokit.ErrNotFound}},
		{records.ErrSchema, []error{records.ErrInvalid, repokit.ErrInvalid}},
		{&records.ValidationError{}, []error{records.ErrSchema, records.ErrInvalid, repokit.ErrInvalid}},
		{recordfiles.ErrNotFound, []error{files.ErrNotFound, records.ErrNotFound, repokit.ErrNotFound}},
		{&pid.TransitionError{}, []error{pid.ErrInvalidTransition, repokit.ErrConflict}},
		{&pid.RedirectedError{PID: &pid.PID{}, Target: &pid.PID{}}, []error{pid.ErrRedirected, repokit.ErrRedirected}},
		{&search.QueryError{}, []error{search.ErrBadQuery, repokit.ErrInvalid}},
		{&access.ForbiddenError{}, []error{access.ErrForbidden, repokit.ErrForbidden}},
		{&webdav.StatusError{Code: 423}, []error{webdav.ErrLocked, storage.ErrUnavailable, repokit.ErrUnavailable}},
		{&webdav.StatusError{Code: 404}, []error{storage.ErrNotFound, repokit.ErrNotFound}},
	} {
		for _, target := range c.targets {
			if !errors.Is(c.err, target) {
				t.Errorf("%T %v does not match %v", c.err, c.err, target)
			}
		}
	}
	if errors.Is(pid.ErrDeleted, pid.ErrNotFound) || errors.Is(records.ErrNotFound, records.ErrDeleted) {
		t.Error("a sentinel matches one it does not refine")
	}
}
