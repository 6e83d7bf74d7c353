package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

// The webhooks extension: POST /v1/webhooks/create|list|update|delete and
// /v1/webhooks/deliveries, for admin tokens, in the Pangea envelope. The
// signing secret is in the reply to create (and to update with
// rotate_secret) and nowhere else.

// webhookRoutes registers the webhook endpoints under g, when the server
// has webhooks.
func (s *Server) webhookRoutes(g *gin.RouterGroup) {
	if s.cfg.Webhooks == nil {
		return
	}
	admin := s.auth(sesame.ScopeAdmin)
	g.POST("/webhooks/create", admin, s.audited("webhook.create"), s.handleWebhookCreate)
	g.POST("/webhooks/list", admin, s.handleWebhookList)
	g.POST("/webhooks/update", admin, s.audited("webhook.update"), s.handleWebhookUpdate)
	g.POST("/webhooks/delete", admin, s.audited("webhook.delete"), s.handleWebhookDelete)
	g.POST("/webhooks/deliveries", admin, s.handleWebhookDeliveries)
}

// WebhookView is a webhook as the API (and the CLI's --json) shows it.
type WebhookView struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
	Enabled     bool     `json:"enabled"`
	CreatedBy   string   `json:"created_by,omitempty"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
	Secret      string   `json:"secret,omitempty"`
}

// ViewWebhook is w as the API shows it; Secret only right after it is made.
func ViewWebhook(w *sesame.Webhook) WebhookView {
	v := WebhookView{ID: w.ID, URL: w.URL, Events: []string{}, Description: w.Description, Enabled: !w.Disabled, CreatedBy: w.CreatedBy,
		CreatedAt: sesame.FormatTime(w.Created), UpdatedAt: sesame.FormatTime(w.Updated), Secret: w.Secret}
	for _, e := range w.Events {
		v.Events = append(v.Events, string(e))
	}
	return v
}

type webhookCreateRequest struct {
	URL         *string  `json:"url"`
	Events      []string `json:"events"`
	Description *string  `json:"description"`
	Enabled     *bool    `json:"enabled"`
}

func eventTypes(in []string) []sesame.EventType {
	if in == nil {
		return nil
	}
	out := make([]sesame.EventType, len(in))
	for i, e := range in {
		out[i] = sesame.EventType(e)
	}
	return out
}

func (s *Server) handleWebhookCreate(c *gin.Context) {
	var req webhookCreateRequest
	if !s.bind(c, &req) {
		return
	}
	in := sesame.WebhookCreate{URL: deref(req.URL), Events: eventTypes(req.Events), Description: deref(req.Description)}
	if req.Enabled != nil {
		in.Disabled = !*req.Enabled
	}
	w, err := s.cfg.Webhooks.Create(c.Request.Context(), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, "Created the webhook; its secret is shown only this once", gin.H{"webhook": ViewWebhook(w)})
}

func (s *Server) handleWebhookList(c *gin.Context) {
	var req struct{}
	if !s.bind(c, &req) {
		return
	}
	list, err := s.cfg.Webhooks.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]WebhookView, len(list))
	for i, w := range list {
		out[i] = ViewWebhook(w)
	}
	s.ok(c, fmt.Sprintf("Listed %d webhooks", len(out)), gin.H{"count": len(out), "webhooks": out})
}

type webhookUpdateRequest struct {
	ID           *string  `json:"id"`
	URL          *string  `json:"url"`
	Events       []string `json:"events"`
	Description  *string  `json:"description"`
	Enabled      *bool    `json:"enabled"`
	RotateSecret *bool    `json:"rotate_secret"`
}

func (s *Server) handleWebhookUpdate(c *gin.Context) {
	var req webhookUpdateRequest
	if !s.bind(c, &req) {
		return
	}
	if deref(req.ID) == "" {
		s.fail(c, sesame.FieldErr("FieldRequired", "/id", "id is required"))
		return
	}
	upd := sesame.WebhookUpdate{URL: req.URL, Events: eventTypes(req.Events), Description: req.Description, RotateSecret: deref(req.RotateSecret)}
	if req.Enabled != nil {
		disabled := !*req.Enabled
		upd.Disabled = &disabled
	}
	w, err := s.cfg.Webhooks.Update(c.Request.Context(), *req.ID, upd)
	if err != nil {
		s.fail(c, err)
		return
	}
	summary := "Updated the webhook"
	if w.Secret != "" {
		summary += "; its new secret is shown only this once"
	}
	s.ok(c, summary, gin.H{"webhook": ViewWebhook(w)})
}

type webhookIDRequest struct {
	ID *string `json:"id"`
}

func (s *Server) handleWebhookDelete(c *gin.Context) {
	var req webhookIDRequest
	if !s.bind(c, &req) {
		return
	}
	if deref(req.ID) == "" {
		s.fail(c, sesame.FieldErr("FieldRequired", "/id", "id is required"))
		return
	}
	w, err := s.cfg.Webhooks.Delete(c.Request.Context(), *req.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, "Deleted the webhook", gin.H{"webhook": ViewWebhook(w)})
}

type deliveryView struct {
	ID            string `json:"id"`
	MessageID     string `json:"message_id"`
	WebhookID     string `json:"webhook_id"`
	EventType     string `json:"event_type"`
	Attempt       int    `json:"attempt"`
	Time          string `json:"time"`
	Outcome       string `json:"outcome"`
	StatusCode    int    `json:"status_code,omitempty"`
	Error         string `json:"error,omitempty"`
	DurationMS    int64  `json:"duration_ms"`
	MessageStatus string `json:"message_status,omitempty"`
	NextAttempt   string `json:"next_attempt_at,omitempty"`
}

type deliveryListRequest struct {
	WebhookID *string                    `json:"webhook_id"`
	Filter    map[string]json.RawMessage `json:"filter"`
	Order     *string                    `json:"order"`
	Size      *int                       `json:"size"`
	Last      *string                    `json:"last"`
}

// handleWebhookDeliveries lists delivery attempts, newest first unless
// order says asc, each with its message's state.
func (s *Server) handleWebhookDeliveries(c *gin.Context) {
	var req deliveryListRequest
	if !s.bind(c, &req) {
		return
	}
	conds, err := parseFilter(req.Filter, sesame.DeliveryFields, nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	if id := deref(req.WebhookID); id != "" {
		conds = append(conds, sesame.Cond{Field: "webhook_id", Op: sesame.OpEq, Values: []string{id}})
	}
	order := req.Order
	if order == nil {
		d := "desc"
		order = &d
	}
	by := "time"
	desc, _, size, after, err := paging(order, &by, req.Size, req.Last, []string{"time"}, decodeCursor)
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.cfg.Webhooks.FindDeliveries(c.Request.Context(), sesame.DeliveryFilter{Conds: conds, Desc: desc, Size: size, After: after})
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]deliveryView, len(page.Deliveries))
	for i, d := range page.Deliveries {
		out[i] = deliveryView{ID: d.ID, MessageID: d.MessageID, WebhookID: d.WebhookID, EventType: string(d.EventType), Attempt: d.Attempt,
			Time: sesame.FormatTime(d.Time), Outcome: d.Outcome, StatusCode: d.StatusCode, Error: d.Error,
			DurationMS: d.Duration.Milliseconds(), MessageStatus: d.MessageStatus}
		if !d.NextAttempt.IsZero() {
			out[i].NextAttempt = sesame.FormatTime(d.NextAttempt)
		}
	}
	res := gin.H{"count": page.Count, "deliveries": out}
	if page.Next != nil {
		res["last"] = encodeCursor(page.Next)
	}
	c.JSON(http.StatusOK, s.stamp(c, "Success", fmt.Sprintf("Listed %d of %d deliveries", len(out), page.Count), res))
}
