package mcp

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sesame-share/sesame"
)

func (t *tools) addLinkReadTools(srv *sdk.Server) {
	readOnly := &sdk.ToolAnnotations{ReadOnlyHint: true}
	addTool(t, srv, &sdk.Tool{Name: "share_link_list", Annotations: readOnly,
		Description: "List share links, newest first, optionally only those sharing a given object, of a type, or with a tag. " +
			"Returns no secrets (no link URLs). Page with next_cursor."}, t.linkList)
	addTool(t, srv, &sdk.Tool{Name: "share_link_get", Annotations: readOnly,
		Description: "Get one share link by id, with its URL, expiry, caps and counters."}, t.linkGet)
}

func (t *tools) addLinkWriteTools(srv *sdk.Server) {
	addTool(t, srv, &sdk.Tool{Name: "share_link_create",
		Description: "Create a share link to files or folders (targets by id or by path). link_type is download (default), " +
			"upload (folders only: a drop box) or editor. A link grants no more than this token holds: a download link needs " +
			"objects:read, upload and editor links need objects:read and objects:write. " +
			"Each authenticator is a way in: {\"auth_type\":\"email_otp\",\"auth_context\":\"bob@example.com\"}, " +
			"{\"auth_type\":\"sms_otp\",\"auth_context\":\"+14155550123\"} or {\"auth_type\":\"password\",\"auth_context\":\"...\"} " +
			"(15+ characters alone). Returns the URL and states the expiry and caps. Pass idempotency_key to make retries safe."}, t.linkCreate)
	addTool(t, srv, &sdk.Tool{Name: "share_link_revoke", Annotations: &sdk.ToolAnnotations{IdempotentHint: true},
		Description: "Revoke a share link at once: it stops opening for everyone. Revoking a link that is already revoked is not an error."}, t.linkRevoke)
}

// authIn is one authenticator, named as in the API (auth_type,
// auth_context). type and value are the names of earlier versions, still
// accepted.
type authIn struct {
	AuthType    string `json:"auth_type,omitempty" jsonschema:"password, email_otp, sms_otp or social (sign-in with an OpenID Connect provider, when the server has one)"`
	AuthContext string `json:"auth_context,omitempty" jsonschema:"the password, the email address (email_otp and social), or the phone number in E.164 form"`
	Type        string `json:"type,omitempty" jsonschema:"older name of auth_type, still accepted"`
	Value       string `json:"value,omitempty" jsonschema:"older name of auth_context, still accepted"`
}

// either returns the one value given under a field's name or its older
// alias.
func either(src, name, v, alias, aliasName string) (string, error) {
	switch {
	case v == "" && alias == "":
		return "", sesame.FieldErr("FieldRequired", src+"/"+name, "%s is required", name)
	case v != "" && alias != "" && v != alias:
		return "", sesame.FieldErr("MutuallyExclusive", src+"/"+aliasName, "%s is an older name of %s; send one of them", aliasName, name)
	case v == "":
		return alias, nil
	}
	return v, nil
}

func authInputs(in []authIn) ([]sesame.AuthenticatorInput, error) {
	out := make([]sesame.AuthenticatorInput, len(in))
	for i, a := range in {
		src := fmt.Sprintf("/authenticators/%d", i)
		typ, err := either(src, "auth_type", a.AuthType, a.Type, "type")
		if err != nil {
			return nil, err
		}
		ctx, err := either(src, "auth_context", a.AuthContext, a.Value, "value")
		if err != nil {
			return nil, err
		}
		out[i] = sesame.AuthenticatorInput{Type: sesame.AuthType(typ), Context: ctx}
	}
	return out, nil
}

type linkCreateIn struct {
	Targets        []string  `json:"targets" jsonschema:"ids (pos_...) or paths (/reports/q3.pdf) of the files and folders to share"`
	LinkType       string    `json:"link_type,omitempty" jsonschema:"download (default), upload (folders only) or editor"`
	Authenticators []authIn  `json:"authenticators" jsonschema:"ways to open the link; any one works"`
	Title          string    `json:"title,omitempty" jsonschema:"shown on the link's page and as the email subject"`
	Message        string    `json:"message,omitempty" jsonschema:"a note shown to the recipient"`
	ExpiresIn      string    `json:"expires_in,omitempty" jsonschema:"how long the link works, such as 3d or 12h (default 7d; clamped to the server's maximum)"`
	MaxAccessCount int       `json:"max_access_count,omitempty" jsonschema:"how many sign-ins are allowed (default 10)"`
	MaxDownloads   int       `json:"max_downloads,omitempty" jsonschema:"how many downloads are allowed (default: no cap)"`
	Tags           []string  `json:"tags,omitempty"`
	Notify         *notifyIn `json:"notify,omitempty" jsonschema:"email the link's owner when recipients upload, download, or the link locks or runs out"`
	IdempotencyKey string    `json:"idempotency_key,omitempty" jsonschema:"any unique string; a retry with the same key returns the first result"`
}

