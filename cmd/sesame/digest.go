package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/sesame-share/sesame/store"
)

// digestInterval is how often serve looks for upload sessions whose owner
// digest is due (idle for ten minutes, or ended).
const digestInterval = time.Minute

// digestEvery queues the owner digests that are due, at once and then
// every interval, until ctx ends. Replicas may all run it: each session's
// digest is claimed in one transaction.
func digestEvery(ctx context.Context, st *store.Store, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := st.DigestUploads(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("owner digests", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
