package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
	"github.com/repokit/repokit/tasks"
)

// Task types.
const (
	taskNotify  = "repo.notify"
	taskDOI     = "repo.doi"
	taskFixity  = "repo.fixity"
	taskCleanup = "repo.cleanup"
	taskExport  = "repo.export"
)

type notifyArgs struct {
	RecordID string `json:"record_id"`
	Event    string `json:"event"`
}

type doiArgs struct {
	RecordID string `json:"record_id"`
}

type exportArgs struct {
	Requester string `json:"requester"`
}

// ExportProgress is the progress of an export job, kept in the cache for
// pollers (and by the task store as its result when done).
type ExportProgress struct {
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	File  string `json:"file,omitempty"`
	State string `json:"state"`
}

func (a *App) registerTasks() error {
	tasks.Register(a.tasks, taskNotify, a.runNotify)
	tasks.Register(a.tasks, taskDOI, a.runDOI)
	tasks.Register(a.tasks, taskFixity, a.runFixity)
	tasks.Register(a.tasks, taskCleanup, a.runCleanup)
	tasks.Register(a.tasks, taskExport, a.runExport)
	// Fixity checks spread over the period: each hourly run verifies at most
	// a batch, as Invenio's schedule does.
	if err := a.tasks.Schedule("fixity", "@every 1h", taskFixity, struct{}{}, tasks.Queue(queueLow), tasks.Priority(-1)); err != nil {
		return err
	}
	return a.tasks.Schedule("cleanup", "@every 1h", taskCleanup, struct{}{}, tasks.Queue(queueLow), tasks.Priority(-1))
}

// runNotify e-mails the owners of a record.
func (a *App) runNotify(ctx context.Context, t *tasks.Task[notifyArgs]) error {
	if a.mailer == nil {
		return nil // no SMTP configured
	}
	id, err := uuid.Parse(t.Args.RecordID)
	if err != nil {
		return tasks.Cancel(err)
	}
	rec, err := a.records.Get(ctx, id)
	if errors.Is(err, records.ErrNotFound) {
		return nil // deleted meanwhile: nothing to say
	}
	if err != nil {
		return err
	}
	s, err := decodeStored(rec)
	if err != nil {
		return tasks.Cancel(err)
	}
	for _, uid := range s.Owners {
		u, err := a.users.ByID(ctx, uid)
		if err != nil {
			a.log.Warn("notify: unknown owner", "record", s.ID, "user", uid, "err", err)
			continue
		}
		body := fmt.Sprintf("Your record %q was %s.\n\n%s/records/%s\n", s.Metadata.Title, t.Args.Event, a.cfg.BaseURL, s.ID)
		if err := a.mailer.Send(ctx, u.Email, "Record "+s.ID+" "+t.Args.Event, body); err != nil {
			return err // retried with backoff
		}
	}
	return nil
}

