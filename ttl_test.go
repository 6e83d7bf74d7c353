package sesame_test

import (
	"testing"
	"time"

	"github.com/sesame-share/sesame"
)

func TestParseFileTTL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		code string // "" when valid
		d    time.Duration
	}{
		{"", "", 0},
		{"inherited", "", 0},
		{"never", "", 0},
		{"7d", "", 7 * 24 * time.Hour},
		{"44h", "", 44 * time.Hour},
		{"2s", "", 2 * time.Second},
		{"30m", "", 30 * time.Minute},
		{"1w", "", 7 * 24 * time.Hour},
		{"1d12h", "", 36 * time.Hour},
		{"36500d", "", sesame.MaxFileTTL},
		{"7 days", "BadFormatPangeaDuration", 0},
		{"7", "BadFormatPangeaDuration", 0},
		{"d", "BadFormatPangeaDuration", 0},
		{"-1d", "BadFormatPangeaDuration", 0},
		{"1.5h", "BadFormatPangeaDuration", 0},
		{"7D", "BadFormatPangeaDuration", 0},
		{"1y", "BadFormatPangeaDuration", 0},
		{"Never", "BadFormatPangeaDuration", 0},
		{"P7D", "BadFormatPangeaDuration", 0},
		{"0s", "NotWithinRange", 0},
		{"0d0h", "NotWithinRange", 0},
		{"36501d", "NotWithinRange", 0},
		{"36500d1s", "NotWithinRange", 0},
		{"99999999999999999999d", "NotWithinRange", 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := sesame.ParseFileTTL("/file_ttl", tc.in)
			if tc.code == "" {
				if err != nil || string(got) != tc.in {
					t.Fatalf("ParseFileTTL(%q) = %q, %v; want it back", tc.in, got, err)
				}
				d, ok := got.Duration()
				if ok != (tc.d > 0) || d != tc.d {
					t.Errorf("Duration() = %v, %v; want %v", d, ok, tc.d)
				}
				return
			}
			e := sesame.AsError(err)
			if e == nil || e.Kind != sesame.Invalid || len(e.Fields) != 1 || e.Fields[0].Code != tc.code || e.Fields[0].Source != "/file_ttl" {
				t.Errorf("ParseFileTTL(%q) = %q, %v; want Invalid %s at /file_ttl", tc.in, got, err, tc.code)
			}
		})
	}
}

func TestFileTTL_Rules(t *testing.T) {
	parent := sesame.TTLSource{TTL: "7d", From: "pos_parent"}
	for _, tc := range []struct {
		own  sesame.FileTTL
		want sesame.TTLSource
		wire string
	}{
		{"", parent, "inherited"},
		{"inherited", parent, "inherited"},
		{"never", sesame.TTLSource{TTL: "never", From: "pos_self"}, "never"},
		{"2s", sesame.TTLSource{TTL: "2s", From: "pos_self"}, "2s"},
	} {
		if got := sesame.InheritTTL("pos_self", tc.own, parent); got != tc.want {
			t.Errorf("InheritTTL(own %q) = %+v, want %+v", tc.own, got, tc.want)
		}
		if got := tc.own.Wire(); got != tc.wire {
			t.Errorf("%q.Wire() = %q, want %q", tc.own, got, tc.wire)
		}
	}
	made := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	if got := sesame.FileExpiry(sesame.TypeFile, made, "2s"); !got.Equal(made.Add(2 * time.Second)) {
		t.Errorf("a file under 2s expires at %v, want two seconds after it was made", got)
	}
	for _, tc := range []struct {
		typ sesame.ObjectType
		ttl sesame.FileTTL
	}{{sesame.TypeFolder, "2s"}, {sesame.TypeFile, "never"}, {sesame.TypeFile, ""}} {
		if got := sesame.FileExpiry(tc.typ, made, tc.ttl); !got.IsZero() {
			t.Errorf("a %s under %q expires at %v, want never", tc.typ, tc.ttl, got)
		}
	}
	bucket := sesame.NewID(sesame.PrefixBucket)
	if id := sesame.ServiceConfigID(bucket); !sesame.ValidID(sesame.PrefixConfig, id) || id != sesame.ServiceConfigID(bucket) {
		t.Errorf("ServiceConfigID(%s) = %q, want a stable pci_ id", bucket, id)
	}
}
