package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

func (s *Server) routes() {
	e := s.engine
	e.Use(s.requestID, s.accessLog, s.cfg.Metrics.observe, s.recovery)

	e.GET("/healthz", s.handleHealth)
	e.GET("/readyz", s.handleReady)
	// On the main listener the metrics need a token; metrics.listen may
	// serve them without one on an internal address (cmd/sesame).
	e.GET("/metrics", s.auth(sesame.ScopeMetricsRead), gin.WrapH(s.cfg.Metrics.Handler()))

	for _, prefix := range []string{"/v1", "/v1beta"} {
		g := e.Group(prefix)
		read, write := s.auth(sesame.ScopeObjectsRead), s.auth(sesame.ScopeObjectsWrite)
		g.POST("/buckets", read, s.handleBuckets)
		g.POST("/folder/create", write, s.idempotent, s.audited("folder.create"), s.handleFolderCreate)
		g.POST("/put", write, s.uploadBody, s.idempotent, s.audited("object.put"), s.handlePut)
		g.POST("/get", read, s.handleGet)
		g.POST("/get_archive", read, s.handleGetArchive)
		g.POST("/list", read, s.handleList)
		g.POST("/update", write, s.audited("object.update"), s.handleUpdate)
		g.POST("/delete", write, s.audited("object.delete"), s.handleDelete)

		lread, lwrite := s.auth(sesame.ScopeLinksRead), s.auth(sesame.ScopeLinksWrite)
		g.POST("/share/link/create", lwrite, s.idempotent, s.audited("link.create"), s.handleLinkCreate)
		g.POST("/share/link/get", lread, s.handleLinkGet)
		g.POST("/share/link/list", lread, s.handleLinkList)
		g.POST("/share/link/update", lwrite, s.audited("link.update"), s.handleLinkUpdate)
		g.POST("/share/link/delete", lwrite, s.audited("link.delete"), s.handleLinkDelete)
		g.POST("/share/link/send", s.auth(sesame.ScopeLinksSend), s.idempotent, s.audited("link.send"), s.handleLinkSend)
		g.POST("/notifications/list", s.auth(sesame.ScopeAuditRead), s.handleNotificationList)

		g.POST("/audit/list", s.auth(sesame.ScopeAuditRead), s.handleAuditList)
		s.webhookRoutes(g)
	}
	e.GET("/request/:id", s.auth(sesame.ScopeObjectsWrite), s.handleRequestPoll)

	// Capability URLs: the secret in the path is the credential.
	e.POST("/upload/:secret", s.uploadBody, s.audited("object.put"), s.handleUploadPost)
	e.PUT("/upload/:secret", s.uploadBody, s.audited("object.put"), s.handleUploadPut)
	e.GET("/dl/:secret", s.handleDownload)
	e.HEAD("/dl/:secret", s.handleDownload)
	e.GET("/dl/:secret/:name", s.handleDownload)
	e.HEAD("/dl/:secret/:name", s.handleDownload)

	// MCP over streamable HTTP (package gateway/mcp). Any valid token may
	// connect; it is offered only the tools its scopes allow.
	mcpAuth := s.auth("")
	e.POST("/mcp", mcpAuth, s.handleMCP)
	e.GET("/mcp", mcpAuth, s.handleMCP)
	e.DELETE("/mcp", mcpAuth, s.handleMCP)

	s.portalRoutes(e)

	e.NoRoute(func(c *gin.Context) {
		s.fail(c, &sesame.Error{Kind: sesame.NotFound, Message: "There is no endpoint at " + c.Request.Method + " " + c.Request.URL.Path + "."})
	})
}

// portalRoutes serves the recipient pages.
func (s *Server) portalRoutes(e *gin.Engine) {
	e.GET("/static/*file", s.handleStatic)
	e.GET("/s/:token", s.handlePortalShow)
	e.POST("/s/:token/password", s.handlePortalPassword)
	e.POST("/s/:token/code/send", s.handlePortalCodeSend)
	e.POST("/s/:token/code/verify", s.handlePortalCodeVerify)
	e.POST("/s/:token/social", s.handlePortalSocial)
	e.GET("/oidc/callback", s.handleOIDCCallback)
	e.POST("/s/:token/leave", s.handlePortalLeave)
	e.GET("/s/:token/d/:id", s.handlePortalFolder)
	e.GET("/s/:token/f/:id", s.handlePortalFile)
	e.HEAD("/s/:token/f/:id", s.handlePortalFile)
	e.GET("/s/:token/v/:id", s.handlePortalPreview)
	e.GET("/s/:token/view/:id", s.handlePortalView)
	e.GET("/s/:token/th/:id", s.handlePortalThumb)
	e.GET("/s/:token/unlock/:id", s.handlePortalUnlockForm)
	e.POST("/s/:token/unlock", s.handlePortalUnlock)
	e.GET("/s/:token/zip", s.handlePortalZip)
	e.POST("/s/:token/zip", s.handlePortalZip)
	e.POST("/s/:token/upload", s.uploadBody, s.handlePortalUpload)
	e.POST("/s/:token/tus", s.uploadBody, s.handlePortalTus)
	e.HEAD("/s/:token/tus/:id", s.handlePortalTus)
	e.PATCH("/s/:token/tus/:id", s.uploadBody, s.handlePortalTus)
	e.DELETE("/s/:token/tus/:id", s.handlePortalTus)
	e.POST("/s/:token/mkdir", s.handlePortalMkdir)
	e.GET("/s/:token/rename/:id", s.handlePortalConfirm)
	e.POST("/s/:token/rename", s.handlePortalRename)
	e.GET("/s/:token/delete/:id", s.handlePortalConfirm)
	e.POST("/s/:token/delete", s.handlePortalDelete)
}

func (s *Server) handleHealth(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// handleReady answers 200 while the server can take traffic. Low disk space
// does not make it unready: uploads are refused, but this replica is the
// one that can still delete files, so it says low_space instead.
func (s *Server) handleReady(c *gin.Context) {
	if err := s.cfg.Ready(c.Request.Context()); err != nil {
		s.log.WarnContext(c.Request.Context(), "not ready", "error", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable"})
		return
	}
	low := s.cfg.LowSpace != nil && s.cfg.LowSpace()
	c.JSON(http.StatusOK, gin.H{"status": "ready", "low_space": low})
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
	s.mcp.ServeHTTP(c.Writer, c.Request)
}
