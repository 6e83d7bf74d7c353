package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sesame-share/sesame"
)

// MCPOptions configure the MCP tools.
type MCPOptions struct {
	// Stdio enables object_upload, which reads local files, within Roots.
	Stdio bool
	// Roots are the directories object_upload may read from.
	Roots []string
	// Version is reported to clients.
	Version string
}

// mcpTools holds one token's view of the tools.
type mcpTools struct {
	s    *Server
	tok  *sesame.Token
	opts MCPOptions
}

// NewMCPServer returns an MCP server whose tools act as tok, with the same
// scopes, rules and audit trail as the API. Tools the token may not use
// are not offered at all.
func (s *Server) NewMCPServer(tok *sesame.Token, opts MCPOptions) *mcp.Server {
	if opts.Version == "" {
		opts.Version = "dev"
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "sesame", Title: "sesame secure share", Version: opts.Version},
		&mcp.ServerOptions{Instructions: "sesame shares stored files through links that recipients open with a password or a one-time code. " +
			"Find files with object_list, create a link with share_link_create, and email it with share_link_send (preview first; confirm to send). " +
			"Revoke links that are no longer needed with share_link_revoke."})
	t := &mcpTools{s: s, tok: tok, opts: opts}
	readOnly := &mcp.ToolAnnotations{ReadOnlyHint: true}
	if tok.Has(sesame.ScopeObjectsRead) {
		mcp.AddTool(srv, &mcp.Tool{Name: "object_list", Annotations: readOnly,
			Description: "List the files and folders in a folder of the store (by path, e.g. \"/reports/2025\"; \"/\" is the top). Returns ids and paths to use as link targets. Page with next_cursor."}, t.objectList)
	}
	if tok.Has(sesame.ScopeObjectsWrite) {
		mcp.AddTool(srv, &mcp.Tool{Name: "folder_create",
			Description: "Create a folder by its full path, e.g. \"/deliveries/acme\". Missing parent folders are created. Returns the folder's id."}, t.folderCreate)
		if opts.Stdio {
			mcp.AddTool(srv, &mcp.Tool{Name: "object_upload",
				Description: "Upload a local file into the store. local_path must lie inside the directories this server allows; folder is the destination folder path. Returns the stored file's id, size and sha256."}, t.objectUpload)
		}
	}
	if tok.Has(sesame.ScopeLinksRead) {
		mcp.AddTool(srv, &mcp.Tool{Name: "share_link_list", Annotations: readOnly,
			Description: "List share links, newest first, optionally only those sharing a given object, of a type, or with a tag. Returns no secrets (no link URLs). Page with next_cursor."}, t.linkList)
		mcp.AddTool(srv, &mcp.Tool{Name: "share_link_get", Annotations: readOnly,
			Description: "Get one share link by id, with its URL, expiry, caps and counters."}, t.linkGet)
	}
	if tok.Has(sesame.ScopeLinksWrite) {
		mcp.AddTool(srv, &mcp.Tool{Name: "share_link_create",
			Description: "Create a share link to files or folders (targets by id or by path). link_type is download (default), upload (folders only: a drop box) or editor. " +
				"Each authenticator is a way in: {\"type\":\"email_otp\",\"value\":\"bob@example.com\"}, {\"type\":\"sms_otp\",\"value\":\"+14155550123\"} or {\"type\":\"password\",\"value\":\"...\"} (15+ characters alone). " +
				"Returns the URL and states the expiry and caps. Pass idempotency_key to make retries safe."}, t.linkCreate)
		mcp.AddTool(srv, &mcp.Tool{Name: "share_link_revoke", Annotations: &mcp.ToolAnnotations{IdempotentHint: true},
			Description: "Revoke a share link at once: it stops opening for everyone. Revoking a link that is already revoked is not an error."}, t.linkRevoke)
	}
	if tok.Has(sesame.ScopeLinksSend) {
		mcp.AddTool(srv, &mcp.Tool{Name: "share_link_send",
			Description: "Email a share link to people. Without confirm=true it only returns a preview (recipients, subject and text) and sends nothing; show it to the user, then call again with confirm=true to send."}, t.linkSend)
	}
	return srv
}

