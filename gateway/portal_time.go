package gateway

import (
	"fmt"
	"time"
)

// when is a moment as the pages show it: machine-readable for the script
// that shows it in the visitor's own time zone, in UTC for pages without
// scripts, and relative to now.
type when struct {
	ISO, UTC, Relative string
}

func whenOf(t, now time.Time) when {
	return when{ISO: t.UTC().Format(time.RFC3339), UTC: t.UTC().Format("2 Jan 2006 15:04 UTC"), Relative: relative(t.Sub(now))}
}

// relative says how far off d is in the largest whole unit: "6 days",
// "5 hours", "12 minutes".
func relative(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	case d >= time.Hour:
		return plural(int(d/time.Hour), "hour")
	default:
		return plural(max(1, int(d/time.Minute)), "minute")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
