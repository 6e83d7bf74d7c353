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
	ctxAuditActor   = "sesame.audit_actor"
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

// audited writes one audit event per link or object the handler touched
// (or one bare event when it touched none, as when it failed), with the
// acting token, the client address and the outcome.
func (s *Server) audited(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if s.cfg.Audit == nil {
			return
		}
		actor, actorType := "", sesame.ActorToken
		if t := sesame.TokenFrom(c.Request.Context()); t != nil {
			actor = t.ID
		} else if a := c.GetString(ctxAuditActor); a != "" {
			actor = a
		}
		outcome := "success"
		if st := c.Writer.Status(); st >= 400 {
			outcome = "failure:" + strconv.Itoa(st)
		}
		base := sesame.AuditEvent{Time: s.now(), Actor: actor, ActorType: actorType, Action: action, IP: c.ClientIP(),
			Outcome: outcome, RequestID: c.GetString(ctxRequestID)}
		var events []*sesame.AuditEvent
		if v, ok := c.Get(ctxAuditLinks); ok {
			for _, id := range v.([]string) {
				e := base
				e.LinkID = id
				events = append(events, &e)
			}
		}
		if v, ok := c.Get(ctxAuditObjects); ok {
			for _, id := range v.([]string) {
				e := base
				e.ObjectID = id
				events = append(events, &e)
			}
		}
		if len(events) == 0 {
			events = []*sesame.AuditEvent{&base}
		}
		if err := s.cfg.Audit.Audit(contextWithoutCancel(c), events...); err != nil {
			s.log.Error("audit", "action", action, "request_id", base.RequestID, "error", err)
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
	if err := s.readJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	conds, err := parseFilter(req.Filter, sesame.AuditFields, nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	order := req.Order
	if order == nil {
		desc := "desc"
		order = &desc
	}
	desc, _, size, after, err := paging(order, nil, req.Size, req.Last, []string{"created_at"}, decodeCursor)
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.cfg.Audit.FindAudit(c.Request.Context(), sesame.AuditFilter{Conds: conds, Desc: desc, Size: size, After: after})
	if err != nil {
		s.fail(c, err)
		return
	}
	events := make([]auditView, len(page.Events))
	for i, e := range page.Events {
		events[i] = auditView{ID: strconv.FormatInt(e.ID, 10), Time: sesame.FormatTime(e.Time), Actor: e.Actor, ActorType: e.ActorType,
			Action: e.Action, LinkID: e.LinkID, ObjectID: e.ObjectID, IP: e.IP, Outcome: e.Outcome, RequestID: e.RequestID, Detail: e.Detail}
	}
	res := gin.H{"count": page.Count, "events": events}
	if page.Next != nil {
		res["last"] = encodeCursor(page.Next)
	}
	c.JSON(http.StatusOK, s.stamp(c, "Success", fmt.Sprintf("Listed %d of %d audit events", len(events), page.Count), res))
}