// toolErr turns an error into a tool error with the API's safe message.
func toolErr(err error) error {
	e := sesame.AsError(err)
	if e == nil || e.Kind == sesame.Internal {
		return errors.New("something went wrong on the server; try again later")
	}
	msg := e.Message
	for _, f := range e.Fields {
		if f.Detail != "" && f.Detail != msg {
			msg += " (" + f.Source + ": " + f.Detail + ")"
		} else if f.Source != "" && !strings.Contains(msg, f.Source) {
			msg += " (" + f.Source + ")"
		}
	}
	if msg == "" {
		msg = statusOf[e.Kind].Summary
	}
	return errors.New(msg)
}

// audit records a tool call like an API call, with the actor marked as MCP.
func (t *mcpTools) audit(ctx context.Context, tool string, err error, linkID, objectID string) {
	outcome := "success"
	if err != nil {
		outcome = "failure:" + sesame.KindOf(err).String()
	}
	ev := &sesame.AuditEvent{Time: t.s.now(), Actor: t.tok.ID, ActorType: sesame.ActorMCP, Action: "mcp." + tool,
		LinkID: linkID, ObjectID: objectID, Outcome: outcome, RequestID: sesame.RequestIDFrom(ctx)}
	if aerr := t.s.cfg.Audit.Audit(context.WithoutCancel(ctx), ev); aerr != nil {
		t.s.log.Error("audit", "action", ev.Action, "error", aerr)
	}
}

// idempotent runs fn once per (token, key): a repeat with the same input
// returns the first output; a repeat with other input is refused.
func idempotent[Out any](ctx context.Context, t *mcpTools, tool, key string, in any, fn func() (Out, error)) (Out, error) {
	var zero Out
	if key == "" {
		return fn()
	}
	if len(key) > 255 {
		return zero, sesame.FieldErr("AboveMaxLength", "/idempotency_key", "idempotency_key must be at most 255 characters")
	}
	b, _ := json.Marshal(in) // tool inputs are plain data
	sum := sha256.Sum256(append([]byte(tool+"\x00"), b...))
	idem := t.s.cfg.Idempotency
	prev, err := idem.BeginIdempotent(ctx, t.tok.ID, "mcp:"+key, "mcp:"+tool)
	if err != nil {
		return zero, err
	}
	if prev != nil {
		if prev.State != sesame.IdempotencyDone {
			return zero, sesame.Errorf(sesame.Conflict, "A call with this idempotency_key is still running; try again shortly.")
		}
		if prev.Route != "mcp:"+tool || string(prev.Fingerprint) != string(sum[:]) {
			return zero, sesame.Errorf(sesame.Unprocessable, "This idempotency_key was used for a different call; use a new key.")
		}
		var out Out
		if err := json.Unmarshal(prev.Body, &out); err != nil {
			return zero, fmt.Errorf("gateway: replay: %w", err)
		}
		return out, nil
	}
	out, err := fn()
	bg := context.WithoutCancel(ctx)
	if err != nil && sesame.KindOf(err) == sesame.Internal {
		if aerr := idem.AbandonIdempotent(bg, t.tok.ID, "mcp:"+key); aerr != nil {
			t.s.log.Error("abandon idempotency key", "error", aerr)
		}
		return out, err
	}
	if err != nil {
		// Refusals are not remembered: the caller may fix the input and retry.
		if aerr := idem.AbandonIdempotent(bg, t.tok.ID, "mcp:"+key); aerr != nil {
			t.s.log.Error("abandon idempotency key", "error", aerr)
		}
		return out, err
	}
	body, _ := json.Marshal(out) // outputs are plain data
	if ferr := idem.FinishIdempotent(bg, t.tok.ID, "mcp:"+key, sum[:], http.StatusOK, body); ferr != nil {
		t.s.log.Error("finish idempotency key", "error", ferr)
	}
	return out, nil
}

type mcpObject struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Name   string `json:"name"`
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
}

func toMCPObject(o *sesame.Object) mcpObject {
	return mcpObject{ID: o.ID, Type: string(o.Type), Name: o.Name, Path: o.Path, Size: o.Size, SHA256: o.SHA256}
}

type objectListIn struct {
	Folder       string `json:"folder,omitempty" jsonschema:"the folder's path, such as /reports; / or empty for the top level"`
	NameContains string `json:"name_contains,omitempty" jsonschema:"only objects whose name contains this text"`
	Size         int    `json:"size,omitempty" jsonschema:"how many to return, 1 to 200 (default 50)"`
	Cursor       string `json:"cursor,omitempty" jsonschema:"next_cursor from the previous page"`
}

