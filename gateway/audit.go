package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

const (
	ctxAuditLinks   = "sesame.audit_links"
	ctxAuditObjects = "sesame.audit_objects"
)

// auditLink notes that the request touched a link, for its audit event.
func (s *Server) auditLink(c *gin.Context, id string) {
	ids, _ := c.Get(ctxAuditLinks)
	list, _ := ids.([]string)
	c.Set(ctxAuditLinks, append(list, id))
}

// auditObject notes that the request touched an object.
func (s *Server) auditObject(c *gin.Context, id string) {
	ids, _ := c.Get(ctxAuditObjects)
	list, _ := ids.([]string)
	c.Set(ctxAuditObjects, append(list, id))
}

// audited records a mutation in the audit trail. The request carries an
// AuditNote, so that the store appends one event per link or object it
// changes inside the change's transaction; a request that changed nothing
// (it failed) gets one event per link or object it named, or one bare
// event, with its status as the outcome.
func (s *Server) audited(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		note := &sesame.AuditNote{ActorType: sesame.ActorToken, Action: action, IP: c.ClientIP(), RequestID: c.GetString(ctxRequestID)}
		if t := sesame.TokenFrom(c.Request.Context()); t != nil {
			note.Actor = t.ID
		}
		c.Request = c.Request.WithContext(sesame.WithAudit(c.Request.Context(), note))
		c.Next()
		outcome := "success"
		if st := c.Writer.Status(); st >= 400 {
			outcome = "failure:" + strconv.Itoa(st)
		}
		links, _ := c.Get(ctxAuditLinks)
		objects, _ := c.Get(ctxAuditObjects)
		linkIDs, _ := links.([]string)
		objectIDs, _ := objects.([]string)
		if err := note.Record(c.Request.Context(), s.cfg.Audit, s.now(), outcome, linkIDs, objectIDs); err != nil {
			s.log.ErrorContext(c.Request.Context(), "audit", "action", action, "request_id", note.RequestID, "error", err)
		}
	}
}

type auditListRequest struct {
	Filter map[string]json.RawMessage `json:"filter"`
	Order  *string                    `json:"order"`
	Size   *int                       `json:"size"`
	Last   *string                    `json:"last"`
}

type auditView struct {
	ID        string            `json:"id"`
	Time      string            `json:"time"`
	Actor     string            `json:"actor"`
	ActorType string            `json:"actor_type"`
	Action    string            `json:"action"`
	LinkID    string            `json:"link_id,omitempty"`
	ObjectID  string            `json:"object_id,omitempty"`
	IP        string            `json:"ip,omitempty"`
	Outcome   string            `json:"outcome"`
	RequestID string            `json:"request_id,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
}

// handleAuditList pages through the audit trail, newest first by default.
func (s *Server) handleAuditList(c *gin.Context) {
	var req auditListRequest
	if !s.bind(c, &req) {
		return
	}
	f, err := req.filter()
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.cfg.Audit.FindAudit(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	events := AuditViews(page.Events)
	res := gin.H{"count": page.Count, "events": events}
	if page.Next != nil {
		res["last"] = encodeCursor(page.Next)
	}
	c.JSON(http.StatusOK, s.stamp(c, "Success", fmt.Sprintf("Listed %d of %d audit events", len(events), page.Count), res))
}

// AuditViews are audit events as the API shows them.
func AuditViews(events []*sesame.AuditEvent) []auditView {
	out := make([]auditView, len(events))
	for i, e := range events {
		out[i] = auditView{ID: strconv.FormatInt(e.ID, 10), Time: sesame.FormatTime(e.Time), Actor: e.Actor, ActorType: e.ActorType,
			Action: e.Action, LinkID: e.LinkID, ObjectID: e.ObjectID, IP: e.IP, Outcome: e.Outcome, RequestID: e.RequestID, Detail: e.Detail}
	}
	return out
}
