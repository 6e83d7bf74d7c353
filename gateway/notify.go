package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"golang.org/x/text/language"

	"github.com/sesame-share/sesame"
)

type linkSendItem struct {
	ID    *string `json:"id"`
	Email *string `json:"email"`
	// Language (an extension; SDKs never send it) is the BCP 47 tag of
	// the email.
	Language *string `json:"language"`
}

type linkSendRequest struct {
	Links       []linkSendItem `json:"links"`
	SenderEmail *string        `json:"sender_email"`
	SenderName  *string        `json:"sender_name"`
	BucketID    *string        `json:"bucket_id"`
	TenantID    *string        `json:"tenant_id"`
	ConfigID    *string        `json:"config_id"`
}

func (r *linkSendRequest) toDomain() (sesame.LinkSendRequest, error) {
	var out sesame.LinkSendRequest
	var errs sesame.Problems
	if r.Links == nil {
		errs.Addf("FieldRequired", "/links", "links is required: name each link and its recipient")
	}
	switch {
	case r.SenderEmail == nil:
		errs.Addf("FieldRequired", "/sender_email", "sender_email is required")
	case !sesame.ValidEmail(*r.SenderEmail):
		errs.Addf("BadFormatEmail", "/sender_email", "sender_email must be one email address such as alice@example.com")
	}
	for i, it := range r.Links {
		if errs.Full() {
			break
		}
		if it.ID == nil {
			errs.Addf("FieldRequired", fmt.Sprintf("/links/%d/id", i), "id is required")
		}
		if it.Email == nil {
			errs.Addf("FieldRequired", fmt.Sprintf("/links/%d/email", i), "email is required")
		}
		lang := checkLanguage(&errs, fmt.Sprintf("/links/%d/language", i), it.Language)
		out.Items = append(out.Items, sesame.LinkSend{LinkID: deref(it.ID), Email: deref(it.Email), Language: lang})
	}
	out.SenderEmail, out.SenderName = deref(r.SenderEmail), deref(r.SenderName)
	return out, errs.Err()
}

// checkLanguage adds a problem to errs unless v is absent or a BCP 47
// language tag, and returns the tag in canonical form ("pt-BR").
func checkLanguage(errs *sesame.Problems, src string, v *string) string {
	if v == nil {
		return ""
	}
	t, err := language.Parse(*v)
	if err != nil || len(*v) > 35 {
		errs.Addf("BadFormat", src, "language must be a BCP 47 language tag such as en, de or pt-BR")
		return ""
	}
	return t.String()
}

// handleLinkSend emails links: one message per item, queued in the outbox
// in the same transaction that records the send.
func (s *Server) handleLinkSend(c *gin.Context) {
	var req linkSendRequest
	if !s.bind(c, &req) {
		return
	}
	send, err := req.toDomain()
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, it := range send.Items {
		s.auditLink(c, it.LinkID)
	}
	links, err := s.cfg.Links.Send(c.Request.Context(), send)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, fmt.Sprintf("Queued %d emails", len(links)), gin.H{"share_link_objects": s.viewLinks(links)})
}

type notificationView struct {
	ID          string `json:"id"`
	Channel     string `json:"channel"`
	Recipient   string `json:"recipient"`
	Kind        string `json:"kind,omitempty"`
	Status      string `json:"status"`
	Attempts    int    `json:"attempts"`
	LastError   string `json:"last_error,omitempty"`
	ProviderID  string `json:"provider_id,omitempty"`
	LinkID      string `json:"link_id,omitempty"`
	CreatedAt   string `json:"created_at"`
	NextAttempt string `json:"next_attempt_at,omitempty"`
	SentAt      string `json:"sent_at,omitempty"`
}

type notificationListRequest struct {
	Filter map[string]json.RawMessage `json:"filter"`
	Order  *string                    `json:"order"`
	Size   *int                       `json:"size"`
	Last   *string                    `json:"last"`
}

// handleNotificationList shows delivery status, newest first, with
// recipients masked.
func (s *Server) handleNotificationList(c *gin.Context) {
	var req notificationListRequest
	if !s.bind(c, &req) {
		return
	}
	f, err := req.filter()
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.cfg.Outbox.FindNotifications(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := NotificationViews(page.Notifications)
	res := gin.H{"count": page.Count, "notifications": out}
	if page.Next != nil {
		res["last"] = encodeCursor(page.Next)
	}
	c.JSON(http.StatusOK, s.stamp(c, "Success", fmt.Sprintf("Listed %d of %d notifications", len(out), page.Count), res))
}

// NotificationViews are outbox messages as the API shows them, with the
// recipients masked.
func NotificationViews(ns []*sesame.Notification) []notificationView {
	out := make([]notificationView, len(ns))
	for i, n := range ns {
		v := notificationView{ID: n.ID, Channel: string(n.Message.Channel), Kind: n.Message.Kind, Status: n.Status, Attempts: n.Attempts,
			LastError: sesame.FailureCategoryOf(n.LastError), ProviderID: n.ProviderID, LinkID: n.Message.LinkID, CreatedAt: sesame.FormatTime(n.Created)}
		switch n.Message.Channel {
		case sesame.ChannelSMS:
			v.Recipient = sesame.MaskPhone(n.Message.To)
		case sesame.ChannelWebhook:
			v.Recipient = n.Message.To // the webhook's id
		default:
			v.Recipient = sesame.MaskEmail(n.Message.To)
		}
		if n.Status == sesame.OutboxQueued {
			v.NextAttempt = sesame.FormatTime(n.NextAttempt)
		}
		if !n.Sent.IsZero() {
			v.SentAt = sesame.FormatTime(n.Sent)
		}
		out[i] = v
	}
	return out
}
