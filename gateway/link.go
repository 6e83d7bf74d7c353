package gateway

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

type authView struct {
	AuthType    string `json:"auth_type"`
	AuthContext string `json:"auth_context"`
	// Extensions: consecutive failures, and the end of a lock in force.
	FailedAttempts int    `json:"failed_attempts,omitempty"`
	LockedUntil    string `json:"locked_until,omitempty"`
}

// linkView is a share link on the wire. get returns byte for byte what
// create returned, apart from counters.
type linkView struct {
	ID             string      `json:"id"`
	BucketID       string      `json:"bucket_id"`
	Targets        []string    `json:"targets"`
	LinkType       string      `json:"link_type"`
	AccessCount    int         `json:"access_count"`
	MaxAccessCount int         `json:"max_access_count"`
	CreatedAt      string      `json:"created_at"`
	ExpiresAt      string      `json:"expires_at"`
	LastAccessedAt string      `json:"last_accessed_at,omitempty"`
	Authenticators []authView  `json:"authenticators"`
	Link           string      `json:"link"`
	Title          string      `json:"title,omitempty"`
	Message        string      `json:"message,omitempty"`
	Tags           []string    `json:"tags,omitempty"`
	NotifyEmail    string      `json:"notify_email,omitempty"`
	RecipientEmail string      `json:"recipient_email,omitempty"`
	SenderEmail    string      `json:"sender_email,omitempty"`
	SenderName     string      `json:"sender_name,omitempty"`
	MaxDownloads   int         `json:"max_downloads,omitempty"`
	DownloadCount  int         `json:"download_count"`
	Notify         *notifyJSON `json:"notify,omitempty"`
}

func (s *Server) viewLink(l *sesame.Link) linkView {
	v := linkView{
		ID: l.ID, BucketID: l.BucketID, Targets: l.Targets, LinkType: string(l.Type), AccessCount: l.AccessCount,
		MaxAccessCount: l.MaxAccessCount, CreatedAt: sesame.FormatTime(l.Created), ExpiresAt: sesame.FormatTime(l.Expires),
		Link: s.cfg.PublicURL + "/s/" + l.Token, Title: l.Title, Message: l.Message, Tags: l.Tags, NotifyEmail: l.NotifyEmail,
		RecipientEmail: l.RecipientEmail, SenderEmail: l.SenderEmail, SenderName: l.SenderName,
		MaxDownloads: l.MaxDownloads, DownloadCount: l.Downloads, Notify: viewNotify(l.Notify),
	}
	if !l.LastAccessed.IsZero() {
		v.LastAccessedAt = sesame.FormatTime(l.LastAccessed)
	}
	if v.Targets == nil {
		v.Targets = []string{}
	}
	v.Authenticators = make([]authView, len(l.Authenticators))
	for i, a := range l.Authenticators {
		ctx := a.Context
		if a.Type == sesame.AuthPassword {
			ctx = sesame.RedactedAuthContext
		}
		v.Authenticators[i] = authView{AuthType: string(a.Type), AuthContext: ctx, FailedAttempts: a.Failures}
		if a.Locked(s.now()) {
			v.Authenticators[i].LockedUntil = sesame.FormatTime(a.LockedUntil)
		}
	}
	return v
}

func (s *Server) viewLinks(links []*sesame.Link) []linkView {
	out := make([]linkView, len(links))
	for i, l := range links {
		out[i] = s.viewLink(l)
	}
	return out
}

type authInput struct {
	AuthType    *string `json:"auth_type"`
	AuthContext *string `json:"auth_context"`
}

type sendParams struct {
	RecipientEmail *string `json:"recipient_email"`
	SenderEmail    *string `json:"sender_email"`
	SenderName     *string `json:"sender_name"`
	Language       *string `json:"language"` // an extension: the email's BCP 47 tag
}

type linkCreateItem struct {
	Targets        []string    `json:"targets"`
	LinkType       *string     `json:"link_type"`
	Authenticators []authInput `json:"authenticators"`
	ExpiresAt      *string     `json:"expires_at"`
	MaxAccessCount *int        `json:"max_access_count"`
	MaxDownloads   *int        `json:"max_downloads"`
	Title          *string     `json:"title"`
	Message        *string     `json:"message"`
	Tags           []string    `json:"tags"`
	NotifyEmail    *string     `json:"notify_email"`
	SendParams     *sendParams `json:"send_params"`
	TenantID       *string     `json:"tenant_id"`
	Notify         *notifyJSON `json:"notify"`
}

