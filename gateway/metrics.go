package gateway

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sesame-share/sesame"
)

// Metrics are the server's Prometheus metrics, in a registry of their own.
// No label takes values a client chooses: routes are patterns, and
// actions, outcomes and channels come from fixed sets in the code.
type Metrics struct {
	Registry *prometheus.Registry

	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	sent       *prometheus.CounterVec
	received   *prometheus.CounterVec
	events     *prometheus.CounterVec
	signins    *prometheus.CounterVec
	throttles  prometheus.Counter
	locks      prometheus.Counter
	downloads  *prometheus.CounterVec
	uploads    *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	blobErrors *prometheus.CounterVec
}

// NewMetrics makes the registry with the Go runtime and process
// collectors and sesame's own metrics.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		m.Registry.MustRegister(c)
		return c
	}
	m.requests = counter("sesame_http_requests_total", "HTTP requests answered, by route pattern, method and status.", "route", "method", "status")
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sesame_http_request_duration_seconds",
		Help:    "Time from a request's arrival to its last byte sent, by route pattern and method.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}, []string{"route", "method"})
	m.Registry.MustRegister(m.duration)
	m.sent = counter("sesame_http_response_bytes_total", "Body bytes sent, by route pattern.", "route")
	m.received = counter("sesame_http_request_bytes_total", "Body bytes received, by route pattern.", "route")
	m.events = counter("sesame_audit_events_total", "Audit events written, by action and outcome.", "action", "outcome")
	m.signins = counter("sesame_signins_total", "Recipient sign-ins, by outcome and authenticator type.", "outcome", "auth_type")
	m.throttles = prometheus.NewCounter(prometheus.CounterOpts{Name: "sesame_signin_throttles_total", Help: "Sign-ins refused by the per-address backoff."})
	m.locks = prometheus.NewCounter(prometheus.CounterOpts{Name: "sesame_authenticator_locks_total", Help: "Authenticators locked after repeated failures."})
	m.Registry.MustRegister(m.throttles, m.locks)
	m.downloads = counter("sesame_downloads_total", "Recipient downloads (files, archives, views), by outcome.", "outcome")
	m.uploads = counter("sesame_uploads_total", "Recipient uploads, by outcome.", "outcome")
	m.deliveries = counter("sesame_deliveries_total", "Notification delivery attempts, by channel and outcome.", "channel", "outcome")
	m.blobErrors = counter("sesame_blob_errors_total", "Blob store calls that failed, by operation.", "op")
	for _, op := range []string{"create", "finish", "open", "remove"} {
		m.blobErrors.WithLabelValues(op) // a zero, not a missing series
	}
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorLog: nil, Registry: m.Registry})
}

// WatchDBs adds the statistics of connection pools (by pool name).
func (m *Metrics) WatchDBs(dbs map[string]*sql.DB) {
	for name, db := range dbs {
		m.Registry.MustRegister(collectors.NewDBStatsCollector(db, name))
	}
}

// WatchQueues adds the outbox's queue depth and oldest message age,
// read at each scrape.
func (m *Metrics) WatchQueues(q sesame.QueueStats, now func() time.Time) {
	m.Registry.MustRegister(&queueCollector{q: q, now: now})
}

// ObserveAudit counts an audit event: every event by action and outcome,
// and sign-ins, throttles, locks, downloads, uploads and deliveries on
// their own.
func (m *Metrics) ObserveAudit(e *sesame.AuditEvent) {
	outcome := boundedLabel(e.Outcome)
	m.events.WithLabelValues(boundedLabel(e.Action), outcome).Inc()
	switch {
	case e.Action == "signin":
		m.signins.WithLabelValues(outcome, boundedLabel(e.Detail["auth_type"])).Inc()
	case e.Action == "signin.throttled":
		m.throttles.Inc()
	case e.Action == "signin.locked":
		m.locks.Inc()
	case e.Action == "download":
		m.downloads.WithLabelValues(outcome).Inc()
	case e.Action == "upload" || e.Action == "object.put" && e.ActorType == sesame.ActorSession:
		m.uploads.WithLabelValues(outcome).Inc()
	case strings.HasPrefix(e.Action, "notify."):
		m.deliveries.WithLabelValues(boundedLabel(e.Detail["channel"]), strings.TrimPrefix(e.Action, "notify.")).Inc()
	}
}

// BlobError counts a failed blob store call.
func (m *Metrics) BlobError(op string) { m.blobErrors.WithLabelValues(boundedLabel(op)).Inc() }

// boundedLabel keeps a label value to the short words the code writes;
// anything else (never expected) is counted as "other".
func boundedLabel(v string) string {
	if v == "" {
		return "none"
	}
	if len(v) > 40 {
		return "other"
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == ':' || r == '-') {
			return "other"
		}
	}
	return v
}

// observe is the middleware that counts each request once it is answered.
func (m *Metrics) observe(c *gin.Context) {
	start := time.Now()
	var in countingBody
	switch b := c.Request.Body.(type) {
	case *deadlineBody: // counted inside, so that uploadBody still finds it
		in.r, b.ReadCloser = b.ReadCloser, &in
	case nil:
	default:
		if b != http.NoBody {
			in.r, c.Request.Body = b, &in
		}
	}
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "(no route)"
	}
	size := int64(max(c.Writer.Size(), 0))
	if n, ok := c.Get(ctxSentBytes); ok {
		size += n.(int64)
	}
	m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
	m.duration.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
	m.sent.WithLabelValues(route).Add(float64(size))
	m.received.WithLabelValues(route).Add(float64(in.n))
}

// countingBody counts the bytes read from a request body.
type countingBody struct {
	r io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *countingBody) Close() error { return b.r.Close() }

// queueCollector reads the outbox's queues at each scrape.
type queueCollector struct {
	q   sesame.QueueStats
	now func() time.Time
}

var (
	queueDepth  = prometheus.NewDesc("sesame_outbox_pending_messages", "Messages queued or being sent, by channel.", []string{"channel"}, nil)
	queueOldest = prometheus.NewDesc("sesame_outbox_oldest_pending_age_seconds", "Age of the oldest pending message, by channel.", []string{"channel"}, nil)
	queueErrors = prometheus.NewDesc("sesame_outbox_stats_up", "1 when the outbox's queues could be read at this scrape.", nil, nil)
)

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepth
	ch <- queueOldest
	ch <- queueErrors
}

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stats, err := q.q.QueueStats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(queueErrors, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueErrors, prometheus.GaugeValue, 1)
	now := q.now()
	seen := map[string]bool{}
	for _, s := range stats {
		seen[s.Channel] = true
		ch <- prometheus.MustNewConstMetric(queueDepth, prometheus.GaugeValue, float64(s.Pending), boundedLabel(s.Channel))
		ch <- prometheus.MustNewConstMetric(queueOldest, prometheus.GaugeValue, max(0, now.Sub(s.Oldest).Seconds()), boundedLabel(s.Channel))
	}
	for _, c := range []string{string(sesame.ChannelEmail), string(sesame.ChannelSMS), string(sesame.ChannelWebhook)} {
		if !seen[c] { // an empty queue is a zero, not a missing series
			ch <- prometheus.MustNewConstMetric(queueDepth, prometheus.GaugeValue, 0, c)
			ch <- prometheus.MustNewConstMetric(queueOldest, prometheus.GaugeValue, 0, c)
		}
	}
}
