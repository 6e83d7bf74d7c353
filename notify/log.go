package notify

import (
	"context"
	"log/slog"

	"github.com/sesame-share/sesame"
)

// Log is the transport for a server with no mail or SMS provider: it
// writes each message, codes and links included, to the server log, so
// that a new user can follow a link and sign in. It never fails.
type Log struct {
	log *slog.Logger
}

var _ sesame.Notifier = (*Log)(nil)

// NewLog returns a Log transport writing to logger (nil: slog.Default()).
func NewLog(logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	return &Log{log: logger}
}

// Notify implements sesame.Notifier.
func (l *Log) Notify(ctx context.Context, m *sesame.Message) (string, error) {
	id := sesame.NewID("log_")
	l.log.InfoContext(ctx, "message (log transport: nothing is sent; configure notify.email or notify.sms to deliver)",
		"channel", m.Channel, "to", m.To, "subject", m.Subject, "kind", m.Kind, "id", id, "text", "\n"+m.Text)
	return id, nil
}
