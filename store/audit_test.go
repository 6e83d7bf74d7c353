package store_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

// auditFixture appends ten events, one minute apart, and returns them as
// stored (ids and times filled in).
func auditFixture(t *testing.T, ts *testStore) []*sesame.AuditEvent {
	t.Helper()
	ctx := context.Background()
	linkA, linkB := sesame.NewID(sesame.PrefixLink), sesame.NewID(sesame.PrefixLink)
	objA, objB := sesame.NewID(sesame.PrefixObject), sesame.NewID(sesame.PrefixObject)
	events := []*sesame.AuditEvent{
		{Actor: "stk_one", ActorType: sesame.ActorToken, Action: "object.put", ObjectID: objA, IP: "192.0.2.1", Outcome: "success", RequestID: "req-0", Detail: map[string]string{"name": "a.txt"}},
		{Actor: "stk_one", ActorType: sesame.ActorToken, Action: "link.create", LinkID: linkA, ObjectID: objA, Outcome: "success", RequestID: "req-1"},
		{Actor: "stk_two", ActorType: sesame.ActorMCP, Action: "link.create", LinkID: linkB, ObjectID: objB, Outcome: "success", RequestID: "req-2"},
		{Actor: "ses_1", ActorType: sesame.ActorSession, Action: "session.start", LinkID: linkA, IP: "198.51.100.7", Outcome: "failure:401", RequestID: "req-3"},
		{Actor: "ses_1", ActorType: sesame.ActorSession, Action: "session.start", LinkID: linkA, Outcome: "success", RequestID: "req-4"},
		{Actor: "ses_1", ActorType: sesame.ActorSession, Action: "object.get", LinkID: linkA, ObjectID: objA, Outcome: "success", RequestID: "req-5"},
		{Actor: "stk_two", ActorType: sesame.ActorToken, Action: "link.update", LinkID: linkB, Outcome: "failure:404", RequestID: "req-6"},
		{Actor: "system", ActorType: sesame.ActorSystem, Action: "link.expire", LinkID: linkB, Outcome: "success"},
		{Actor: "stk_one", ActorType: sesame.ActorToken, Action: "object.delete", ObjectID: objB, Outcome: "failure:409", RequestID: "req-8"},
		{Actor: "stk_one", ActorType: sesame.ActorToken, Action: "link.delete", LinkID: linkA, Outcome: "success", RequestID: "req-9"},
	}
	for i, e := range events {
		ts.clock.Advance(time.Minute)
		if i == 3 {
			// A batch of two is one call.
			if err := ts.Audit(ctx, e, events[i+1]); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if i == 4 {
			continue
		}
		if err := ts.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	return events
}

func TestStore_Audit(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	start := ts.clock.Now()
	events := auditFixture(t, ts)

	t.Run("Appends", func(t *testing.T) {
		for i, e := range events {
			if i > 0 && e.ID <= events[i-1].ID {
				t.Errorf("event %d: got id %d after %d, want increasing ids", i, e.ID, events[i-1].ID)
			}
		}
		page, err := ts.FindAudit(ctx, sesame.AuditFilter{Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(events, page.Events); diff != "" {
			t.Errorf("stored events (-appended +stored):\n%s", diff)
		}
		if page.Count != len(events) || page.Next != nil {
			t.Errorf("got count %d and next %v, want %d and nil", page.Count, page.Next, len(events))
		}
	})

	t.Run("Times", func(t *testing.T) {
		// Events without a time get the clock's; the two of one batch share it.
		want := []time.Duration{1, 2, 3, 4, 4, 6, 7, 8, 9, 10}
		for i, e := range events {
			if w := start.Add(want[i] * time.Minute); !e.Time.Equal(w) {
				t.Errorf("event %d: got time %v, want %v", i, e.Time, w)
			}
		}
		// A given time is kept, as UTC to the microsecond.
		at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 2*3600))
		e := &sesame.AuditEvent{Time: at, Actor: "x", ActorType: sesame.ActorSystem, Action: "test.time", Outcome: "success"}
		if err := ts.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
		page, err := ts.FindAudit(ctx, sesame.AuditFilter{Conds: []sesame.Cond{{Field: "action", Values: []string{"test.time"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 1 {
			t.Fatalf("got %d events, want 1", len(page.Events))
		}
		got := page.Events[0].Time
		if want := at.UTC().Truncate(time.Microsecond); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("got time %v, want %v in UTC", got, want)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		if err := ts.Audit(ctx); err != nil {
			t.Errorf("Audit() = %v, want nil", err)
		}
	})
}

func TestStore_FindAudit(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	ev := auditFixture(t, ts)
	ft := func(i int) string { return sesame.FormatTime(ev[i].Time) }
	c := func(field string, op sesame.Op, v ...string) sesame.Cond {
		return sesame.Cond{Field: field, Op: op, Values: v}
	}
	eq := func(field, v string) sesame.Cond { return c(field, sesame.OpEq, v) }
	linkA, objB := ev[1].LinkID, ev[2].ObjectID

	tests := []struct {
		name  string
		conds []sesame.Cond
		want  []int // ascending
	}{
		{"None", nil, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"LinkEq", []sesame.Cond{eq("link_id", linkA)}, []int{1, 3, 4, 5, 9}},
		{"LinkEqNone", []sesame.Cond{eq("link_id", "")}, []int{0, 8}},
		{"LinkIn", []sesame.Cond{c("link_id", sesame.OpIn, ev[2].LinkID, sesame.NewID(sesame.PrefixLink))}, []int{2, 6, 7}},
		{"LinkContains", []sesame.Cond{c("link_id", sesame.OpContains, linkA[4:20])}, []int{1, 3, 4, 5, 9}},
		{"ObjectEq", []sesame.Cond{eq("object_id", objB)}, []int{2, 8}},
		{"ObjectIn", []sesame.Cond{c("object_id", sesame.OpIn, ev[0].ObjectID, objB)}, []int{0, 1, 2, 5, 8}},
		{"ObjectContains", []sesame.Cond{c("object_id", sesame.OpContains, sesame.PrefixObject)}, []int{0, 1, 2, 5, 8}},
		{"ActionEq", []sesame.Cond{eq("action", "link.create")}, []int{1, 2}},
		{"ActionIn", []sesame.Cond{c("action", sesame.OpIn, "session.start", "object.get")}, []int{3, 4, 5}},
		{"ActionContains", []sesame.Cond{c("action", sesame.OpContains, "link.")}, []int{1, 2, 6, 7, 9}},
		{"ActorEq", []sesame.Cond{eq("actor", "stk_one")}, []int{0, 1, 8, 9}},
		{"ActorIn", []sesame.Cond{c("actor", sesame.OpIn, "stk_two", "system")}, []int{2, 6, 7}},
		{"ActorContains", []sesame.Cond{c("actor", sesame.OpContains, "stk_")}, []int{0, 1, 2, 6, 8, 9}},
		{"ActorTypeEq", []sesame.Cond{eq("actor_type", sesame.ActorSession)}, []int{3, 4, 5}},
		{"ActorTypeIn", []sesame.Cond{c("actor_type", sesame.OpIn, sesame.ActorMCP, sesame.ActorSystem)}, []int{2, 7}},
		{"ActorTypeContains", []sesame.Cond{c("actor_type", sesame.OpContains, "ok")}, []int{0, 1, 6, 8, 9}},
		{"OutcomeEq", []sesame.Cond{eq("outcome", "success")}, []int{0, 1, 2, 4, 5, 7, 9}},
		{"OutcomeIn", []sesame.Cond{c("outcome", sesame.OpIn, "failure:401", "failure:409")}, []int{3, 8}},
		{"OutcomeContains", []sesame.Cond{c("outcome", sesame.OpContains, "failure")}, []int{3, 6, 8}},
		{"RequestEq", []sesame.Cond{eq("request_id", "req-6")}, []int{6}},
		{"RequestIn", []sesame.Cond{c("request_id", sesame.OpIn, "req-0", "req-9", "")}, []int{0, 7, 9}},
		{"RequestContains", []sesame.Cond{c("request_id", sesame.OpContains, "-1")}, []int{1}},
		{"TimeEq", []sesame.Cond{eq("time", ft(3))}, []int{3, 4}},
		{"TimeGt", []sesame.Cond{c("time", sesame.OpGt, ft(6))}, []int{7, 8, 9}},
		{"TimeGte", []sesame.Cond{c("time", sesame.OpGte, ft(6))}, []int{6, 7, 8, 9}},
		{"TimeLt", []sesame.Cond{c("time", sesame.OpLt, ft(3))}, []int{0, 1, 2}},
		{"TimeLte", []sesame.Cond{c("time", sesame.OpLte, ft(3))}, []int{0, 1, 2, 3, 4}},
		{"TimeIn", []sesame.Cond{c("time", sesame.OpIn, ft(0), ft(9))}, []int{0, 9}},
		{"TimeRange", []sesame.Cond{c("time", sesame.OpGte, ft(2)), c("time", sesame.OpLt, ft(5))}, []int{2, 3, 4}},
		{"LinkAndOutcome", []sesame.Cond{eq("link_id", linkA), eq("outcome", "success")}, []int{1, 4, 5, 9}},
	}

	covered := map[string]bool{}
	for _, tt := range tests {
		for _, cd := range tt.conds {
			covered[cd.Field] = true
		}
	}
	for field := range sesame.AuditFields {
		if !covered[field] {
			t.Errorf("no case filters on %s", field)
		}
	}

	for _, tt := range tests {
		for _, desc := range []bool{false, true} {
			t.Run(tt.name+"/desc="+strconv.FormatBool(desc), func(t *testing.T) {
				page, err := ts.FindAudit(ctx, sesame.AuditFilter{Conds: tt.conds, Desc: desc, Size: 100})
				if err != nil {
					t.Fatal(err)
				}
				want := []int64{}
				for _, i := range tt.want {
					want = append(want, ev[i].ID)
				}
				if desc {
					slices.Reverse(want)
				}
				got := []int64{}
				for _, e := range page.Events {
					got = append(got, e.ID)
				}
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Errorf("ids in order (-want +got):\n%s", diff)
				}
				if page.Count != len(tt.want) {
					t.Errorf("got count %d, want %d", page.Count, len(tt.want))
				}
			})
		}
	}

	t.Run("DescIsNewestFirst", func(t *testing.T) {
		page, err := ts.FindAudit(ctx, sesame.AuditFilter{Desc: true, Size: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 1 || page.Events[0].ID != ev[9].ID {
			t.Fatalf("got %+v, want the newest event %d", page.Events, ev[9].ID)
		}
		if diff := gocmp.Diff(ev[9], page.Events[0]); diff != "" {
			t.Errorf("newest event (-want +got):\n%s", diff)
		}
	})

	t.Run("Paging", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			conds []sesame.Cond
			want  []int
		}{
			{"All", nil, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
			{"Filtered", []sesame.Cond{c("action", sesame.OpContains, "link.")}, []int{1, 2, 6, 7, 9}},
		} {
			for _, desc := range []bool{false, true} {
				t.Run(tc.name+"/desc="+strconv.FormatBool(desc), func(t *testing.T) {
					want := []int64{}
					for _, i := range tc.want {
						want = append(want, ev[i].ID)
					}
					if desc {
						slices.Reverse(want)
					}
					f := sesame.AuditFilter{Conds: tc.conds, Desc: desc, Size: 3}
					var got []int64
					for pages := 0; ; pages++ {
						if pages > 4 {
							t.Fatal("more pages than events")
						}
						page, err := ts.FindAudit(ctx, f)
						if err != nil {
							t.Fatal(err)
						}
						if page.Count != len(want) {
							t.Errorf("page %d: got count %d, want %d", pages, page.Count, len(want))
						}
						for _, e := range page.Events {
							got = append(got, e.ID)
						}
						if page.Next == nil {
							break
						}
						if len(page.Events) != 3 {
							t.Errorf("page %d: got %d events before the last page, want 3", pages, len(page.Events))
						}
						if page.Next.OrderBy != "id" || page.Next.Desc != desc {
							t.Errorf("got cursor %+v, want order id, desc %v", page.Next, desc)
						}
						f.After = page.Next
					}
					if diff := gocmp.Diff(want, got); diff != "" {
						t.Errorf("ids in order (-want +got):\n%s", diff)
					}
				})
			}
		}
	})

	t.Run("BadCursor", func(t *testing.T) {
		id := strconv.FormatInt(ev[4].ID, 10)
		_, err := ts.FindAudit(ctx, sesame.AuditFilter{After: &sesame.Cursor{OrderBy: "time", ID: id}})
		wantErr(t, err, sesame.Invalid, "/last", "BadState")
		_, err = ts.FindAudit(ctx, sesame.AuditFilter{Desc: true, After: &sesame.Cursor{OrderBy: "id", ID: id}})
		wantErr(t, err, sesame.Invalid, "/last", "BadState")
		_, err = ts.FindAudit(ctx, sesame.AuditFilter{After: &sesame.Cursor{OrderBy: "id", ID: "x"}})
		wantErr(t, err, sesame.Invalid, "/last", "BadFormat")
	})
}

// TestStore_AuditAppendOnly checks that the database itself refuses to
// change or remove audit events.
func TestStore_AuditAppendOnly(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	ev := auditFixture(t, ts)
	db := ts.rawDB(t)
	for _, stmt := range []struct {
		query string
		args  []any
	}{
		{`UPDATE audit_events SET outcome = 'success' WHERE id = ?`, []any{ev[3].ID}},
		{`UPDATE audit_events SET actor = 'someone else'`, nil},
		{`DELETE FROM audit_events WHERE id = ?`, []any{ev[0].ID}},
		{`DELETE FROM audit_events`, nil},
	} {
		if _, err := db.Exec(stmt.query, stmt.args...); err == nil {
			t.Errorf("%s: succeeded, want the append-only trigger to refuse it", stmt.query)
		}
	}
	page, err := ts.FindAudit(ctx, sesame.AuditFilter{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(ev, page.Events); diff != "" {
		t.Errorf("events after refused changes (-want +got):\n%s", diff)
	}
	// Appending still works.
	e := &sesame.AuditEvent{Actor: "system", ActorType: sesame.ActorSystem, Action: "x", Outcome: "success"}
	if err := ts.Audit(ctx, e); err != nil {
		t.Fatal(err)
	}
	if e.ID <= ev[9].ID {
		t.Errorf("got id %d, want more than %d", e.ID, ev[9].ID)
	}
}

// TestStore_ChangesRecordThemselves: with an AuditNote in the context, a
// change appends its events in its own transaction, so a change that
// rolls back leaves no event and one that commits always has its event.
func TestStore_ChangesRecordThemselves(t *testing.T) {
	ts := newTestStore(t)
	note := func() (*sesame.AuditNote, context.Context) {
		n := &sesame.AuditNote{Actor: "stk_rec", ActorType: sesame.ActorToken, Action: "folder.create", RequestID: sesame.NewID("req_")}
		return n, sesame.WithAudit(context.Background(), n)
	}
	events := func(requestID string) []*sesame.AuditEvent {
		t.Helper()
		page, err := ts.FindAudit(context.Background(), sesame.AuditFilter{Conds: []sesame.Cond{{Field: "request_id", Op: sesame.OpEq, Values: []string{requestID}}}, Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		return page.Events
	}
	place := sesame.Placement{HasParentID: true, ParentID: sesame.RootParentID, Name: "rec"}

	n, ctx := note()
	o, err := ts.CreateFolder(ctx, sesame.FolderCreate{Placement: place})
	if err != nil {
		t.Fatal(err)
	}
	got := events(n.RequestID)
	if len(got) != 1 || got[0].ObjectID != o.ID || got[0].Action != "folder.create" || got[0].Actor != "stk_rec" || got[0].Outcome != "success" {
		t.Fatalf("events of a committed change: %+v, want one success event for %s", got, o.ID)
	}
	if len(n.Written()) != 1 {
		t.Errorf("the note holds %d written events, want 1", len(n.Written()))
	}

	// The same name again: the change rolls back, and so does its event.
	n, ctx = note()
	if _, err := ts.CreateFolder(ctx, sesame.FolderCreate{Placement: place}); sesame.KindOf(err) != sesame.Conflict {
		t.Fatalf("second create: %v, want Conflict", err)
	}
	if got := events(n.RequestID); len(got) != 0 || len(n.Written()) != 0 {
		t.Errorf("a rolled-back change left events %+v (note: %d)", got, len(n.Written()))
	}
	// A request that changed nothing records itself once, with its outcome.
	if err := n.Record(ctx, ts, ts.clock.Now(), "failure:409", nil, []string{o.ID}); err != nil {
		t.Fatal(err)
	}
	if got := events(n.RequestID); len(got) != 1 || got[0].Outcome != "failure:409" {
		t.Errorf("recorded failure: %+v", got)
	}
}