// runDOI registers (or updates) the DOI of a public record at DataCite and
// records it in the record's pids and as a PID. Remote failures retry with
// backoff; permanent refusals cancel the task.
func (a *App) runDOI(ctx context.Context, t *tasks.Task[doiArgs]) error {
	if a.datacite == nil {
		return nil
	}
	id, err := uuid.Parse(t.Args.RecordID)
	if err != nil {
		return tasks.Cancel(err)
	}
	rec, err := a.records.Get(ctx, id)
	if errors.Is(err, records.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s, err := decodeStored(rec)
	if err != nil {
		return tasks.Cancel(err)
	}
	if s.Access.Record != "public" {
		return nil
	}
	doi := a.datacite.DOIFor(s.ID)
	known := s.PIDs["doi"] == doi
	at := dataciteAttributes(s, rec.Created.Year(), a.cfg.BaseURL+"/records/"+s.ID, doi)
	if err := a.datacite.Register(ctx, at, known); err != nil {
		var re *RemoteError
		if errors.As(err, &re) && re.permanent() {
			return tasks.Cancel(err)
		}
		return err
	}
	if known {
		return nil
	}
	// Record the DOI: a PID bound to the record and a field of the record,
	// in one transaction; retried if another write won the race.
	sys := withSystem(ctx)
	for range 5 {
		rec, err = a.records.Get(sys, id)
		if err != nil {
			return err
		}
		s, err = decodeStored(rec)
		if err != nil {
			return err
		}
		if s.PIDs == nil {
			s.PIDs = map[string]string{}
		}
		s.PIDs["doi"] = doi
		doc, _ := json.Marshal(s)
		err = a.inTx(sys, func(tx *sqlx.Tx) error {
			p := a.pids.WithTx(tx)
			if _, err := p.Get(sys, "doi", doi); errors.Is(err, pid.ErrNotFound) {
				if _, err := p.Create(sys, "doi", doi, pid.WithObject(pid.ObjectRecord, id), pid.WithStatus(pid.StatusRegistered)); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
			_, err := a.records.WithTx(tx).Update(sys, id, doc, rec.Revision)
			return err
		})
		if !errors.Is(err, records.ErrConflict) {
			break
		}
	}
	if err != nil {
		return err
	}
	a.purge(ctx, s.ID)
	return nil
}

// runFixity verifies a batch of files due for their periodic check.
func (a *App) runFixity(ctx context.Context, _ *tasks.Task[struct{}]) error {
	// With hourly runs, ~1/(period in hours) of the files per run, bounded.
	rep, err := a.files.RunChecks(ctx, a.cfg.FixityPeriod, 200, 2<<30)
	if err != nil {
		return err
	}
	if len(rep.Mismatch) > 0 || len(rep.Unreadable) > 0 {
		a.log.Error("fixity check found damaged files", "mismatch", len(rep.Mismatch), "unreadable", len(rep.Unreadable))
	}
	return tasks.SetResult(ctx, rep)
}

// CleanupReport is the result of a cleanup run.
type CleanupReport struct {
	AbandonedUploads int   `json:"abandoned_uploads"`
	OrphanFiles      int   `json:"orphan_files"`
	StrayBytes       int   `json:"stray_bytes"`
	BytesFreed       int64 `json:"bytes_freed"`
	OldTasks         int64 `json:"old_tasks"`
	OldExports       int   `json:"old_exports"`
}

// runCleanup removes abandoned multipart uploads and unreferenced bytes,
// old finished tasks and old export files. Expired sessions need no sweep:
// they live in the cache with their idle TTL and vanish by themselves.
func (a *App) runCleanup(ctx context.Context, _ *tasks.Task[struct{}]) error {
	gc, err := a.files.CollectGarbage(ctx, files.GCOptions{OrphanGrace: time.Hour, UploadTTL: max(a.cfg.UploadTTL, time.Second)})
	if err != nil {
		return err
	}
	n, err := a.tasks.Clean(ctx)
	if err != nil {
		return err
	}
	rep := CleanupReport{AbandonedUploads: gc.Uploads, OrphanFiles: gc.OrphanFiles, StrayBytes: gc.StrayBytes, BytesFreed: gc.BytesFreed, OldTasks: n}
	rep.OldExports = a.cleanExports(7 * 24 * time.Hour)
	a.log.Info("cleanup", "report", rep)
	return tasks.SetResult(ctx, rep)
}

func (a *App) exportDir() string { return filepath.Join(a.cfg.Data, "exports") }

func (a *App) cleanExports(age time.Duration) int {
	ents, err := os.ReadDir(a.exportDir())
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > age {
			if os.Remove(filepath.Join(a.exportDir(), e.Name())) == nil {
				n++
			}
		}
	}
	return n
}

func exportKey(id int64) string { return "export:" + strconv.FormatInt(id, 10) }

// runExport writes every live record as one JSON line into the data folder,
// publishing its progress in the cache as it goes.
func (a *App) runExport(ctx context.Context, t *tasks.Task[exportArgs]) error {
	progress := a.cache.Namespace("progress")
	set := func(p ExportProgress) {
		_ = cache.SetJSON(ctx, progress, exportKey(t.ID), p, 24*time.Hour)
	}
	var total int64
	for _, err := range a.records.Refs(ctx) {
		if err != nil {
			return err
		}
		total++
	}
	set(ExportProgress{Total: total, State: "running"})
	if err := os.MkdirAll(a.exportDir(), 0o750); err != nil {
		return err
	}
	name := fmt.Sprintf("export-%d.jsonl", t.ID)
	tmp := filepath.Join(a.exportDir(), name+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	w := bufio.NewWriter(f)
	done, err := a.exportTo(ctx, w, func(done int64) {
		if done%100 == 0 {
			set(ExportProgress{Done: done, Total: total, State: "running"})
		}
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(a.exportDir(), name)); err != nil {
		return err
	}
	p := ExportProgress{Done: done, Total: total, File: name, State: "completed"}
	set(p)
	return tasks.SetResult(ctx, p)
}
