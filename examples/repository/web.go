package main

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/repokit/repokit/cache/session"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/httperr"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
)

func parseTemplates() (*template.Template, error) {
	funcs := template.FuncMap{
		"join":       strings.Join,
		"bytes":      humanBytes,
		"date":       func(t time.Time) string { return t.UTC().Format("2006-01-02") },
		"pathEscape": url.PathEscape,
		"add":        func(a, b int) int { return a + b },
	}
	return template.New("").Funcs(funcs).ParseFS(assets, "templates/*.html")
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// page is what every template gets.
type page struct {
	Title string
	User  *User
	CSRF  string
	Error string
	Flash string
	Data  any
}

// render executes a page template into a buffer first, so a template error
// becomes a clean 500 instead of half a page.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.User = actorOf(r.Context()).User
	if p.User != nil || p.CSRF != "" {
		p.CSRF = csrfToken(r)
	}
	if s := session.FromContext(r.Context()); s != nil && p.User != nil {
		if f, ok := session.Get[string](s, "flash"); ok {
			p.Flash = f
			s.Delete("flash")
		}
	}
	var buf bytes.Buffer
	if err := a.tmpl.ExecuteTemplate(&buf, name, p); err != nil {
		a.log.Error("render", "template", name, "err", err)
		http.Error(w, "Internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if p.User != nil {
		w.Header().Set("Cache-Control", "private, no-store")
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (a *App) webError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := httperr.Status(err), httperr.PublicMessage(err)
	if status >= 500 {
		a.log.Error("page failed", "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	a.render(w, r, status, "error.html", page{Title: http.StatusText(status), Error: msg})
}

func setFlash(r *http.Request, msg string) {
	if s := session.FromContext(r.Context()); s != nil {
		_ = s.Set("flash", msg)
	}
}

// Search page.

type facetView struct {
	Name    string
	Label   string
	Buckets []bucketView
}

type bucketView struct {
	Key      string
	Count    int64
	Selected bool
	URL      string
}

type hitView struct {
	ID       string
	Title    string
	Creators []string
	Type     string
	Year     int
	Access   string
	Desc     string
}

type searchView struct {
	Q        string
	Sort     string
	Total    int64
	Hits     []hitView
	Facets   []facetView
	Page     int
	PrevURL  string
	NextURL  string
	Sorts    []string
	Selected map[string][]string
}

func (a *App) webSearch(w http.ResponseWriter, r *http.Request) {
	req, res, err := a.runSearch(r)
	if err != nil {
		if errors.Is(err, search.ErrBadQuery) {
			msg := httperr.PublicMessage(err)
			a.render(w, r, http.StatusBadRequest, "search.html", page{Title: "Search", Error: msg, Data: searchView{Q: r.URL.Query().Get("q")}})
			return
		}
		a.webError(w, r, err)
		return
	}
	v := searchView{Q: req.Q, Sort: req.Sort, Total: res.Total, Page: max(req.Page, 1), Sorts: []string{"bestmatch", "newest", "oldest", "mostrecent"}}
	for _, h := range res.Hits {
		var src struct {
			ID       string   `json:"id"`
			Metadata Metadata `json:"metadata"`
			Access   Access   `json:"access"`
		}
		if err := jsonUnmarshal(h.Source, &src); err != nil {
			continue
		}
		d := src.Metadata.Description
		if len(d) > 300 {
			d = d[:300] + "…"
		}
		v.Hits = append(v.Hits, hitView{ID: src.ID, Title: src.Metadata.Title, Creators: src.Metadata.Creators, Type: src.Metadata.ResourceType,
			Year: src.Metadata.PublicationYear, Access: src.Access.Record, Desc: d})
	}
	labels := map[string]string{"resource_type": "Resource type", "keywords": "Keywords", "access": "Access"}
	for _, name := range facetNames {
		f := res.Facets[name]
		if f == nil {
			continue
		}
		fv := facetView{Name: name, Label: labels[name]}
		for _, b := range f.Buckets {
			q := r.URL.Query()
			q.Del("page")
			sel := false
			for _, s := range req.Facets[name] {
				sel = sel || s == b.Key
			}
			if sel {
				vals := q[name]
				q.Del(name)
				for _, s := range vals {
					if s != b.Key {
						q.Add(name, s)
					}
				}
			} else {
				q.Add(name, b.Key)
			}
			fv.Buckets = append(fv.Buckets, bucketView{Key: b.Key, Count: b.Count, Selected: sel, URL: "/search?" + q.Encode()})
		}
		v.Facets = append(v.Facets, fv)
	}
	size := req.Size
	if size == 0 {
		size = 10
	}
	q := r.URL.Query()
	if v.Page > 1 {
		q.Set("page", strconv.Itoa(v.Page-1))
		v.PrevURL = "/search?" + q.Encode()
	}
	if int64(v.Page*size) < res.Total {
		q.Set("page", strconv.Itoa(v.Page+1))
		v.NextURL = "/search?" + q.Encode()
	}
	a.render(w, r, http.StatusOK, "search.html", page{Title: "Search", Data: v})
}

// Record page.

type recordView struct {
	ID       string
	Revision int64
	Created  time.Time
	Updated  time.Time
	Meta     Metadata
	Access   string
	DOI      string
	Files    []*files.Object
	CanEdit  bool
}

func (a *App) recordView(r *http.Request, rec *records.Record, s *stored) (*recordView, error) {
	pg, err := a.files.List(r.Context(), s.Bucket, files.ListOptions{Limit: 100})
	if err != nil {
		return nil, err
	}
	return &recordView{ID: s.ID, Revision: rec.Revision, Created: rec.Created, Updated: rec.Updated, Meta: s.Metadata,
		Access: s.Access.Record, DOI: s.PIDs["doi"], Files: pg.Objects, CanEdit: actorOf(r.Context()).canEdit(s)}, nil
}

func (a *App) webRecord(w http.ResponseWriter, r *http.Request) {
	rec, s, err := a.resolve(r.Context(), r.PathValue("pid"))
	if err == nil && !actorOf(r.Context()).canRead(s) {
		err = records.ErrNotFound
	}
	if err != nil {
		if !a.redirectPID(w, r, err, "/records/", "") {
			a.webError(w, r, err)
		}
		return
	}
	v, err := a.recordView(r, rec, s)
	if err != nil {
		a.webError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "record.html", page{Title: s.Metadata.Title, Data: v})
}

// Deposit: create, edit, upload.

type formView struct {
	Action   string
	ID       string
	Revision int64
	Meta     Metadata
	Access   string
	Creators string
	Keywords string
	Types    []string
	Errors   map[string]string
	Files    []*files.Object
	Upload   bool // the form carries a file input
}

func newFormView(action string) formView {
	return formView{Action: action, Access: "public", Types: resourceTypes, Meta: Metadata{ResourceType: "dataset"}, Upload: true}
}

func (a *App) webDepositForm(w http.ResponseWriter, r *http.Request) {
	if _, err := userOrErr(r.Context()); err != nil {
		a.webError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "deposit.html", page{Title: "New upload", Data: newFormView("/deposit")})
}

// formMeta builds metadata from form values.
func formMeta(get func(string) string) (Metadata, string) {
	m := Metadata{
		Title:        strings.TrimSpace(get("title")),
		Description:  strings.TrimSpace(get("description")),
		Creators:     splitList(get("creators")),
		Keywords:     splitList(get("keywords")),
		ResourceType: get("resource_type"),
	}
	if y := strings.TrimSpace(get("publication_year")); y != "" {
		m.PublicationYear = atoiOr(y, -1)
	}
	access := get("access")
	if access != "restricted" {
		access = "public"
	}
	return m, access
}

func fieldErrors(err error) map[string]string {
	var ve *records.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	out := map[string]string{}
	for _, fe := range ve.Errors {
		p := strings.Split(strings.TrimPrefix(fe.Path, "/"), "/")
		key := p[len(p)-1]
		if len(p) >= 2 && (p[0] == "metadata" || p[0] == "access") {
			key = p[1]
		}
		if key == "" || key == "metadata" {
			key = "form"
		}
		if _, ok := out[key]; !ok {
			out[key] = fe.Message
		}
	}
	return out
}

// webDeposit creates a record from the deposit form, streaming any files in
// it straight into the record's bucket (the form's fields come before its
// file input, so the record exists when the first file arrives).
func (a *App) webDeposit(w http.ResponseWriter, r *http.Request) {
	u, err := userOrErr(r.Context())
	if err != nil {
		a.webError(w, r, err)
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		a.webError(w, r, fmt.Errorf("%w: %v", records.ErrInvalid, err))
		return
	}
	vals := url.Values{}
	var (
		rec *records.Record
		s   *stored
	)
	create := func() bool {
		if a.checkCSRF(r, vals.Get("csrf_token")) != nil {
			a.webError(w, r, errForbidden)
			return false
		}
		m, access := formMeta(vals.Get)
		rec, s, err = a.createRecord(r.Context(), inputOf(m, access), u)
		if err != nil {
			if fe := fieldErrors(err); fe != nil {
				v := newFormView("/deposit")
				v.Meta, v.Access, v.Errors = m, access, fe
				v.Creators, v.Keywords = strings.Join(m.Creators, "\n"), strings.Join(m.Keywords, ", ")
				a.render(w, r, http.StatusBadRequest, "deposit.html", page{Title: "New upload", Error: "Please correct the fields marked below.", Data: v})
				return false
			}
			a.webError(w, r, err)
			return false
		}
		return true
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			a.webError(w, r, fmt.Errorf("%w: %v", records.ErrInvalid, err))
			return
		}
		if p.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(p, 64<<10))
			if err != nil {
				a.webError(w, r, err)
				return
			}
			vals.Add(p.FormName(), string(b))
			continue
		}
		if rec == nil && !create() {
			return
		}
		if err := a.putFormFile(r, s, p); err != nil {
			a.webError(w, r, err)
			return
		}
	}
	if rec == nil && !create() {
		return
	}
	setFlash(r, "Record "+s.ID+" created.")
	redirectAfterUpload(w, r, "/records/"+s.ID)
}

// redirectAfterUpload answers a form post with a redirect, or, for the
// progress-bar script (which cannot stop XHR from following redirects), with
// the address to go to, so the page it lands on is loaded once.
func redirectAfterUpload(w http.ResponseWriter, r *http.Request, to string) {
	if r.Header.Get("X-Requested-With") == "XMLHttpRequest" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, to)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (a *App) putFormFile(r *http.Request, s *stored, p *multipart.Part) error {
	key := strings.TrimSpace(p.FileName())
	if i := strings.LastIndexAny(key, `/\`); i >= 0 {
		key = key[i+1:]
	}
	if key == "" {
		return nil
	}
	if err := files.ValidateKey(key); err != nil {
		return err
	}
	_, err := a.files.Put(r.Context(), s.Bucket, key, p, files.PutOptions{})
	if err == nil {
		a.purge(r.Context(), s.ID)
	}
	return err
}

func (a *App) editable(w http.ResponseWriter, r *http.Request) (*records.Record, *stored, bool) {
	rec, s, err := a.resolve(r.Context(), r.PathValue("pid"))
	act := actorOf(r.Context())
	if err == nil && !act.canRead(s) {
		err = records.ErrNotFound
	}
	if err == nil && !act.canEdit(s) {
		err = forbiddenOrAuth(r)
	}
	if err != nil {
		a.webError(w, r, err)
		return nil, nil, false
	}
	return rec, s, true
}

func (a *App) webEditForm(w http.ResponseWriter, r *http.Request) {
	rec, s, ok := a.editable(w, r)
	if !ok {
		return
	}
	v := newFormView("/records/" + s.ID + "/edit")
	v.ID, v.Revision, v.Meta, v.Access, v.Upload = s.ID, rec.Revision, s.Metadata, s.Access.Record, false
	v.Creators, v.Keywords = strings.Join(s.Metadata.Creators, "\n"), strings.Join(s.Metadata.Keywords, ", ")
	if pg, err := a.files.List(r.Context(), s.Bucket, files.ListOptions{Limit: 100}); err == nil {
		v.Files = pg.Objects
	}
	a.render(w, r, http.StatusOK, "deposit.html", page{Title: "Edit " + s.Metadata.Title, Data: v})
}

func (a *App) webEdit(w http.ResponseWriter, r *http.Request) {
	rec, s, ok := a.editable(w, r)
	if !ok {
		return
	}
	if a.checkCSRF(r, r.PostFormValue("csrf_token")) != nil {
		a.webError(w, r, errForbidden)
		return
	}
	rev, err := strconv.ParseInt(r.PostFormValue("revision"), 10, 64)
	if err != nil {
		rev = rec.Revision
	}
	m, access := formMeta(r.PostFormValue)
	_, ns, err := a.updateRecord(r.Context(), rec, s, inputOf(m, access), rev)
	if err != nil {
		if fe := fieldErrors(err); fe != nil || errors.Is(err, records.ErrConflict) {
			v := newFormView("/records/" + s.ID + "/edit")
			v.ID, v.Revision, v.Meta, v.Access, v.Errors, v.Upload = s.ID, rec.Revision, m, access, fe, false
			v.Creators, v.Keywords = strings.Join(m.Creators, "\n"), strings.Join(m.Keywords, ", ")
			msg := httperr.PublicMessage(precondition(err))
			if fe != nil {
				msg = "Please correct the fields marked below."
			}
			a.render(w, r, http.StatusBadRequest, "deposit.html", page{Title: "Edit", Error: msg, Data: v})
			return
		}
		a.webError(w, r, err)
		return
	}
	setFlash(r, "Saved.")
	http.Redirect(w, r, "/records/"+ns.ID, http.StatusSeeOther)
}

func (a *App) webUpload(w http.ResponseWriter, r *http.Request) {
	_, s, ok := a.editable(w, r)
	if !ok {
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		a.webError(w, r, fmt.Errorf("%w: %v", records.ErrInvalid, err))
		return
	}
	csrfOK := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			a.webError(w, r, fmt.Errorf("%w: %v", records.ErrInvalid, err))
			return
		}
		if p.FileName() == "" {
			b, _ := io.ReadAll(io.LimitReader(p, 4096))
			if p.FormName() == "csrf_token" {
				csrfOK = a.checkCSRF(r, string(b)) == nil
			}
			continue
		}
		if !csrfOK {
			a.webError(w, r, errForbidden)
			return
		}
		if err := a.putFormFile(r, s, p); err != nil {
			a.webError(w, r, err)
			return
		}
	}
	setFlash(r, "Files uploaded.")
	redirectAfterUpload(w, r, "/records/"+s.ID)
}

func (a *App) webDelete(w http.ResponseWriter, r *http.Request) {
	rec, s, ok := a.editable(w, r)
	if !ok {
		return
	}
	if a.checkCSRF(r, r.PostFormValue("csrf_token")) != nil {
		a.webError(w, r, errForbidden)
		return
	}
	if err := a.deleteRecord(r.Context(), rec, s, -1); err != nil {
		a.webError(w, r, err)
		return
	}
	setFlash(r, "Record "+s.ID+" deleted.")
	http.Redirect(w, r, "/search", http.StatusSeeOther)
}

// Login and account.

type loginView struct {
	Email string
	Next  string
}

func safeNext(n string) string {
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") {
		return "/"
	}
	return n
}

func (a *App) webLoginForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "login.html", page{Title: "Log in", CSRF: csrfToken(r), Data: loginView{Next: safeNext(r.URL.Query().Get("next"))}})
}

func (a *App) webLogin(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	if a.checkCSRF(r, r.PostFormValue("csrf_token")) != nil {
		a.render(w, r, http.StatusForbidden, "login.html", page{Title: "Log in", CSRF: csrfToken(r), Error: errCSRF.Error(), Data: loginView{Next: next}})
		return
	}
	email := r.PostFormValue("email")
	u, err := a.users.Authenticate(r.Context(), email, r.PostFormValue("password"))
	if err != nil {
		status, msg := httperr.Status(err), httperr.PublicMessage(err)
		if status == http.StatusBadRequest {
			status = http.StatusUnauthorized
		}
		a.render(w, r, status, "login.html", page{Title: "Log in", CSRF: csrfToken(r), Error: msg, Data: loginView{Email: email, Next: next}})
		return
	}
	s := session.FromContext(r.Context())
	s.Rotate() // a new id on every privilege change
	_ = s.Set("uid", u.ID)
	s.Delete("csrf")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (a *App) webLogout(w http.ResponseWriter, r *http.Request) {
	if a.checkCSRF(r, r.PostFormValue("csrf_token")) != nil {
		a.webError(w, r, errForbidden)
		return
	}
	if s := session.FromContext(r.Context()); s != nil {
		s.Destroy()
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type accountView struct {
	Tokens   []Token
	NewToken string
}

func (a *App) webAccount(w http.ResponseWriter, r *http.Request) {
	u, err := userOrErr(r.Context())
	if err != nil {
		a.webError(w, r, err)
		return
	}
	toks, err := a.users.Tokens(r.Context(), u.ID)
	if err != nil {
		a.webError(w, r, err)
		return
	}
	v := accountView{Tokens: toks}
	if s := session.FromContext(r.Context()); s != nil {
		if t, ok := session.Get[string](s, "new_token"); ok {
			v.NewToken = t
			s.Delete("new_token")
		}
	}
	a.render(w, r, http.StatusOK, "account.html", page{Title: "Account", Data: v})
}

func (a *App) webCreateToken(w http.ResponseWriter, r *http.Request) {
	u, err := userOrErr(r.Context())
	if err != nil {
		a.webError(w, r, err)
		return
	}
	if a.checkCSRF(r, r.PostFormValue("csrf_token")) != nil {
		a.webError(w, r, errForbidden)
		return
	}
	t, err := a.users.CreateToken(r.Context(), u.ID, strings.TrimSpace(r.PostFormValue("name")))
	if err != nil {
		a.webError(w, r, err)
		return
	}
	if s := session.FromContext(r.Context()); s != nil {
		_ = s.Set("new_token", t)
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}
