package testrig

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sesame-share/sesame/notify"
	"github.com/sesame-share/sesame/store"
)

// DiscardLogger logs nowhere.
func DiscardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// OpenStore opens a real SQLite store in dir, on clock (nil: the wall
// clock), logging to log (nil: nowhere). The test's cleanup closes it;
// closing it earlier as well is harmless.
func OpenStore(t testing.TB, dir string, clock *Clock, log *slog.Logger) *store.Store {
	t.Helper()
	if log == nil {
		log = DiscardLogger()
	}
	st, err := store.Open(context.Background(), store.Config{DataDir: dir, Now: nowOf(clock), Logger: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// OpenDB opens the database file of the store in dir directly, for what the
// API hides. The server may be running: SQLite in WAL mode allows that.
func OpenDB(t testing.TB, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", store.DSN(filepath.Join(dir, "sesame.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// nowOf is c.Now, or nil (the wall clock) for no clock.
func nowOf(c *Clock) func() time.Time {
	if c == nil {
		return nil
	}
	return c.Now
}

// Buffer is a bytes.Buffer that a server's goroutines and the test can
// share, for logs and program output.
type Buffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Config is a notify.SMTP configuration that delivers to the server, in
// plain text, from share@example.com.
func (f *SMTPServer) Config() notify.SMTPConfig {
	return notify.SMTPConfig{Host: f.Host, Port: f.Port, TLS: "none", From: "share@example.com", Timeout: 10 * time.Second, Logger: DiscardLogger()}
}

// Config is a notify.Twilio configuration, with an API key, that sends to
// the fake through BaseURL.
func (f *TwilioServer) Config() notify.TwilioConfig {
	return notify.TwilioConfig{AccountSID: TwilioAccountSID, APIKey: TwilioAPIKey, APISecret: TwilioAPISecret, From: TwilioFrom, BaseURL: f.URL}
}
