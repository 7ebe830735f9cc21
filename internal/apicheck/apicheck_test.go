package apicheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

const module = "github.com/repokit/repokit"

type listed struct {
	ImportPath string
	Name       string
	Dir        string
	Export     string
	GoFiles    []string
	CgoFiles   []string
	Standard   bool
	Error      *struct{ Err string }
}

var loaded struct {
	sync.Mutex
	done   bool
	all    map[string]*listed
	public []*listed
}

// load lists the module's packages and their dependencies with export data
// (go list -export builds them, from the build cache when warm), once per
// test binary.
func load(t *testing.T) (all map[string]*listed, public []*listed) {
	t.Helper()
	loaded.Lock()
	defer loaded.Unlock()
	if !loaded.done {
		loaded.all, loaded.public = list(t)
		loaded.done = true
	}
	return loaded.all, loaded.public
}

func list(t *testing.T) (all map[string]*listed, public []*listed) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-e", "-export", "-deps",
		"-json=ImportPath,Name,Dir,Export,GoFiles,CgoFiles,Standard,Error", module+"/...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	all = map[string]*listed{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(listed)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		all[p.ImportPath] = p
		if p.Error != nil {
			t.Fatalf("%s: %s", p.ImportPath, p.Error.Err)
		}
		if (p.ImportPath == module || strings.HasPrefix(p.ImportPath, module+"/")) && !isInternal(p.ImportPath) && p.Name != "main" {
			public = append(public, p)
		}
	}
	slices.SortFunc(public, func(a, b *listed) int { return strings.Compare(a.ImportPath, b.ImportPath) })
	return all, public
}

func isInternal(path string) bool {
	return path == "internal" || strings.HasPrefix(path, "internal/") ||
		strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal")
}

// TestNoInternalTypesInPublicAPI fails if an exported identifier of a
// public package (its type, signature, exported fields or methods,
// including promoted ones) names a type declared in an internal package:
// callers outside the module could not name it.
func TestNoInternalTypesInPublicAPI(t *testing.T) {
	all, public := load(t)
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		p, ok := all[path]
		if !ok || p.Export == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(p.Export)
	})
	for _, p := range public {
		pkg, err := imp.Import(p.ImportPath)
		if err != nil {
			t.Fatalf("import %s: %v", p.ImportPath, err)
		}
		c := &checker{t: t, seen: map[types.Type]bool{}}
		scope := pkg.Scope()
		for _, name := range scope.Names() {
			obj := scope.Lookup(name)
			if !obj.Exported() {
				continue
			}
			c.where = p.ImportPath + "." + name
			switch obj := obj.(type) {
			case *types.TypeName:
				c.named(obj.Type())
			default:
				c.typ(obj.Type())
			}
		}
	}
}

type checker struct {
	t     *testing.T
	where string
	seen  map[types.Type]bool
}

// named checks a type declared by a public package: its definition and its
// exported methods (with those promoted from embedded fields).
func (c *checker) named(T types.Type) {
	if c.seen[T] {
		return
	}
	c.seen[T] = true
	if n, ok := T.(*types.Named); ok {
		if n.Obj().Pkg() == nil {
			return // error, comparable
		}
		if isInternal(n.Obj().Pkg().Path()) {
			c.t.Errorf("%s: refers to %s.%s of an internal package", c.where, n.Obj().Pkg().Path(), n.Obj().Name())
			return
		}
		if !strings.HasPrefix(n.Obj().Pkg().Path(), module) {
			return // another module's type: its API is not ours
		}
	}
	if a, ok := T.(*types.Alias); ok {
		c.typ(types.Unalias(a))
		return
	}
	c.structure(T.Underlying())
	where := c.where
	for _, recv := range []types.Type{T, types.NewPointer(T)} {
		if _, isIface := T.Underlying().(*types.Interface); isIface && recv != T {
			continue
		}
		ms := types.NewMethodSet(recv)
		for i := range ms.Len() {
			m := ms.At(i).Obj()
			if !m.Exported() {
				continue
			}
			c.where = where + "." + m.Name()
			c.typ(m.Type())
		}
	}
	c.where = where
}

// structure checks the exported parts of an underlying type.
func (c *checker) structure(u types.Type) {
	switch u := u.(type) {
	case *types.Struct:
		where := c.where
		for i := range u.NumFields() {
			f := u.Field(i)
			if !f.Exported() {
				continue
			}
			c.where = where + "." + f.Name()
			c.typ(f.Type())
		}
		c.where = where
	case *types.Interface:
		// methods are checked through the method set
		for i := range u.NumEmbeddeds() {
			c.typ(u.EmbeddedType(i))
		}
	default:
		c.typ(u)
	}
}

