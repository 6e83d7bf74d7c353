package sesame_test

import (
	"testing"

	"github.com/sesame-share/sesame"
)

// A link that asks for owner emails needs an address: its notify email,
// or the sender_email recorded by send; without either the request is
// refused, pointing at the notify's email.
func TestLinkService_NotifyNeedsAnEmail(t *testing.T) {
	e := newLinkEnv(t, testPolicy)
	upload := []sesame.OwnerEvent{sesame.OwnerUpload}

	it := e.item()
	it.Notify = &sesame.LinkNotify{Events: upload}
	_, err := e.svc.Create(admin, []sesame.LinkCreate{e.item(), it})
	wantFieldErr(t, err, sesame.Invalid, "/links/1/notify/email", "FieldRequired")

	it.Notify = &sesame.LinkNotify{Events: []sesame.OwnerEvent{"everything"}, Email: "owner@example.com"}
	_, err = e.svc.Create(admin, []sesame.LinkCreate{it})
	wantFieldErr(t, err, sesame.Invalid, "/links/0/notify/events/0", "NotEnumMember")

	it.Notify = &sesame.LinkNotify{Events: upload, Email: "owner@example.com"}
	l := e.create(t, it)[0]
	if l.Notify == nil || l.Notify.Email != "owner@example.com" || !l.Notify.Wants(sesame.OwnerUpload) {
		t.Fatalf("created notify %+v", l.Notify)
	}

	plain := e.create(t, e.item())[0]
	_, err = e.svc.Update(admin, plain.ID, sesame.LinkUpdate{Notify: &sesame.LinkNotify{Events: upload}})
	wantFieldErr(t, err, sesame.Invalid, "/notify/email", "FieldRequired")
	if got, err := e.st.LinkByID(admin, plain.ID); err != nil || got.Notify != nil {
		t.Fatalf("a refused update changed notify: %+v, %v", got, err)
	}
	// Once sent with a sender_email, the link's owner address is that.
	if _, err := e.st.RecordLinkSends(admin, sesame.LinkSendRequest{Items: []sesame.LinkSend{{LinkID: plain.ID, Email: "bob@example.com"}},
		SenderEmail: "alice@example.com"}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Update(admin, plain.ID, sesame.LinkUpdate{Notify: &sesame.LinkNotify{Events: upload}})
	if err != nil {
		t.Fatal(err)
	}
	if sesame.OwnerAddress(got) != "alice@example.com" {
		t.Errorf("owner address %q, want the sender's", sesame.OwnerAddress(got))
	}
}
