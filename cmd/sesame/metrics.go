package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/store"
)

// watch makes the server's metrics and points them at the store: every
// audit event, the connection pools and the outbox's queues.
func watch(st *store.Store) *gateway.Metrics {
	m := gateway.NewMetrics()
	st.ObserveAudit(m.ObserveAudit)
	st.ObserveBlobErrors(m.BlobError)
	m.WatchDBs(st.DBs())
	m.WatchQueues(st, time.Now)
	return m
}

// serveMetrics serves /metrics without a token on addr (metrics.listen),
// an address meant for the monitoring network only. The returned function
// stops it.
func serveMetrics(addr string, m *gateway.Metrics, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("metrics listening", "addr", ln.Addr().String())
	go func() {
		if err := hs.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Error("metrics", "error", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx) // best effort at exit
	}, nil
}
