package main

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/sesame-share/sesame/store"
)

// purge runs one purge and logs what it removed, if anything.
func purge(ctx context.Context, st *store.Store, now time.Time, auditRetention time.Duration, log *slog.Logger) {
	stats, err := st.Purge(ctx, now, auditRetention)
	if n := stats.Total(); n > 0 {
		attrs := []any{"rows", n}
		tables := make([]string, 0, len(stats))
		for table := range stats {
			tables = append(tables, table)
		}
		slices.Sort(tables)
		for _, table := range tables {
			attrs = append(attrs, table, stats[table])
		}
		log.Info("purged spent rows", attrs...)
	}
	if err != nil && ctx.Err() == nil {
		log.Warn("purge", "error", err)
	}
}