type objectListOut struct {
	Count      int         `json:"count"`
	Objects    []mcpObject `json:"objects"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

func (t *mcpTools) objectList(ctx context.Context, _ *mcp.CallToolRequest, in objectListIn) (*mcp.CallToolResult, objectListOut, error) {
	var out objectListOut
	size := in.Size
	if size == 0 {
		size = 50
	}
	if size < 1 || size > 200 {
		return nil, out, toolErr(sesame.FieldErr("NotWithinRange", "/size", "size must be between 1 and 200"))
	}
	f := sesame.ObjectFilter{OrderBy: "name", Size: size, Conds: []sesame.Cond{{Field: "folder", Op: sesame.OpFolder, Values: []string{in.Folder}}}}
	if _, err := sesame.SplitPath("/folder", in.Folder); err != nil {
		return nil, out, toolErr(err)
	}
	if in.NameContains != "" {
		f.Conds = append(f.Conds, sesame.Cond{Field: "name", Op: sesame.OpContains, Values: []string{in.NameContains}})
	}
	if in.Cursor != "" {
		c, err := decodeCursor(in.Cursor)
		if err != nil {
			return nil, out, toolErr(err)
		}
		f.After = c
	}
	page, err := t.s.cfg.Objects.FindObjects(ctx, f)
	if err != nil {
		return nil, out, toolErr(err)
	}
	out.Count = page.Count
	out.Objects = make([]mcpObject, len(page.Objects))
	for i, o := range page.Objects {
		out.Objects[i] = toMCPObject(o)
	}
	if page.Next != nil {
		out.NextCursor = encodeCursor(page.Next)
	}
	return nil, out, nil
}

type folderCreateIn struct {
	Path           string `json:"path" jsonschema:"the folder's full path, such as /deliveries/acme"`
	IdempotencyKey string `json:"idempotency_key,omitempty" jsonschema:"any unique string; a retry with the same key returns the first result"`
}

func (t *mcpTools) folderCreate(ctx context.Context, _ *mcp.CallToolRequest, in folderCreateIn) (*mcp.CallToolResult, mcpObject, error) {
	out, err := idempotent(ctx, t, "folder_create", in.IdempotencyKey, in, func() (mcpObject, error) {
		p, err := placement("", nil, nil, nil, &in.Path)
		if err != nil {
			return mcpObject{}, err
		}
		o, err := t.s.cfg.Writer.CreateFolder(ctx, sesame.FolderCreate{Placement: p})
		if err != nil {
			return mcpObject{}, err
		}
		return toMCPObject(o), nil
	})
	t.audit(ctx, "folder_create", err, "", out.ID)
	if err != nil {
		return nil, out, toolErr(err)
	}
	return nil, out, nil
}

type objectUploadIn struct {
	LocalPath      string `json:"local_path" jsonschema:"absolute path of the local file to upload"`
	Folder         string `json:"folder" jsonschema:"destination folder path in the store, such as /deliveries/acme (created if missing)"`
	Name           string `json:"name,omitempty" jsonschema:"name to store it under; default: the local file's name"`
	IdempotencyKey string `json:"idempotency_key,omitempty" jsonschema:"any unique string; a retry with the same key returns the first result"`
}

// insideRoots resolves p (following links) and checks that it lies in
// one of the allowed directories.
func insideRoots(p string, roots []string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", sesame.FieldErr("BadFormat", "/local_path", "local_path must be an absolute path")
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", sesame.FieldErr("DoesNotExist", "/local_path", "no readable file at %s", p).WithKind(sesame.NotFound)
	}
	for _, r := range roots {
		rr, err := filepath.EvalSymlinks(r)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(rr, real); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			return real, nil
		}
	}
	return "", sesame.FieldErr("BadState", "/local_path", "%s is outside the directories this server may read (mcp.upload_roots)", p).WithKind(sesame.Forbidden)
}

func (t *mcpTools) objectUpload(ctx context.Context, _ *mcp.CallToolRequest, in objectUploadIn) (*mcp.CallToolResult, mcpObject, error) {
	out, err := idempotent(ctx, t, "object_upload", in.IdempotencyKey, in, func() (mcpObject, error) {
		real, err := insideRoots(in.LocalPath, t.opts.Roots)
		if err != nil {
			return mcpObject{}, err
		}
		f, err := os.Open(real)
		if err != nil {
			return mcpObject{}, sesame.FieldErr("DoesNotExist", "/local_path", "cannot read %s", in.LocalPath).WithKind(sesame.NotFound)
		}
		defer f.Close()
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			return mcpObject{}, sesame.FieldErr("BadState", "/local_path", "%s is not a regular file", in.LocalPath)
		}
		name := in.Name
		if name == "" {
			name = filepath.Base(real)
		}
		folder := in.Folder
		p, err := placement("", &name, nil, &folder, nil)
		if err != nil {
			return mcpObject{}, err
		}
		p.ParentSource = "/folder"
		up, err := t.s.cfg.Blobs.Stage(ctx, f, name, t.s.cfg.MaxUploadSize)
		if err != nil {
			return mcpObject{}, err
		}
		o, err := t.s.cfg.Writer.CreateFile(ctx, sesame.FileCreate{Placement: p}, up)
		if err != nil {
			return mcpObject{}, err
		}
		return toMCPObject(o), nil
	})
	t.audit(ctx, "object_upload", err, "", out.ID)
	if err != nil {
		return nil, out, toolErr(err)
	}
	return nil, out, nil
}

type mcpAuth struct {
	Type  string `json:"type" jsonschema:"password, email_otp or sms_otp"`
	Value string `json:"value" jsonschema:"the password, the email address, or the phone number in E.164 form"`
}

type linkCreateIn struct {
	Targets        []string  `json:"targets" jsonschema:"ids (pos_...) or paths (/reports/q3.pdf) of the files and folders to share"`
	LinkType       string    `json:"link_type,omitempty" jsonschema:"download (default), upload (folders only) or editor"`
	Authenticators []mcpAuth `json:"authenticators" jsonschema:"ways to open the link; any one works"`
	Title          string    `json:"title,omitempty" jsonschema:"shown on the link's page and as the email subject"`
	Message        string    `json:"message,omitempty" jsonschema:"a note shown to the recipient"`
	ExpiresIn      string    `json:"expires_in,omitempty" jsonschema:"how long the link works, such as 3d or 12h (default 7d; clamped to the server's maximum)"`
	MaxAccessCount int       `json:"max_access_count,omitempty" jsonschema:"how many sign-ins are allowed (default 10)"`
	MaxDownloads   int       `json:"max_downloads,omitempty" jsonschema:"how many downloads are allowed (default: no cap)"`
	Tags           []string  `json:"tags,omitempty"`
	IdempotencyKey string    `json:"idempotency_key,omitempty" jsonschema:"any unique string; a retry with the same key returns the first result"`
}

type mcpLink struct {
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
	Revoked        bool     `json:"revoked,omitempty"`
	Summary        string   `json:"summary"`
}

func (t *mcpTools) toMCPLink(l *sesame.Link, withURL bool) mcpLink {
	v := mcpLink{ID: l.ID, LinkType: string(l.Type), Targets: l.Targets, Title: l.Title, ExpiresAt: sesame.FormatTime(l.Expires),
		MaxAccessCount: l.MaxAccessCount, AccessCount: l.AccessCount, MaxDownloads: l.MaxDownloads, DownloadCount: l.Downloads, Tags: l.Tags,
		Revoked: !l.Deleted.IsZero()}
	if withURL {
		v.URL = t.s.cfg.PublicURL + "/s/" + l.Token
	}
	for _, a := range l.Authenticators {
		switch a.Type {
		case sesame.AuthPassword:
			v.Authenticators = append(v.Authenticators, "password")
		case sesame.AuthEmailOTP:
			v.Authenticators = append(v.Authenticators, "email code to "+a.Context)
		case sesame.AuthSMSOTP:
			v.Authenticators = append(v.Authenticators, "SMS code to "+sesame.MaskPhone(a.Context))
		}
	}
	caps := fmt.Sprintf("at most %d sign-ins", l.MaxAccessCount)
	if l.MaxDownloads > 0 {
		caps += fmt.Sprintf(" and %d downloads", l.MaxDownloads)
	}
	v.Summary = fmt.Sprintf("A %s link to %d item(s); it works until %s (%s), with %s.", l.Type, len(l.Targets),
		l.Expires.UTC().Format("2 Jan 2006 15:04 UTC"), humanDuration(time.Until(l.Expires)), caps)
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

func (t *mcpTools) linkCreate(ctx context.Context, _ *mcp.CallToolRequest, in linkCreateIn) (*mcp.CallToolResult, mcpLink, error) {
	out, err := idempotent(ctx, t, "share_link_create", in.IdempotencyKey, in, func() (mcpLink, error) {
		ctx := sesame.WithToken(ctx, t.tok)
		item := sesame.LinkCreate{Type: sesame.LinkType(in.LinkType), Title: in.Title, Message: in.Message, Tags: in.Tags, CreatedBy: t.tok.ID, Source: ""}
		targets, err := sesame.ResolveTargets(ctx, t.s.cfg.Objects, "", "/targets", in.Targets)
		if err != nil {
			return mcpLink{}, err
		}
		item.Targets = targets
		for _, a := range in.Authenticators {
			item.Authenticators = append(item.Authenticators, sesame.AuthenticatorInput{Type: sesame.AuthType(a.Type), Context: a.Value})
		}
		if in.ExpiresIn != "" {
			d, err := parseLifetime(in.ExpiresIn)
			if err != nil {
				return mcpLink{}, err
			}
			item.Expires = t.s.now().Add(d)
		}
		if in.MaxAccessCount != 0 {
			item.MaxAccessCount = &in.MaxAccessCount
		}
		if in.MaxDownloads != 0 {
			item.MaxDownloads = &in.MaxDownloads
		}
		links, err := t.s.cfg.Links.Create(ctx, []sesame.LinkCreate{item})
		if err != nil {
			return mcpLink{}, err
		}
		return t.toMCPLink(links[0], true), nil
	})
	t.audit(ctx, "share_link_create", err, out.ID, "")
	if err != nil {
		return nil, out, toolErr(err)
	}
	return nil, out, nil
}

type linkListIn struct {
	TargetID string `json:"target_id,omitempty" jsonschema:"only links that share this object id"`
	LinkType string `json:"link_type,omitempty" jsonschema:"download, upload or editor"`
	Tag      string `json:"tag,omitempty" jsonschema:"only links with this tag"`
	Size     int    `json:"size,omitempty" jsonschema:"how many to return, 1 to 100 (default 20)"`
	Cursor   string `json:"cursor,omitempty" jsonschema:"next_cursor from the previous page"`
}

type linkListOut struct {
	Count      int       `json:"count"`
	Links      []mcpLink `json:"links"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

func (t *mcpTools) linkList(ctx context.Context, _ *mcp.CallToolRequest, in linkListIn) (*mcp.CallToolResult, linkListOut, error) {
	var out linkListOut
	size := in.Size
	if size == 0 {
		size = 20
	}
	if size < 1 || size > 100 {
		return nil, out, toolErr(sesame.FieldErr("NotWithinRange", "/size", "size must be between 1 and 100"))
	}
	f := sesame.LinkFilter{OrderBy: "created_at", Desc: true, Size: size}
	if in.TargetID != "" {
		f.Conds = append(f.Conds, sesame.Cond{Field: "target_id", Op: sesame.OpEq, Values: []string{in.TargetID}})
	}
	if in.LinkType != "" {
		f.Conds = append(f.Conds, sesame.Cond{Field: "link_type", Op: sesame.OpEq, Values: []string{in.LinkType}})
	}
	if in.Tag != "" {
		f.Conds = append(f.Conds, sesame.Cond{Field: "tags", Op: sesame.OpAllTags, Values: []string{in.Tag}})
	}
	if in.Cursor != "" {
		c, err := decodeCursor(in.Cursor)
		if err != nil {
			return nil, out, toolErr(err)
		}
		f.After = c
	}
	page, err := t.s.cfg.LinkReader.FindLinks(ctx, f)
	if err != nil {
		return nil, out, toolErr(err)
	}
	out.Count = page.Count
	out.Links = make([]mcpLink, len(page.Links))
	for i, l := range page.Links {
		out.Links[i] = t.toMCPLink(l, false)
	}
	if page.Next != nil {
		out.NextCursor = encodeCursor(page.Next)
	}
	return nil, out, nil
}

type linkIDIn struct {
	ID             string `json:"id" jsonschema:"the link's id (psl_...)"`
	IdempotencyKey string `json:"idempotency_key,omitempty" jsonschema:"any unique string; a retry with the same key returns the first result"`
}

func (t *mcpTools) linkGet(ctx context.Context, _ *mcp.CallToolRequest, in linkIDIn) (*mcp.CallToolResult, mcpLink, error) {
	l, err := t.s.cfg.LinkReader.LinkByID(ctx, in.ID)
	if err != nil {
		return nil, mcpLink{}, toolErr(err)
	}
	return nil, t.toMCPLink(l, true), nil
}

func (t *mcpTools) linkRevoke(ctx context.Context, _ *mcp.CallToolRequest, in linkIDIn) (*mcp.CallToolResult, mcpLink, error) {
	out, err := idempotent(ctx, t, "share_link_revoke", in.IdempotencyKey, in, func() (mcpLink, error) {
		l, already, err := t.s.cfg.Revoker.RevokeLink(ctx, in.ID)
		if err != nil {
			return mcpLink{}, err
		}
		v := t.toMCPLink(l, false)
		v.Revoked = true
		if already {
			v.Summary = "The link was already revoked; nothing changed."
		} else {
			v.Summary = "Revoked: the link no longer opens."
		}
		return v, nil
	})
	t.audit(ctx, "share_link_revoke", err, in.ID, "")
	if err != nil {
		return nil, out, toolErr(err)
	}
	return nil, out, nil
}

type linkSendIn struct {
	LinkID         string   `json:"link_id" jsonschema:"the link to send (psl_...)"`
	Recipients     []string `json:"recipients" jsonschema:"email addresses; each gets its own email"`
	SenderEmail    string   `json:"sender_email" jsonschema:"the address replies go to"`
	SenderName     string   `json:"sender_name,omitempty" jsonschema:"the name shown as the sender"`
	Confirm        bool     `json:"confirm,omitempty" jsonschema:"false (default): only preview; true: send"`
	IdempotencyKey string   `json:"idempotency_key,omitempty" jsonschema:"any unique string; a retry with the same key sends nothing twice"`
}

type sendPreview struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

type linkSendOut struct {
	Sent       bool          `json:"sent"`
	Preview    []sendPreview `json:"preview,omitempty"`
	Recipients []string      `json:"recipients"`
	Summary    string        `json:"summary"`
}

func (t *mcpTools) linkSend(ctx context.Context, _ *mcp.CallToolRequest, in linkSendIn) (*mcp.CallToolResult, linkSendOut, error) {
	req := sesame.LinkSendRequest{SenderEmail: in.SenderEmail, SenderName: in.SenderName}
	for _, r := range in.Recipients {
		req.Items = append(req.Items, sesame.LinkSend{LinkID: in.LinkID, Email: r})
	}
	if !in.Confirm {
		msgs, err := t.s.cfg.Mailer.Preview(ctx, req)
		if err != nil {
			return nil, linkSendOut{}, toolErr(err)
		}
		out := linkSendOut{Recipients: in.Recipients, Summary: "Nothing was sent. Show this preview to the user; call again with confirm=true to send."}
		for _, m := range msgs {
			out.Preview = append(out.Preview, sendPreview{To: m.To, Subject: m.Subject, Text: m.Text})
		}
		return nil, out, nil
	}
	out, err := idempotent(ctx, t, "share_link_send", in.IdempotencyKey, in, func() (linkSendOut, error) {
		if _, err := t.s.cfg.Mailer.SendLinks(ctx, req); err != nil {
			return linkSendOut{}, err
		}
		return linkSendOut{Sent: true, Recipients: in.Recipients, Summary: fmt.Sprintf("Queued %d email(s); delivery is retried if the mail server is down.", len(in.Recipients))}, nil
	})
	t.audit(ctx, "share_link_send", err, in.LinkID, "")
	if err != nil {
		return nil, out, toolErr(err)
	}
	return nil, out, nil
}

// mcpHandler serves MCP over streamable HTTP at /mcp. It is stateless:
// every request carries a Bearer token, is authenticated like any API
// call, and gets a server with that token's tools.
func (s *Server) mcpHandler() gin.HandlerFunc {
	h := mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server {
		tok := sesame.TokenFrom(r.Context())
		if tok == nil {
			return nil
		}
		return s.NewMCPServer(tok, MCPOptions{Version: s.cfg.Version})
	}, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: s.log})
	return func(c *gin.Context) {
		h.ServeHTTP(c.Writer, c.Request)
	}
}

// handleMCP refuses a JSON-RPC message that is neither a call nor a
// reply, which the SDK would otherwise accept silently, then serves MCP.
func (s *Server) handleMCP(c *gin.Context) {
	if c.Request.Method == http.MethodPost {
		body, err := readCapped(c.Request, 4<<20)
		if err != nil {
			s.fail(c, err)
			return
		}
		var msg map[string]json.RawMessage
		if json.Unmarshal(body, &msg) == nil {
			_, m := msg["method"]
			_, r := msg["result"]
			_, e := msg["error"]
			if !m && !r && !e {
				s.fail(c, sesame.FieldErr("FieldRequired", "/method", "a JSON-RPC message needs a method (or a result or error)"))
				return
			}
		}
		c.Request.Body = io.NopCloser(bytes.NewReader(body))
	}
	s.mcp(c)
}
