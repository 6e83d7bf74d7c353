package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/sesame-share/sesame/store"
)

// How often serve runs its sweeps. Replicas may all run them: a spent row
// is deleted, an expired file removed and a digest claimed by one
// statement or transaction, whichever replica gets to it first.
const (
	// purgeInterval: deleting spent rows (see purge).
	purgeInterval = 10 * time.Minute
	// expireInterval: deleting the files whose TTL ran out. They are hidden
	// from every read the moment they expire; the sweep frees their names,
	// rows and bytes, and takes them out of their links.
	expireInterval = time.Minute
	// digestInterval: queueing the owner digests of upload sessions that
	// are due (idle for ten minutes, or ended).
	digestInterval = time.Minute
)

// every returns a background task that runs sweep at once and then every
// interval, until its context ends.
func every(interval time.Duration, sweep func(context.Context)) func(context.Context) {
	return func(ctx context.Context) {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			sweep(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
}

// expireFiles deletes the files whose TTL ran out.
func expireFiles(ctx context.Context, st *store.Store, log *slog.Logger) {
	n, err := st.ExpireFiles(ctx)
	if n > 0 {
		log.Info("deleted expired files", "files", n)
	}
	if err != nil && ctx.Err() == nil {
		log.Warn("expire files", "error", err)
	}
}

// queueDigests queues the owner digests that are due.
func queueDigests(ctx context.Context, st *store.Store, log *slog.Logger) {
	if _, err := st.DigestUploads(ctx, time.Now()); err != nil && ctx.Err() == nil {
		log.Warn("owner digests", "error", err)
	}
}
