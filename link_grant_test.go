package sesame_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sesame-share/sesame"
)

// as returns a context carrying a token with the scopes, as the adapters
// pass the caller to the core.
func as(scopes ...sesame.Scope) context.Context {
	return sesame.WithToken(context.Background(), &sesame.Token{ID: "stk_" + strings.Repeat("t", 26), Scopes: scopes})
}

// grantCases are the scope sets a caller may hold, and whether each link
// type is within its reach: a link grants no more than its creator holds.
var grantCases = []struct {
	name                     string
	scopes                   []sesame.Scope
	download, upload, editor bool
}{
	{"LinksWriteOnly", []sesame.Scope{sesame.ScopeLinksWrite}, false, false, false},
	{"LinksWriteObjectsRead", []sesame.Scope{sesame.ScopeLinksWrite, sesame.ScopeObjectsRead}, true, false, false},
	{"LinksWriteObjectsWrite", []sesame.Scope{sesame.ScopeLinksWrite, sesame.ScopeObjectsWrite}, false, false, false},
	{"LinksWriteObjectsReadWrite", []sesame.Scope{sesame.ScopeLinksWrite, sesame.ScopeObjectsRead, sesame.ScopeObjectsWrite}, true, true, true},
	{"ObjectsOnly", []sesame.Scope{sesame.ScopeObjectsRead, sesame.ScopeObjectsWrite}, false, false, false},
	{"Admin", []sesame.Scope{sesame.ScopeAdmin}, true, true, true},
	{"NoScopes", nil, false, false, false},
}

func TestLinkService_CreateGrantsNoMoreThanCreatorHolds(t *testing.T) {
	e := newLinkEnv(t, testPolicy)
	for _, gc := range grantCases {
		for _, lt := range []sesame.LinkType{sesame.LinkDownload, sesame.LinkUpload, sesame.LinkEditor} {
			want := map[sesame.LinkType]bool{sesame.LinkDownload: gc.download, sesame.LinkUpload: gc.upload, sesame.LinkEditor: gc.editor}[lt]
			t.Run(fmt.Sprintf("%s/%s", gc.name, lt), func(t *testing.T) {
				before := e.count(t)
				it := e.item()
				it.Type, it.Targets = lt, []string{e.folder.ID}
				links, err := e.svc.Create(as(gc.scopes...), []sesame.LinkCreate{it})
				if want {
					if err != nil || len(links) != 1 || links[0].Type != lt {
						t.Fatalf("got %v, want a %s link", err, lt)
					}
					return
				}
				wantFieldErr(t, err, sesame.Forbidden, "/links/0/link_type", "BadState")
				if n := e.count(t); n != before {
					t.Errorf("got %d links, want %d: a refused create stored a link", n, before)
				}
			})
		}
	}
	t.Run("NoToken", func(t *testing.T) {
		_, err := e.svc.Create(context.Background(), []sesame.LinkCreate{e.item()})
		if sesame.KindOf(err) != sesame.Forbidden {
			t.Errorf("got %v, want %v without a caller", err, sesame.Forbidden)
		}
	})
	t.Run("SecondItemRefused", func(t *testing.T) {
		before := e.count(t)
		ed := e.item()
		ed.Type, ed.Targets = sesame.LinkEditor, []string{e.folder.ID}
		_, err := e.svc.Create(as(sesame.ScopeLinksWrite, sesame.ScopeObjectsRead), []sesame.LinkCreate{e.item(), ed})
		wantFieldErr(t, err, sesame.Forbidden, "/links/1/link_type", "BadState")
		if n := e.count(t); n != before {
			t.Errorf("got %d links, want %d: creates are all or nothing", n, before)
		}
	})
	t.Run("MissingTargetNotRevealed", func(t *testing.T) {
		// Without objects:read the answer is the same whether the target
		// exists or not.
		ctx := as(sesame.ScopeLinksWrite)
		exists := e.item()
		missing := e.item()
		missing.Targets = []string{sesame.NewID(sesame.PrefixObject)}
		_, err1 := e.svc.Create(ctx, []sesame.LinkCreate{exists})
		_, err2 := e.svc.Create(ctx, []sesame.LinkCreate{missing})
		if sesame.KindOf(err1) != sesame.Forbidden || err1.Error() != err2.Error() {
			t.Errorf("existing target: %v; missing target: %v; want one Forbidden answer", err1, err2)
		}
	})
}

