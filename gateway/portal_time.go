package gateway

import (
	"time"

	"github.com/sesame-share/sesame/templates"
)

// when is a moment as the pages show it: machine-readable for the script
// that shows it in the visitor's own time zone, in UTC for pages without
// scripts, and relative to now.
type when struct {
	ISO, UTC, Relative string
}

func whenOf(l *templates.Locale, t, now time.Time) when {
	return when{ISO: t.UTC().Format(time.RFC3339), UTC: l.Date(t), Relative: l.Duration(t.Sub(now))}
}
