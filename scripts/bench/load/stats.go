package main

import (
	"fmt"
	"slices"
	"strconv"
)

// median of v: the middle value, or the mean of the two middle ones.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// spread is the median, the minimum and the maximum of v.
func spread(v []float64) (med, lo, hi float64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	return median(v), slices.Min(v), slices.Max(v)
}

func sum(v []float64) float64 {
	var t float64
	for _, x := range v {
		t += x
	}
	return t
}

// commas writes an integer with thousands separators: 1,000,000.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var out []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// ratio is a/b with two decimals, "n/a" when b is not positive.
func ratio(a, b float64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// overlapNote says whether two sets of runs overlap: if they do, the ratio
// of their medians is within the noise of this run.
func overlapNote(a, b []float64) string {
	switch {
	case len(a) <= 1 || len(b) <= 1:
		return "one run each, so no spread to judge the difference by"
	case slices.Max(a) >= slices.Min(b) && slices.Max(b) >= slices.Min(a):
		return "the two ranges of runs overlap, so the difference is within the noise of this run"
	default:
		return "the two ranges of runs do not overlap"
	}
}

// cpuNote says what the server's CPU use tells about its limit. Go runs at
// most GOMAXPROCS (= CPUs) threads of Go code at once, so busy + waiting
// near the CPU count means the server was short of CPU.
func cpuNote(u cpuUse, what string) string {
	n := nproc()
	c, w := u.busy, u.wait
	if c+w >= 0.75*float64(n) {
		return fmt.Sprintf("during %s the server was running or ready to run %.2f CPUs' worth of the time "+
			"(%.2f running, %.2f waiting for a CPU) on %d CPUs: it was short of CPU, which it shares with "+
			"the client and the machine's other work", what, c+w, c, w, n)
	}
	return fmt.Sprintf("during %s the server was running or ready to run only %.2f CPUs' worth of the time "+
		"(%.2f running, %.2f waiting for a CPU) on %d CPUs: most of the time its requests were blocked "+
		"(on locks, sleeps or I/O), not short of CPU", what, c+w, c, w, n)
}

// verdict compares a ratio to nginx with the 0.9× target.
func verdict(r float64) string {
	if r >= 0.9 {
		return "meets"
	}
	return "misses"
}

// mbps is MiB per second.
func mbps(bytes int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(bytes) / (1 << 20) / secs
}
