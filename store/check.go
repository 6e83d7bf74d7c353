package store

import (
	"context"
	"fmt"

	"github.com/sesame-share/sesame"
)

// checkBatch is how many file rows MissingBlobs reads at a time.
const checkBatch = 500

// MissingBlobs lists the files whose bytes are gone from the blob store:
// rows a restore or a copy of the data directory left without their blob.
// They answer 404 on download; an operator restores the blobs or deletes
// the rows.
func (st *Store) MissingBlobs(ctx context.Context) ([]*sesame.Object, error) {
	var missing []*sesame.Object
	after := ""
	for {
		var rows []objectRow
		err := st.db.SelectContext(ctx, &rows, st.db.Rebind(`SELECT `+objectCols+` FROM objects WHERE type = ? AND id > ? ORDER BY id LIMIT ?`),
			sesame.TypeFile, after, checkBatch)
		if err != nil {
			return nil, fmt.Errorf("store: check blobs: %w", err)
		}
		for i := range rows {
			o := rows[i].object(st.ttl)
			b, err := st.blobs.open(ctx, o.BlobKey)
			switch {
			case sesame.KindOf(err) == sesame.NotFound:
				missing = append(missing, o)
			case err != nil:
				return nil, fmt.Errorf("store: check blob of %s: %w", o.ID, err)
			default:
				_ = b.Close() // opened only to see that it is there
			}
			after = o.ID
		}
		if len(rows) < checkBatch {
			return missing, nil
		}
	}
}
