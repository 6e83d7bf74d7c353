package main

import (
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestCommas(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1073741824: "1,073,741,824", -12345: "-12,345"} {
		if got := commas(in); got != want {
			t.Errorf("commas(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestOverlapNote(t *testing.T) {
	for _, c := range []struct {
		a, b []float64
		want string
	}{
		{[]float64{1}, []float64{2}, "one run each"},
		{[]float64{1, 3}, []float64{2, 4}, "overlap, so"},
		{[]float64{1, 2}, []float64{3, 4}, "do not overlap"},
	} {
		if got := overlapNote(c.a, c.b); !strings.Contains(got, c.want) {
			t.Errorf("overlapNote(%v, %v) = %q, want it to say %q", c.a, c.b, got, c.want)
		}
	}
}
