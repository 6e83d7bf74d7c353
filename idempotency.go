package sesame

import (
	"bytes"
	"context"
)

// MaxIdempotencyKeyLen caps an idempotency key, as Stripe does.
const MaxIdempotencyKeyLen = 255

// IdempotencyKey is one token's idempotency key on one route. The first
// call with the key runs and what it answered is kept, so that a retry gets
// the same answer instead of doing the work twice (Stripe's semantics). The
// API's Idempotency-Key header and the MCP tools' idempotency_key both go
// through it.
type IdempotencyKey struct {
	Store   AuditLog
	TokenID string
	Key     string
	Route   string
	// Namespace keeps one adapter's keys apart from another's ("mcp");
	// empty for the API.
	Namespace string
	// Source points at where the key came from, for errors: a JSON pointer
	// such as "/idempotency_key", or "" for a header.
	Source string
}

func (k IdempotencyKey) stored() string {
	if k.Namespace == "" {
		return k.Key
	}
	return k.Namespace + ":" + k.Key
}

// Claim claims the key for a call about to run and returns nil. For a
// repeat it returns the earlier call's response when the route and the
// fingerprint of the input match, Conflict while that call still runs, and
// Unprocessable when the key was used for another route or input.
// fingerprint is asked for only on a repeat, so that the caller may hash a
// streamed body while the first call reads it. A key longer than
// MaxIdempotencyKeyLen is Invalid.
func (k IdempotencyKey) Claim(ctx context.Context, fingerprint func() ([]byte, error)) (*IdempotentResponse, error) {
	if len(k.Key) > MaxIdempotencyKeyLen {
		return nil, FieldErr("AboveMaxLength", k.Source, "an idempotency key must be at most %d characters", MaxIdempotencyKeyLen)
	}
	prev, err := k.Store.BeginIdempotent(ctx, k.TokenID, k.stored(), k.Route)
	if err != nil || prev == nil {
		return nil, err
	}
	if prev.State != IdempotencyDone {
		return nil, Errorf(Conflict, "A request with this idempotency key is still in progress; retry shortly.")
	}
	fp, err := fingerprint()
	if err != nil {
		return nil, err
	}
	if prev.Route != k.Route || !bytes.Equal(fp, prev.Fingerprint) {
		return nil, Errorf(Unprocessable, "This idempotency key was used for a different request; use a new key for a new request.")
	}
	return prev, nil
}

// Settle records what the call that claimed the key did. With keep, the
// response (status and body) is stored for replay under the input's
// fingerprint; without it the key is released, so that a retry runs
// again (after a server fault, say). It runs even when ctx is cancelled.
func (k IdempotencyKey) Settle(ctx context.Context, keep bool, fingerprint []byte, status int, body []byte) error {
	ctx = context.WithoutCancel(ctx)
	if !keep {
		return k.Store.AbandonIdempotent(ctx, k.TokenID, k.stored())
	}
	return k.Store.FinishIdempotent(ctx, k.TokenID, k.stored(), fingerprint, status, body)
}