type linkCreateRequest struct {
	BucketID *string          `json:"bucket_id"`
	TenantID *string          `json:"tenant_id"`
	ConfigID *string          `json:"config_id"`
	Links    []linkCreateItem `json:"links"`
}

func authInputs(errs *sesame.Problems, src string, in []authInput) []sesame.AuthenticatorInput {
	if in == nil {
		errs.Addf("FieldRequired", src, "authenticators is required: say how the recipient signs in")
		return nil
	}
	out := make([]sesame.AuthenticatorInput, len(in))
	for i, a := range in {
		p := fmt.Sprintf("%s/%d", src, i)
		if a.AuthType == nil {
			errs.Addf("FieldRequired", p+"/auth_type", "auth_type is required")
		}
		if a.AuthContext == nil {
			errs.Addf("FieldRequired", p+"/auth_context", "auth_context is required")
		}
		out[i] = sesame.AuthenticatorInput{Type: sesame.AuthType(deref(a.AuthType)), Context: deref(a.AuthContext)}
	}
	return out
}

// checkSendParams adds what is wrong with a link's send_params to errs.
func checkSendParams(errs *sesame.Problems, src string, sp *sendParams) {
	switch {
	case sp.RecipientEmail == nil:
		errs.Addf("FieldRequired", src+"/recipient_email", "recipient_email is required in send_params")
	case !sesame.ValidEmail(*sp.RecipientEmail):
		errs.Addf("BadFormatEmail", src+"/recipient_email", "recipient_email must be one address such as bob@example.com")
	}
	switch {
	case sp.SenderEmail == nil:
		errs.Addf("FieldRequired", src+"/sender_email", "sender_email is required in send_params")
	case !sesame.ValidEmail(*sp.SenderEmail):
		errs.Addf("BadFormatEmail", src+"/sender_email", "sender_email must be one address such as alice@example.com")
	}
	if sp.SenderName != nil {
		if len([]rune(*sp.SenderName)) > 100 {
			errs.Addf("AboveMaxLength", src+"/sender_name", "sender_name must be at most 100 characters")
		} else {
			errs.Add(sesame.CheckText(src+"/sender_name", *sp.SenderName, false))
		}
	}
}

// linkItems turns the request's links into the core's, collecting every
// field that is missing or malformed before any rule runs.
func linkItems(req *linkCreateRequest, createdBy string) ([]sesame.LinkCreate, error) {
	var errs sesame.Problems
	items := make([]sesame.LinkCreate, len(req.Links))
	for i, it := range req.Links {
		if errs.Full() {
			break
		}
		src := fmt.Sprintf("/links/%d", i)
		if it.Targets == nil {
			errs.Addf("FieldRequired", src+"/targets", "targets is required: name the files or folders to share")
		}
		var lang string
		if it.SendParams != nil {
			checkSendParams(&errs, src+"/send_params", it.SendParams)
			lang = checkLanguage(&errs, src+"/send_params/language", it.SendParams.Language)
		}
		auths := authInputs(&errs, src+"/authenticators", it.Authenticators)
		exp, err := parseTimeField(src+"/expires_at", it.ExpiresAt)
		errs.Add(err)
		items[i] = sesame.LinkCreate{BucketID: deref(req.BucketID), Type: sesame.LinkType(deref(it.LinkType)), Targets: it.Targets,
			Authenticators: auths, Title: deref(it.Title), Message: deref(it.Message), Tags: it.Tags, NotifyEmail: deref(it.NotifyEmail), Notify: linkNotify(it.Notify),
			Expires: exp, MaxAccessCount: it.MaxAccessCount, MaxDownloads: it.MaxDownloads, CreatedBy: createdBy, Source: src}
		if sp := it.SendParams; sp != nil && sp.RecipientEmail != nil && sp.SenderEmail != nil {
			items[i].SendTo = &sesame.LinkSendTo{RecipientEmail: *sp.RecipientEmail, SenderEmail: *sp.SenderEmail, SenderName: deref(sp.SenderName),
				Language: lang}
		}
	}
	return items, errs.Err()
}