// notifyIn is the API's notify field: the owner events to email about,
// where, and in which language.
type notifyIn struct {
	Events   []string `json:"events" jsonschema:"any of upload (one digest per recipient session), download (the first one), locked and exhausted"`
	Email    string   `json:"email,omitempty" jsonschema:"where the emails go (default: the sender_email of share_link_send)"`
	Language string   `json:"language,omitempty" jsonschema:"the BCP 47 language of the emails, such as de or pt-BR; default: the server's"`
}

// linkNotify is the core's form of in; nil stays nil.
func linkNotify(in *notifyIn) *sesame.LinkNotify {
	if in == nil {
		return nil
	}
	return sesame.NewLinkNotify(in.Events, in.Email, in.Language)
}

type linkView struct {
	ID             string   `json:"id"`
	URL            string   `json:"url,omitempty"`
	LinkType       string   `json:"link_type"`
	Targets        []string `json:"targets"`
	Title          string   `json:"title,omitempty"`
	ExpiresAt      string   `json:"expires_at"`
	MaxAccessCount int      `json:"max_access_count"`
	AccessCount    int      `json:"access_count"`
	MaxDownloads   int      `json:"max_downloads,omitempty"`
	DownloadCount  int      `json:"download_count"`
	Authenticators []string `json:"authenticators"`
	Tags           []string `json:"tags,omitempty"`
	Notify         []string `json:"notify,omitempty" jsonschema:"the owner events emailed about"`
	Revoked        bool     `json:"revoked,omitempty"`
	Summary        string   `json:"summary"`
}

func (t *tools) viewLink(l *sesame.Link, withURL bool) linkView {
	v := linkView{ID: l.ID, LinkType: string(l.Type), Targets: append([]string{}, l.Targets...), Title: l.Title,
		ExpiresAt: sesame.FormatTime(l.Expires), MaxAccessCount: l.MaxAccessCount, AccessCount: l.AccessCount,
		MaxDownloads: l.MaxDownloads, DownloadCount: l.Downloads, Tags: l.Tags, Revoked: !l.Deleted.IsZero(),
		Authenticators: make([]string, 0, len(l.Authenticators))}
	if withURL {
		v.URL = t.cfg.PublicURL + "/s/" + l.Token
	}
	for _, a := range l.Authenticators {
		switch a.Type {
		case sesame.AuthPassword:
			v.Authenticators = append(v.Authenticators, "password")
		case sesame.AuthEmailOTP:
			v.Authenticators = append(v.Authenticators, "email code to "+a.Context)
		case sesame.AuthSMSOTP:
			v.Authenticators = append(v.Authenticators, "SMS code to "+sesame.MaskPhone(a.Context))
		case sesame.AuthSocial:
			v.Authenticators = append(v.Authenticators, "sign-in with a provider as "+a.Context)
		}
	}
	v.Notify = l.Notify.EventNames()
	caps := fmt.Sprintf("at most %d sign-ins", l.MaxAccessCount)
	if l.MaxDownloads > 0 {
		caps += fmt.Sprintf(" and %d downloads", l.MaxDownloads)
	}
	article := "A"
	if l.Type == sesame.LinkUpload || l.Type == sesame.LinkEditor {
		article = "An"
	}
	v.Summary = fmt.Sprintf("%s %s link to %d item(s); it works until %s (%s), with %s.", article, l.Type, len(l.Targets),
		l.Expires.UTC().Format("2 Jan 2006 15:04 UTC"), humanDuration(l.Expires.Sub(t.cfg.Now())), caps)
	if v.Revoked {
		v.Summary = "Revoked. " + v.Summary
	}
	return v
}

func humanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "expired"
	case d >= 48*time.Hour:
		return fmt.Sprintf("in %d days", int(d.Hours()/24+0.5))
	case d >= 2*time.Hour:
		return fmt.Sprintf("in %d hours", int(d.Hours()+0.5))
	}
	return fmt.Sprintf("in %d minutes", int(d.Minutes()+0.5))
}

// parseLifetime reads "3d", "2w" or a Go duration such as "12h".
func parseLifetime(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 || v > 3650 {
				break
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, sesame.FieldErr("BadFormat", "/expires_in", "expires_in must be a duration such as 3d, 2w or 12h")
	}
	return d, nil
}