func TestLinkService_UpdateGrantsNoMoreThanUpdaterHolds(t *testing.T) {
	e := newLinkEnv(t, testPolicy)
	admin := as(sesame.ScopeAdmin)
	byType := map[sesame.LinkType]*sesame.Link{}
	for _, lt := range []sesame.LinkType{sesame.LinkDownload, sesame.LinkUpload, sesame.LinkEditor} {
		it := e.item()
		it.Type, it.Targets = lt, []string{e.folder.ID}
		links, err := e.svc.Create(admin, []sesame.LinkCreate{it})
		if err != nil {
			t.Fatal(err)
		}
		byType[lt] = links[0]
	}
	other, err := e.st.CreateFolder(context.Background(), sesame.FolderCreate{Placement: sesame.Placement{HasParentID: true, ParentID: sesame.RootParentID, Name: "outbox"}})
	if err != nil {
		t.Fatal(err)
	}
	updates := map[string]sesame.LinkUpdate{
		"Targets":        {SetTargets: true, Targets: []string{e.folder.ID}},
		"AddTargets":     {AddTargets: []string{other.ID}},
		"Authenticators": {Authenticators: []sesame.AuthenticatorInput{{Type: sesame.AuthEmailOTP, Context: "mallory@example.com"}}},
		"Title":          {Title: ptr("renamed")},
	}
	for _, gc := range grantCases {
		for lt, l := range byType {
			want := map[sesame.LinkType]bool{sesame.LinkDownload: gc.download, sesame.LinkUpload: gc.upload, sesame.LinkEditor: gc.editor}[lt]
			for name, upd := range updates {
				t.Run(fmt.Sprintf("%s/%s/%s", gc.name, lt, name), func(t *testing.T) {
					before, err := e.st.LinkByID(context.Background(), l.ID)
					if err != nil {
						t.Fatal(err)
					}
					_, err = e.svc.Update(as(gc.scopes...), l.ID, upd)
					if want {
						if err != nil {
							t.Fatalf("got %v, want the %s link updated", err, lt)
						}
						return
					}
					if sesame.KindOf(err) != sesame.Forbidden {
						t.Fatalf("got %v, want %v", err, sesame.Forbidden)
					}
					after, err := e.st.LinkByID(context.Background(), l.ID)
					if err != nil {
						t.Fatal(err)
					}
					if after.AuthEpoch != before.AuthEpoch || !after.Updated.Equal(before.Updated) {
						t.Errorf("a refused update changed the link: epoch %d -> %d", before.AuthEpoch, after.AuthEpoch)
					}
				})
			}
		}
	}
	t.Run("UnknownLinkWithoutObjectScopes", func(t *testing.T) {
		// A caller who can grant nothing learns nothing about link ids.
		ctx := as(sesame.ScopeLinksWrite)
		_, err1 := e.svc.Update(ctx, byType[sesame.LinkDownload].ID, sesame.LinkUpdate{Title: ptr("x")})
		_, err2 := e.svc.Update(ctx, sesame.NewID(sesame.PrefixLink), sesame.LinkUpdate{Title: ptr("x")})
		if sesame.KindOf(err1) != sesame.Forbidden || err1.Error() != err2.Error() {
			t.Errorf("known link: %v; unknown link: %v; want one Forbidden answer", err1, err2)
		}
	})
}

