package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/sesame-share/sesame/store"
)

// expireInterval is how often serve deletes the files whose TTL ran out.
// They are hidden from every read the moment they expire; the sweep frees
// their names, rows and bytes, and takes them out of their links.
const expireInterval = time.Minute

// expireEvery deletes expired files at once and then every interval, until
// ctx ends.
func expireEvery(ctx context.Context, st *store.Store, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := st.ExpireFiles(ctx)
		if n > 0 {
			log.Info("deleted expired files", "files", n)
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("expire files", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