// linkCreate resolves targets named by path in the core (which needs
// objects:read, and says nothing about what exists without it), then
// creates the link through the LinkService, which refuses a link that
// grants more than the token holds.
func (t *tools) linkCreate(ctx context.Context, in linkCreateIn) (linkView, error) {
	ctx, note := t.change(ctx, "share_link_create")
	out, err := idempotent(ctx, t, "share_link_create", in.IdempotencyKey, in, func() (linkView, error) {
		item := sesame.LinkCreate{Type: sesame.LinkType(in.LinkType), Title: in.Title, Message: in.Message, Tags: in.Tags,
			Notify: linkNotify(in.Notify), CreatedBy: t.tok.ID}
		targets, err := sesame.ResolveTargets(ctx, t.cfg.Objects.Store, "", "/targets", in.Targets)
		if err != nil {
			return linkView{}, err
		}
		item.Targets = targets
		if item.Authenticators, err = authInputs(in.Authenticators); err != nil {
			return linkView{}, err
		}
		if in.ExpiresIn != "" {
			d, err := parseLifetime(in.ExpiresIn)
			if err != nil {
				return linkView{}, err
			}
			item.Expires = t.cfg.Now().Add(d)
		}
		if in.MaxAccessCount != 0 {
			item.MaxAccessCount = &in.MaxAccessCount
		}
		if in.MaxDownloads != 0 {
			item.MaxDownloads = &in.MaxDownloads
		}
		links, err := t.cfg.Links.Create(ctx, []sesame.LinkCreate{item})
		if err != nil {
			return linkView{}, err
		}
		return t.viewLink(links[0], true), nil
	})
	t.record(ctx, note, err, out.ID, "")
	return out, err
}

type linkListIn struct {
	TargetID string `json:"target_id,omitempty" jsonschema:"only links that share this object id"`
	LinkType string `json:"link_type,omitempty" jsonschema:"download, upload or editor"`
	Tag      string `json:"tag,omitempty" jsonschema:"only links with this tag"`
	Size     int    `json:"size,omitempty" jsonschema:"how many to return, 1 to 100 (default 20)"`
	Cursor   string `json:"cursor,omitempty" jsonschema:"next_cursor from the previous page"`
}

type linkListOut struct {
	Count      int        `json:"count"`
	Links      []linkView `json:"links"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

func (t *tools) linkList(ctx context.Context, in linkListIn) (linkListOut, error) {
	var out linkListOut
	size, err := pageSize(in.Size, 20, 100)
	if err != nil {
		return out, err
	}
	f := sesame.LinkFilter{OrderBy: "created_at", Desc: true, Size: size}
	for _, c := range []sesame.Cond{{Field: "target_id", Values: []string{in.TargetID}}, {Field: "link_type", Values: []string{in.LinkType}},
		{Field: "tags", Op: sesame.OpAllTags, Values: []string{in.Tag}}} {
		if c.Values[0] != "" {
			f.Conds = append(f.Conds, c)
		}
	}
	if f.After, err = cursor(in.Cursor); err != nil {
		return out, err
	}
	page, err := t.cfg.Links.Find(ctx, f)
	if err != nil {
		return out, err
	}
	out.Count = page.Count
	out.Links = make([]linkView, len(page.Links))
	for i, l := range page.Links {
		out.Links[i] = t.viewLink(l, false)
	}
	if page.Next != nil {
		out.NextCursor = page.Next.Encode()
	}
	return out, nil
}

type linkIDIn struct {
	ID             string `json:"id" jsonschema:"the link's id (psl_...)"`
	IdempotencyKey string `json:"idempotency_key,omitempty" jsonschema:"any unique string; a retry with the same key returns the first result"`
}

func (t *tools) linkGet(ctx context.Context, in linkIDIn) (linkView, error) {
	l, err := t.cfg.Links.Get(ctx, in.ID)
	if err != nil {
		return linkView{}, err
	}
	return t.viewLink(l, true), nil
}

func (t *tools) linkRevoke(ctx context.Context, in linkIDIn) (linkView, error) {
	ctx, note := t.change(ctx, "share_link_revoke")
	out, err := idempotent(ctx, t, "share_link_revoke", in.IdempotencyKey, in, func() (linkView, error) {
		l, already, err := t.cfg.Links.Revoke(ctx, in.ID)
		if err != nil {
			return linkView{}, err
		}
		v := t.viewLink(l, false)
		v.Revoked = true
		if already {
			v.Summary = "The link was already revoked; nothing changed."
		} else {
			v.Summary = "Revoked: the link no longer opens."
		}
		return v, nil
	})
	t.record(ctx, note, err, in.ID, "")
	return out, err
}
