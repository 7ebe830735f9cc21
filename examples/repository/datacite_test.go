package main

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

func TestDataCiteClient(t *testing.T) {
	f := newFakeDataCite(t, 1)
	ctx := context.Background()
	dc := &DataCite{BaseURL: f.srv.URL, User: "REPO.TEST", Password: "secret", Prefix: "10.5072"}
	s := &stored{ID: "42", Metadata: Metadata{Title: "T", Creators: []string{"C"}, ResourceType: "dataset"}}
	at := dataciteAttributes(s, 2025, "https://repo.example.org/records/42", dc.DOIFor("42"))

	// The first request fails with 503: a temporary error, retried by the task.
	err := dc.Register(ctx, at, false)
	var re *RemoteError
	if !errors.As(err, &re) || re.Status != http.StatusServiceUnavailable || re.permanent() {
		t.Fatalf("first attempt: %v", err)
	}
	if err := dc.Register(ctx, at, false); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	// A retry after a lost answer: POST says "taken", the client updates.
	if err := dc.Register(ctx, at, false); err != nil {
		t.Fatalf("register again: %v", err)
	}
	if st := f.statuses(at.DOI); len(st) != 4 || st[2] != http.StatusUnprocessableEntity || st[3] != http.StatusOK {
		t.Fatalf("DataCite saw %v", st)
	}
	// Bad credentials are permanent: the task is cancelled, not retried.
	bad := *dc
	bad.Password = "wrong"
	err = bad.Update(ctx, at)
	if !errors.As(err, &re) || re.Status != http.StatusUnauthorized || !re.permanent() {
		t.Fatalf("bad credentials: %v", err)
	}
	// The remote being down is a temporary error.
	down := *dc
	down.BaseURL = "http://127.0.0.1:1"
	if err := down.Update(ctx, at); err == nil || errors.As(err, &re) {
		t.Fatalf("remote down: %v", err)
	}
}
