// Package recordfiles gives each record a files bucket, as Invenio's
// invenio-records-files does: the record and its bucket are created in one
// transaction, a record's bucket is found from the record id, and deleting,
// undeleting or purging the record does the same to its bucket, in the
// record operation's transaction.
//
//	rf, err := recordfiles.New(ctx, recs, fs) // once per records store
//	rec, bucket, err := rf.Create(ctx, doc)   // record + bucket, one transaction
//	bucket, err = rf.Bucket(ctx, rec.ID)      // find it again
//	_, err = recs.Delete(ctx, rec.ID)         // bucket soft-deleted too
//
// With a recid minted into revision 0 (records/pid), create the bucket for
// the new record in the same transaction:
//
//	err := sqltx.InTx(ctx, db, func(tx *sqlx.Tx) error {
//		rec, recid, err := pids.WithTx(tx).CreateRecord(ctx, recs, doc)
//		...
//		bucket, err := rf.WithTx(tx).CreateBucket(ctx, rec.ID)
//		...
//	})
//
// The Files REST API (files/fileshttp) is served under a record's route
// with fileshttp.WithBucketResolver(rf.BucketResolver("id")):
//
//	mux.Handle("/api/records/{id}/files/{key...}", h)
//	mux.Handle("/api/records/{id}/files", h)
//
// The mapping lives in the table recordfiles_buckets (record_id, bucket_id),
// migrated by New unless WithoutMigrations is given (Migrations returns the
// SQL for hosts that migrate with their own tools).
package recordfiles
