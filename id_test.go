package sesame_test

import (
	"slices"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
)

// Time ids have NewID's form, sort by the time they were made (to the
// millisecond), and differ when made in the same millisecond.
func TestNewTimeID(t *testing.T) {
	base := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 300 {
		at := base.Add(time.Duration(i*i) * 37 * time.Millisecond) // gaps from 0 to about an hour
		id := sesame.NewTimeID(sesame.PrefixLink, at)
		if !sesame.ValidID(sesame.PrefixLink, id) {
			t.Fatalf("%q is not a valid link id", id)
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("ids made at increasing times do not sort in that order: %q", ids[:5])
	}
	a, b := sesame.NewTimeID("x_", base), sesame.NewTimeID("x_", base)
	if a == b {
		t.Errorf("two ids of one millisecond are equal: %q", a)
	}
	if a[:2+9] != b[:2+9] {
		t.Errorf("ids of one millisecond differ in their first 45 bits: %q, %q", a, b)
	}
	if early := sesame.NewTimeID("x_", time.Unix(-5, 0)); !sesame.ValidID("x_", early) {
		t.Errorf("an id for a time before 1970 is %q", early)
	}
}