// typ checks a type used by the public API.
func (c *checker) typ(T types.Type) {
	switch T := T.(type) {
	case nil, *types.Basic, *types.TypeParam:
	case *types.Alias:
		c.typ(types.Unalias(T))
	case *types.Named:
		c.named(T)
		if args := T.TypeArgs(); args != nil {
			for i := range args.Len() {
				c.typ(args.At(i))
			}
		}
	case *types.Pointer:
		c.typ(T.Elem())
	case *types.Slice:
		c.typ(T.Elem())
	case *types.Array:
		c.typ(T.Elem())
	case *types.Chan:
		c.typ(T.Elem())
	case *types.Map:
		c.typ(T.Key())
		c.typ(T.Elem())
	case *types.Signature:
		if tps := T.TypeParams(); tps != nil {
			for i := range tps.Len() {
				c.typ(tps.At(i).Constraint())
			}
		}
		for _, tu := range []*types.Tuple{T.Params(), T.Results()} {
			for i := range tu.Len() {
				c.typ(tu.At(i).Type())
			}
		}
	case *types.Struct, *types.Interface:
		if !c.seen[T] {
			c.seen[T] = true
			c.structure(T)
			if _, ok := T.(*types.Interface); ok {
				ms := types.NewMethodSet(T)
				for i := range ms.Len() {
					if m := ms.At(i).Obj(); m.Exported() {
						c.typ(m.Type())
					}
				}
			}
		}
	case *types.Union:
		for i := range T.Len() {
			c.typ(T.Term(i).Type())
		}
	default:
		c.t.Errorf("%s: unhandled type %T", c.where, T)
	}
}

// internalPath matches a mention of an internal package in prose: a path
// such as internal/sqldb or repokit/internal/sqldb.
var internalPath = regexp.MustCompile(`(^|[^\w./:-])(\w[\w.-]*/)*internal/\w`)

// TestNoInternalPathsInDocs fails if the doc comment of a public package, or
// of one of its exported identifiers (and their exported fields and
// methods), points at an internal package, which its readers cannot use.
func TestNoInternalPathsInDocs(t *testing.T) {
	_, public := load(t)
	fset := token.NewFileSet()
	for _, p := range public {
		for _, name := range append(slices.Clone(p.GoFiles), p.CgoFiles...) {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, docs ...*ast.CommentGroup) {
				for _, d := range docs {
					if d == nil {
						continue
					}
					if m := internalPath.FindString(d.Text()); m != "" {
						t.Errorf("%s: doc comment of %s mentions %q", fset.Position(d.Pos()), what, strings.TrimSpace(m))
					}
				}
			}
			check("package "+p.ImportPath, f.Doc)
			for _, decl := range f.Decls {
				switch d := decl.(type) {
				case *ast.FuncDecl:
					if d.Name.IsExported() && (d.Recv == nil || exportedRecv(d.Recv)) {
						check(d.Name.Name, d.Doc)
					}
				case *ast.GenDecl:
					for _, s := range d.Specs {
						switch s := s.(type) {
						case *ast.TypeSpec:
							if s.Name.IsExported() {
								check(s.Name.Name, d.Doc, s.Doc, s.Comment)
								checkMembers(s.Name.Name, s.Type, check)
							}
						case *ast.ValueSpec:
							for _, n := range s.Names {
								if n.IsExported() {
									check(n.Name, d.Doc, s.Doc, s.Comment)
									break
								}
							}
						}
					}
				}
			}
		}
	}
}

func exportedRecv(r *ast.FieldList) bool {
	if len(r.List) == 0 {
		return false
	}
	t := r.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.IsExported()
		default:
			return false
		}
	}
}

func checkMembers(typ string, e ast.Expr, check func(string, ...*ast.CommentGroup)) {
	var fields *ast.FieldList
	switch x := e.(type) {
	case *ast.StructType:
		fields = x.Fields
	case *ast.InterfaceType:
		fields = x.Methods
	default:
		return
	}
	for _, f := range fields.List {
		exported := len(f.Names) == 0 // embedded: its own docs are checked where declared
		for _, n := range f.Names {
			exported = exported || n.IsExported()
		}
		if exported {
			check(typ+" member", f.Doc, f.Comment)
		}
	}
}

func TestInternalPathPattern(t *testing.T) {
	for text, want := range map[string]bool{
		"see internal/sqldb for the dialects":                 true,
		"the helper is in repokit/internal/sqldb.":            true,
		"github.com/repokit/repokit/internal/sqldb.Dialect":   true,
		"(internal/otelx)":                                    true,
		"no internal ids, storage keys":                       false,
		`a "$schema" such as https://internal/schemas/x.json`: false,
		"the internal fields every document carries":          false,
	} {
		if got := internalPath.MatchString(text); got != want {
			t.Errorf("%q: match %v, want %v", text, got, want)
		}
	}
}