func parseTimeField(src string, v *string) (time.Time, error) {
	if v == nil || *v == "" {
		return time.Time{}, nil
	}
	t, err := sesame.ParseTime(*v)
	if err != nil {
		return t, sesame.FieldErr("BadFormatDateTime", src, "%s must be an RFC 3339 time such as 2025-01-31T12:00:00Z", src[1:])
	}
	if t.IsZero() {
		return t, sesame.FieldErr("NotWithinRange", src, "%s must be in the future", src[1:])
	}
	return t, nil
}

func (s *Server) handleLinkCreate(c *gin.Context) {
	var req linkCreateRequest
	if !s.bind(c, &req) {
		return
	}
	if req.Links == nil {
		s.fail(c, sesame.FieldErr("FieldRequired", "/links", "links is required"))
		return
	}
	items, err := linkItems(&req, sesame.TokenFrom(c.Request.Context()).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	links, err := s.cfg.Links.Create(c.Request.Context(), items)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, fmt.Sprintf("Created %d share links", len(links)), gin.H{"share_link_objects": s.viewLinks(links)})
}

type linkIDRequest struct {
	ID       *string `json:"id"`
	BucketID *string `json:"bucket_id"`
	TenantID *string `json:"tenant_id"`
	ConfigID *string `json:"config_id"`
}

func (s *Server) linkByID(c *gin.Context, id *string) (*sesame.Link, error) {
	if id == nil || *id == "" {
		return nil, sesame.FieldErr("FieldRequired", "/id", "id is required")
	}
	if err := sesame.CheckID("/id", sesame.PrefixLink, *id); err != nil {
		return nil, err
	}
	return s.cfg.Links.Get(c.Request.Context(), *id)
}

func (s *Server) handleLinkGet(c *gin.Context) {
	var req linkIDRequest
	if !s.bind(c, &req) {
		return
	}
	l, err := s.linkByID(c, req.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, "Share link found", gin.H{"share_link_object": s.viewLink(l)})
}

type linkListRequest struct {
	BucketID *string                    `json:"bucket_id"`
	TenantID *string                    `json:"tenant_id"`
	ConfigID *string                    `json:"config_id"`
	Filter   map[string]json.RawMessage `json:"filter"`
	Order    *string                    `json:"order"`
	OrderBy  *string                    `json:"order_by"`
	Size     *int                       `json:"size"`
	Last     *string                    `json:"last"`
}

// objectOnlyOrders are object order_by values that the Node SDK's types
// also offer for links; they fall back to created_at.
var objectOnlyOrders = []string{"name", "parent_id", "type", "updated_at"}

