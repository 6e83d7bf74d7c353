// Package mcp offers sesame's file and link operations as MCP tools, over
// stdio (sesame mcp) and over streamable HTTP (mounted by the gateway at
// /mcp). Each tool parses its arguments, makes calls to the core (the same
// LinkService, rules and audit trail as the API) and renders the result for
// an agent. It depends only on the roles in package sesame, never on their
// implementations, and not on the gateway's HTTP server.
package mcp

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sesame-share/sesame"
)

// Config carries what a Server needs. Every role is required.
type Config struct {
	// Objects applies the object rules.
	Objects *sesame.ObjectService
	// Links applies the link rules: reading, creating, revoking, sending.
	Links *sesame.LinkService
	// Audit receives an event for every call of a tool that changes
	// something, and keeps the replies of idempotent calls.
	Audit sesame.AuditLog

	// PublicURL is the base of the link URLs the tools hand out.
	PublicURL string
	// UploadRoots are the directories object_upload may read from, over
	// stdio only.
	UploadRoots []string
	// Version is reported to clients.
	Version string

	Logger *slog.Logger
	Now    func() time.Time
}

// Server builds, for each token, an MCP server whose tools act as that
// token.
type Server struct {
	cfg     Config
	log     *slog.Logger
	schemas sync.Map         // reflect.Type -> *jsonschema.Schema, see schemaFor
	cache   *sdk.SchemaCache // resolved schemas, shared by every token's server
}

// New validates cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Objects == nil || cfg.Links == nil ||
		cfg.Audit == nil {
		return nil, errors.New("mcp: every storage role is required")
	}
	if !strings.HasPrefix(cfg.PublicURL, "http://") && !strings.HasPrefix(cfg.PublicURL, "https://") {
		return nil, errors.New("mcp: PublicURL must be an http or https URL")
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Logger, cache: sdk.NewSchemaCache()}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

const instructions = "sesame shares stored files through links that recipients open with a password or a one-time code. " +
	"Find files with object_list, create a link with share_link_create, and email it with share_link_send (preview first; confirm to send). " +
	"Revoke links that are no longer needed with share_link_revoke."

// Tools returns an MCP server whose tools act as tok, with its scopes.
// Tools the token may not use are not offered at all. local offers
// object_upload, which reads files of this machine: only over stdio.
func (s *Server) Tools(tok *sesame.Token, local bool) *sdk.Server {
	srv := sdk.NewServer(&sdk.Implementation{Name: "sesame", Title: "sesame secure share", Version: s.cfg.Version},
		&sdk.ServerOptions{Instructions: instructions, SchemaCache: s.cache})
	t := &tools{Server: s, tok: tok}
	if tok.Has(sesame.ScopeObjectsRead) {
		t.addObjectReadTools(srv)
	}
	if tok.Has(sesame.ScopeObjectsWrite) {
		t.addObjectWriteTools(srv, local)
	}
	if tok.Has(sesame.ScopeLinksRead) {
		t.addLinkReadTools(srv)
	}
	if tok.Has(sesame.ScopeLinksWrite) {
		t.addLinkWriteTools(srv)
	}
	if tok.Has(sesame.ScopeLinksSend) {
		t.addLinkSendTools(srv)
	}
	return srv
}

// Handler serves MCP over streamable HTTP. It is stateless: every request
// carries its own API token, which the caller has authenticated and put
// in the request's context (sesame.WithToken), and gets a server with
// that token's tools. A request without one is refused.
func (s *Server) Handler() http.Handler {
	return sdk.NewStreamableHTTPHandler(func(r *http.Request) *sdk.Server {
		tok := sesame.TokenFrom(r.Context())
		if tok == nil {
			return nil
		}
		return s.Tools(tok, false)
	}, &sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: s.log})
}

