package testrig

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// ReceivedWebhook is one webhook a WebhookReceiver accepted.
type ReceivedWebhook struct {
	ID        string // the webhook-id header
	Timestamp time.Time
	Type      string
	EventTime string // the body's timestamp
	Data      map[string]any
	Body      []byte
}

// Receiver states.
const (
	ReceiverUp    = iota // verifies and accepts
	ReceiverError        // answers 503 without reading
	ReceiverDrop         // closes the connection without an answer
)

// WebhookReceiver is an integrating app's webhook endpoint: an HTTP server
// on 127.0.0.1 that verifies every request with the Standard Webhooks
// reference library (its Go port), as any receiver would, and accepts it
// with 204. It records what it accepted and, to tell repeats, how often
// it accepted each webhook-id. It can be down for a while (SetState).
type WebhookReceiver struct {
	URL    string
	server *httptest.Server
	clock  *Clock

	mu       sync.Mutex // guards the fields below
	secrets  []string
	state    int
	seen     map[string]int // webhook-id → times accepted
	requests []string       // the webhook-id of every request, in order
	rejected []string       // why requests failed verification
	accepted arrivals[ReceivedWebhook]
}

// NewWebhookReceiver starts a receiver. With a clock, a timestamp must be
// within five minutes of the clock's time (the library checks signatures
// and ids); without one the library checks timestamps against the wall
// clock itself, as in production.
func NewWebhookReceiver(t testing.TB, clock *Clock) *WebhookReceiver {
	t.Helper()
	r := &WebhookReceiver{clock: clock, seen: map[string]int{}}
	r.server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.server.Close)
	r.URL = r.server.URL + "/hooks/sesame"
	return r
}

// Port is the port the receiver listens on.
func (r *WebhookReceiver) Port() string {
	_, port, _ := net.SplitHostPort(r.server.Listener.Addr().String())
	return port
}

// SetSecrets sets the secrets (whsec_…) a request may be signed with.
func (r *WebhookReceiver) SetSecrets(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets = secrets
}

// SetState makes the receiver up, failing or unreachable.
func (r *WebhookReceiver) SetState(state int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state = state
}

func (r *WebhookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	r.requests = append(r.requests, id)
	state, secrets := r.state, r.secrets
	r.mu.Unlock()
	switch state {
	case ReceiverError:
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	case ReceiverDrop:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "unreadable", http.StatusBadRequest)
		return
	}
	got, why := r.verify(secrets, req.Header, body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if why != "" {
		r.rejected = append(r.rejected, why)
		http.Error(w, why, http.StatusUnauthorized)
		return
	}
	r.seen[id]++
	r.accepted.add(got)
	w.WriteHeader(http.StatusNoContent)
}

// verify checks a request with the reference library and decodes it;
// why says what is wrong with it.
func (r *WebhookReceiver) verify(secrets []string, h http.Header, body []byte) (ReceivedWebhook, string) {
	ok := false
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return ReceivedWebhook{}, "bad secret: " + err.Error()
		}
		if r.clock == nil {
			err = wh.Verify(body, h)
		} else {
			err = wh.VerifyIgnoringTimestamp(body, h)
		}
		ok = ok || err == nil
	}
	if !ok {
		return ReceivedWebhook{}, "no signature verifies"
	}
	sec, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if err != nil {
		return ReceivedWebhook{}, "bad timestamp"
	}
	ts := time.Unix(sec, 0)
	if r.clock != nil {
		if d := ts.Sub(r.clock.Now()); d > 5*time.Minute || d < -5*time.Minute {
			return ReceivedWebhook{}, "timestamp too far from now"
		}
	}
	var ev struct {
		Type      string         `json:"type"`
		Timestamp string         `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" || ev.Timestamp == "" || ev.Data == nil {
		return ReceivedWebhook{}, "body is not {type, timestamp, data}"
	}
	return ReceivedWebhook{ID: h.Get("webhook-id"), Timestamp: ts, Type: ev.Type, EventTime: ev.Timestamp, Data: ev.Data, Body: body}, ""
}

// Next waits at most d for the next accepted webhook.
func (r *WebhookReceiver) Next(t testing.TB, d time.Duration) ReceivedWebhook {
	t.Helper()
	return r.accepted.wait(t, d, "webhook")
}

// Accepted returns every webhook accepted so far, in order.
func (r *WebhookReceiver) Accepted() []ReceivedWebhook { return r.accepted.all() }

// Times returns how often each webhook-id was accepted.
func (r *WebhookReceiver) Times() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.seen))
	for k, v := range r.seen {
		out[k] = v
	}
	return out
}

// Requests returns the webhook-id of every request received, accepted or
// not, in order.
func (r *WebhookReceiver) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...)
}

// Rejected returns why requests failed verification.
func (r *WebhookReceiver) Rejected() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rejected...)
}
