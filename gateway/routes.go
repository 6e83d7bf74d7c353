package gateway

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sesame-share/sesame"
)

func (s *Server) routes() {
	e := s.engine
	e.Use(s.requestID, s.accessLog, s.recovery)

	e.GET("/healthz", s.handleHealth)
	e.GET("/readyz", s.handleReady)

	for _, prefix := range []string{"/v1", "/v1beta"} {
		g := e.Group(prefix)
		g.POST("/buckets", s.auth(sesame.ScopeObjectsRead), s.handleBuckets)
		g.POST("/folder/create", s.auth(sesame.ScopeObjectsWrite), s.handleFolderCreate)
		g.POST("/put", s.auth(sesame.ScopeObjectsWrite), s.handlePut)
		g.POST("/get", s.auth(sesame.ScopeObjectsRead), s.handleGet)
		g.POST("/get_archive", s.auth(sesame.ScopeObjectsRead), s.handleGetArchive)
		g.POST("/list", s.auth(sesame.ScopeObjectsRead), s.handleList)
		g.POST("/update", s.auth(sesame.ScopeObjectsWrite), s.handleUpdate)
		g.POST("/delete", s.auth(sesame.ScopeObjectsWrite), s.handleDelete)
	}
	e.GET("/request/:id", s.auth(sesame.ScopeObjectsWrite), s.handleRequestPoll)

	// Capability URLs: the secret in the path is the credential.
	e.POST("/upload/:secret", s.handleUploadPost)
	e.PUT("/upload/:secret", s.handleUploadPut)
	e.GET("/dl/:secret", s.handleDownload)
	e.HEAD("/dl/:secret", s.handleDownload)
	e.GET("/dl/:secret/:name", s.handleDownload)
	e.HEAD("/dl/:secret/:name", s.handleDownload)

	e.NoRoute(func(c *gin.Context) {
		s.fail(c, &sesame.Error{Kind: sesame.NotFound, Message: "There is no endpoint at " + c.Request.Method + " " + c.Request.URL.Path + "."})
	})
}

func (s *Server) handleHealth(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) handleReady(c *gin.Context) {
	if err := s.cfg.Ready(c.Request.Context()); err != nil {
		s.log.Warn("not ready", "error", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