// ServeStdio serves tok's tools, object_upload included, over r and w
// until the client hangs up or ctx ends.
func (s *Server) ServeStdio(ctx context.Context, tok *sesame.Token, r io.Reader, w io.Writer) error {
	err := s.Tools(tok, true).Run(ctx, &sdk.IOTransport{Reader: io.NopCloser(r), Writer: nopWriteCloser{w}})
	if err != nil && ctx.Err() == nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("mcp: %w", err)
	}
	return nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// tools holds one token's view of the tools.
type tools struct {
	*Server
	tok *sesame.Token
}

// addTool registers a tool whose handler runs as the token (the core reads
// the caller from the context) and whose errors reach the agent as tool
// errors with the API's safe text.
func addTool[In, Out any](t *tools, srv *sdk.Server, tool *sdk.Tool, h func(context.Context, In) (Out, error)) {
	if sc := schemaFor[In](t.Server); sc != nil {
		tool.InputSchema = sc
	}
	if sc := schemaFor[Out](t.Server); sc != nil {
		tool.OutputSchema = sc
	}
	sdk.AddTool(srv, tool, func(ctx context.Context, _ *sdk.CallToolRequest, in In) (*sdk.CallToolResult, Out, error) {
		out, err := h(sesame.WithToken(ctx, t.tok), in)
		if err != nil {
			return nil, out, toolErr(err)
		}
		return nil, out, nil
	})
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
		msg = "the request was refused (" + e.Kind.String() + ")"
	}
	return errors.New(msg)
}

// change returns ctx with the note of a tool call that may change
// something: the store records each change with it, in the change's
// transaction.
func (t *tools) change(ctx context.Context, tool string) (context.Context, *sesame.AuditNote) {
	n := &sesame.AuditNote{Actor: t.tok.ID, ActorType: sesame.ActorMCP, Action: "mcp." + tool, RequestID: sesame.RequestIDFrom(ctx)}
	return sesame.WithAudit(ctx, n), n
}

// record writes the event of a call that changed nothing (it failed, or
// found its work already done).
func (t *tools) record(ctx context.Context, n *sesame.AuditNote, err error, linkID, objectID string) {
	outcome := "success"
	if err != nil {
		outcome = "failure:" + sesame.KindOf(err).String()
	}
	var links, objects []string
	if linkID != "" {
		links = []string{linkID}
	}
	if objectID != "" {
		objects = []string{objectID}
	}
	if aerr := n.Record(ctx, t.cfg.Audit, t.cfg.Now(), outcome, links, objects); aerr != nil {
		t.log.ErrorContext(ctx, "audit", "action", n.Action, "error", aerr)
	}
}

// idempotent runs fn once per (token, key), through the same
// sesame.IdempotencyKey as the API's header: a repeat with the same input
// returns the first output; a repeat with other input is refused. A
// refusal is not remembered, so that the caller may fix the input and
// retry with the same key.
func idempotent[Out any](ctx context.Context, t *tools, tool, key string, in any, fn func() (Out, error)) (Out, error) {
	var zero Out
	if key == "" {
		return fn()
	}
	b, _ := json.Marshal(in) // tool inputs are plain data
	sum := sha256.Sum256(append([]byte(tool+"\x00"), b...))
	k := sesame.IdempotencyKey{Store: t.cfg.Audit, TokenID: t.tok.ID, Key: key, Route: "mcp:" + tool,
		Namespace: "mcp", Source: "/idempotency_key"}
	prev, err := k.Claim(ctx, func() ([]byte, error) { return sum[:], nil })
	if err != nil {
		return zero, err
	}
	if prev != nil {
		var out Out
		if err := json.Unmarshal(prev.Body, &out); err != nil {
			return zero, fmt.Errorf("mcp: replay: %w", err)
		}
		return out, nil
	}
	out, err := fn()
	var body []byte
	if err == nil {
		body, _ = json.Marshal(out) // outputs are plain data
	}
	if serr := k.Settle(ctx, err == nil, sum[:], http.StatusOK, body); serr != nil {
		t.log.ErrorContext(ctx, "settle idempotency key", "error", serr)
	}
	return out, err
}
