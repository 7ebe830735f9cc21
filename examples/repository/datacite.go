package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DataCite is a client of the DataCite REST API (https://support.datacite.org/docs/api):
// POST /dois creates a DOI, PUT /dois/{id} updates (or creates) one; bodies
// are JSON:API documents with type "dois"; HTTP basic auth with the
// repository id and password.
type DataCite struct {
	BaseURL        string // e.g. https://api.test.datacite.org
	User, Password string
	Prefix         string // e.g. 10.5072
	Client         *http.Client
}

// errDOIExists: POST /dois answered that the DOI is taken (422).
var errDOIExists = errors.New("datacite: DOI already exists")

// RemoteError is a non-success answer of the DataCite API; Temporary ones
// (network errors, 429, 5xx) are retried by the task with backoff.
type RemoteError struct {
	Status int
	Body   string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("datacite: HTTP %d: %s", e.Status, e.Body)
}

// DOIAttributes is the part of DataCite's metadata the example fills.
type DOIAttributes struct {
	DOI             string           `json:"doi,omitempty"`
	Event           string           `json:"event,omitempty"` // publish, register, hide
	Creators        []map[string]any `json:"creators"`
	Titles          []map[string]any `json:"titles"`
	Descriptions    []map[string]any `json:"descriptions,omitempty"`
	Subjects        []map[string]any `json:"subjects,omitempty"`
	Publisher       string           `json:"publisher"`
	PublicationYear int              `json:"publicationYear"`
	Types           map[string]any   `json:"types"`
	URL             string           `json:"url"`
	SchemaVersion   string           `json:"schemaVersion,omitempty"`
}

type doiDoc struct {
	Data struct {
		ID         string        `json:"id,omitempty"`
		Type       string        `json:"type"`
		Attributes DOIAttributes `json:"attributes"`
	} `json:"data"`
}

// DOIFor returns the DOI the repository gives a recid.
func (d *DataCite) DOIFor(recid string) string {
	return strings.ToLower(d.Prefix + "/repokit." + recid)
}

// Attributes maps a record to DataCite metadata.
func dataciteAttributes(s *stored, year int, landing, doi string) DOIAttributes {
	at := DOIAttributes{DOI: doi, Event: "publish", Publisher: "RepoKit example repository", PublicationYear: year,
		URL: landing, SchemaVersion: "http://datacite.org/schema/kernel-4"}
	for _, c := range s.Metadata.Creators {
		at.Creators = append(at.Creators, map[string]any{"name": c})
	}
	at.Titles = []map[string]any{{"title": s.Metadata.Title}}
	if s.Metadata.Description != "" {
		at.Descriptions = []map[string]any{{"description": s.Metadata.Description, "descriptionType": "Abstract"}}
	}
	for _, k := range s.Metadata.Keywords {
		at.Subjects = append(at.Subjects, map[string]any{"subject": k})
	}
	general := map[string]string{"dataset": "Dataset", "publication": "Text", "software": "Software", "image": "Image"}[s.Metadata.ResourceType]
	if general == "" {
		general = "Other"
	}
	at.Types = map[string]any{"resourceTypeGeneral": general, "resourceType": s.Metadata.ResourceType}
	if s.Metadata.PublicationYear != 0 {
		at.PublicationYear = s.Metadata.PublicationYear
	}
	return at
}

// Create registers a new DOI (POST /dois).
func (d *DataCite) Create(ctx context.Context, at DOIAttributes) error {
	return d.send(ctx, http.MethodPost, "/dois", at)
}

// Update updates (or creates) a DOI (PUT /dois/{id}).
func (d *DataCite) Update(ctx context.Context, at DOIAttributes) error {
	return d.send(ctx, http.MethodPut, "/dois/"+url.PathEscape(at.DOI), at)
}

// Register creates the DOI, or updates it when it exists already (a retry
// after the remote committed but the answer was lost).
func (d *DataCite) Register(ctx context.Context, at DOIAttributes, known bool) error {
	if !known {
		err := d.Create(ctx, at)
		if !errors.Is(err, errDOIExists) {
			return err
		}
	}
	return d.Update(ctx, at)
}

func (d *DataCite) send(ctx context.Context, method, path string, at DOIAttributes) error {
	var doc doiDoc
	doc.Data.Type = "dois"
	if method == http.MethodPut {
		doc.Data.ID = at.DOI
	}
	doc.Data.Attributes = at
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(d.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/vnd.api+json")
	req.Header.Set("Accept", "application/vnd.api+json")
	req.SetBasicAuth(d.User, d.Password)
	c := d.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("datacite: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated:
		return nil
	case method == http.MethodPost && resp.StatusCode == http.StatusUnprocessableEntity && bytes.Contains(bytes.ToLower(msg), []byte("taken")):
		return errDOIExists
	}
	return &RemoteError{Status: resp.StatusCode, Body: strings.TrimSpace(string(msg))}
}

// permanent reports whether retrying cannot help (bad credentials or
// metadata): the task is then cancelled instead of retried.
func (e *RemoteError) permanent() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden ||
		(e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests && e.Status != http.StatusRequestTimeout)
}