func TestResolveTargets(t *testing.T) {
	e := newLinkEnv(t, testPolicy)
	refs := []string{"/inbox", e.file.ID, "/a.txt"}
	t.Run("ByPathAndID", func(t *testing.T) {
		ids, err := sesame.ResolveTargets(as(sesame.ScopeObjectsRead), e.st, "", "/targets", refs)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{e.folder.ID, e.file.ID, e.file.ID}; strings.Join(ids, ",") != strings.Join(want, ",") {
			t.Errorf("got %v, want %v", ids, want)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		_, err := sesame.ResolveTargets(as(sesame.ScopeObjectsRead), e.st, "", "/targets", []string{"/inbox", "/nowhere.pdf"})
		wantFieldErr(t, err, sesame.NotFound, "/targets/1", "DoesNotExist")
		_, err = sesame.ResolveTargets(as(sesame.ScopeObjectsRead), e.st, "", "/targets", []string{sesame.NewID(sesame.PrefixObject)})
		wantFieldErr(t, err, sesame.NotFound, "/targets/0", "DoesNotExist")
	})
	t.Run("NeedsObjectsRead", func(t *testing.T) {
		// The answer does not depend on what exists.
		var first string
		for i, ref := range []string{"/inbox", "/nowhere", e.file.ID, sesame.NewID(sesame.PrefixObject)} {
			_, err := sesame.ResolveTargets(as(sesame.ScopeLinksWrite, sesame.ScopeObjectsWrite), e.st, "", "/targets", []string{ref})
			if sesame.KindOf(err) != sesame.Forbidden {
				t.Fatalf("%s: got %v, want %v", ref, err, sesame.Forbidden)
			}
			if i == 0 {
				first = err.Error()
			} else if err.Error() != first {
				t.Errorf("%s: got %q, want the same answer as for /inbox: %q", ref, err, first)
			}
		}
	})
}

// admin is the context of a caller who may grant anything.
var admin = as(sesame.ScopeAdmin)

// TestLinkService_ScopesOfEveryCall: reading, deleting and sending links
// need their scopes at the core, for every adapter; send_params on create
// needs links:send like share/link/send, and a refused create stores
// nothing.
func TestLinkService_ScopesOfEveryCall(t *testing.T) {
	e := newLinkEnv(t, testPolicy)
	l := e.create(t, e.item())[0]
	forbidden := func(t *testing.T, what string, err error) {
		t.Helper()
		if sesame.KindOf(err) != sesame.Forbidden {
			t.Errorf("%s: %v, want Forbidden", what, err)
		}
	}
	writer := as(sesame.ScopeLinksWrite, sesame.ScopeObjectsRead)
	_, err := e.svc.Get(writer, l.ID)
	forbidden(t, "get without links:read", err)
	_, err = e.svc.Find(writer, sesame.LinkFilter{})
	forbidden(t, "list without links:read", err)
	reader := as(sesame.ScopeLinksRead)
	_, err = e.svc.Delete(reader, []string{l.ID})
	forbidden(t, "delete without links:write", err)
	_, _, err = e.svc.Revoke(reader, l.ID)
	forbidden(t, "revoke without links:write", err)
	_, err = e.svc.Send(writer, sesame.LinkSendRequest{Items: []sesame.LinkSend{{LinkID: l.ID, Email: "bob@example.com"}}, SenderEmail: "a@example.com"})
	forbidden(t, "send without links:send", err)

	before := e.count(t)
	it := e.item()
	it.SendTo = &sesame.LinkSendTo{RecipientEmail: "bob@example.com", SenderEmail: "alice@example.com"}
	_, err = e.svc.Create(writer, []sesame.LinkCreate{it})
	forbidden(t, "create with send_params without links:send", err)
	if e := sesame.AsError(err); e == nil || len(e.Fields) == 0 || e.Fields[0].Source != "/links/0/send_params" {
		t.Errorf("the refusal should point at /links/0/send_params: %v", err)
	}
	if n := e.count(t); n != before {
		t.Errorf("a refused create stored %d links", n-before)
	}
	if got, err := e.svc.Get(as(sesame.ScopeLinksRead), l.ID); err != nil || got.ID != l.ID {
		t.Errorf("get with links:read: %v, %v", got, err)
	}
}