func (s *Server) handleLinkList(c *gin.Context) {
	var req linkListRequest
	if !s.bind(c, &req) {
		return
	}
	f, err := req.filter()
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.cfg.Links.Find(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	res := gin.H{"count": page.Count, "share_link_objects": s.viewLinks(page.Links)}
	if page.Next != nil {
		res["last"] = encodeCursor(page.Next)
	}
	s.ok(c, fmt.Sprintf("Listed %d of %d share links", len(page.Links), page.Count), res)
}

type linkDeleteRequest struct {
	IDs      []string `json:"ids"`
	BucketID *string  `json:"bucket_id"`
	TenantID *string  `json:"tenant_id"`
	ConfigID *string  `json:"config_id"`
}

func (s *Server) handleLinkDelete(c *gin.Context) {
	var req linkDeleteRequest
	if !s.bind(c, &req) {
		return
	}
	switch {
	case req.IDs == nil:
		s.fail(c, sesame.FieldErr("FieldRequired", "/ids", "ids is required"))
		return
	case len(req.IDs) == 0:
		s.fail(c, sesame.FieldErr("BelowMinItems", "/ids", "ids must name at least one link"))
		return
	case len(req.IDs) > 100:
		s.fail(c, sesame.FieldErr("AboveMaxItems", "/ids", "ids may name at most 100 links"))
		return
	}
	for i, id := range req.IDs {
		if err := sesame.CheckID(fmt.Sprintf("/ids/%d", i), sesame.PrefixLink, id); err != nil {
			s.fail(c, err)
			return
		}
	}
	ids := uniq(req.IDs)
	for _, id := range ids {
		s.auditLink(c, id)
	}
	links, err := s.cfg.Links.Delete(c.Request.Context(), ids)
	if err != nil {
		// The store numbers the ids without repeats; point at the
		// request's own position of the id.
		if e := sesame.AsError(err); e != nil {
			for i, f := range e.Fields {
				var k int
				if _, serr := fmt.Sscanf(f.Source, "/ids/%d", &k); serr == nil && k < len(ids) {
					e.Fields[i].Source = fmt.Sprintf("/ids/%d", slices.Index(req.IDs, ids[k]))
				}
			}
		}
		s.fail(c, err)
		return
	}
	s.ok(c, fmt.Sprintf("Deleted %d share links", len(links)), gin.H{"share_link_objects": s.viewLinks(links)})
}

type linkUpdateRequest struct {
	ID             *string         `json:"id"`
	BucketID       *string         `json:"bucket_id"`
	TenantID       *string         `json:"tenant_id"`
	ConfigID       *string         `json:"config_id"`
	Targets        []string        `json:"targets"`
	AddTargets     []string        `json:"add_targets"`
	RemoveTargets  []string        `json:"remove_targets"`
	Authenticators []authInput     `json:"authenticators"`
	ExpiresAt      *string         `json:"expires_at"`
	MaxAccessCount *int            `json:"max_access_count"`
	MaxDownloads   json.RawMessage `json:"max_downloads"`
	Title          *string         `json:"title"`
	Message        *string         `json:"message"`
	Tags           []string        `json:"tags"`
	Notify         *notifyJSON     `json:"notify"`
}

func (s *Server) handleLinkUpdate(c *gin.Context) {
	var req linkUpdateRequest
	if !s.bind(c, &req) {
		return
	}
	if req.ID == nil || *req.ID == "" {
		s.fail(c, sesame.FieldErr("FieldRequired", "/id", "id is required"))
		return
	}
	if err := sesame.CheckID("/id", sesame.PrefixLink, *req.ID); err != nil {
		s.fail(c, err)
		return
	}
	s.auditLink(c, *req.ID)
	upd := sesame.LinkUpdate{Targets: req.Targets, SetTargets: req.Targets != nil, AddTargets: req.AddTargets, RemoveTargets: req.RemoveTargets,
		MaxAccessCount: req.MaxAccessCount, Title: req.Title, Message: req.Message, Tags: req.Tags, SetTags: req.Tags != nil,
		Notify: linkNotify(req.Notify)}
	if req.Authenticators != nil {
		var errs sesame.Problems
		upd.Authenticators = authInputs(&errs, "/authenticators", req.Authenticators)
		if err := errs.Err(); err != nil {
			s.fail(c, err)
			return
		}
	}
	if req.ExpiresAt != nil {
		t, err := parseTimeField("/expires_at", req.ExpiresAt)
		if err != nil {
			s.fail(c, err)
			return
		}
		if t.IsZero() {
			s.fail(c, sesame.FieldErr("BadFormatDateTime", "/expires_at", "expires_at must be an RFC 3339 time"))
			return
		}
		upd.Expires = &t
	}
	if len(req.MaxDownloads) > 0 {
		// null (or 0) removes the cap.
		n := 0
		if string(req.MaxDownloads) != "null" {
			if err := json.Unmarshal(req.MaxDownloads, &n); err != nil {
				s.fail(c, sesame.FieldErr("InvalidInteger", "/max_downloads", "max_downloads must be an integer, or null to remove the cap"))
				return
			}
		}
		upd.MaxDownloads = &n
	}
	l, err := s.cfg.Links.Update(c.Request.Context(), *req.ID, upd)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, "Share link updated", gin.H{"share_link_object": s.viewLink(l)})
}

// LinkViews are links as the API shows them, without their URLs: only a
// link's creation reveals its token.
func LinkViews(links []*sesame.Link, now time.Time) []linkView {
	s := &Server{now: func() time.Time { return now }}
	out := s.viewLinks(links)
	for i := range out {
		out[i].Link = ""
	}
	return out
}
