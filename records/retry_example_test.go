package records_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/repokit/repokit/records"
)

// Eight writers count downloads on one record at once. Update alone would
// fail with ErrConflict whenever another writer committed first; Modify
// reads again, re-applies the change and retries with backoff, so no count
// is lost.
func ExampleStore_Modify() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "records-modify-")
	defer os.RemoveAll(dir)
	store, err := records.Open(ctx, "sqlite://"+filepath.Join(dir, "records.db"))
	if err != nil {
		panic(err)
	}
	defer store.Close()

	rec, _ := store.Create(ctx, json.RawMessage(`{"title": "Dataset", "downloads": 0}`))

	countDownload := func(cur *records.Record) (json.RawMessage, error) {
		var doc map[string]any
		if err := json.Unmarshal(cur.JSON, &doc); err != nil {
			return nil, err
		}
		doc["downloads"] = doc["downloads"].(float64) + 1
		return json.Marshal(doc)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if _, err := store.Modify(ctx, rec.ID, countDownload); err != nil {
					fmt.Println(err)
				}
			}
		}()
	}
	wg.Wait()

	rec, _ = store.Get(ctx, rec.ID)
	var doc struct{ Downloads int }
	_ = json.Unmarshal(rec.JSON, &doc)
	fmt.Println("downloads:", doc.Downloads, "revision:", rec.Revision)
	// Output:
	// downloads: 40 revision: 40
}
