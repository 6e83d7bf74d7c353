package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/sesame-share/sesame"
)

// MaxAttempts is how often a message is tried before it fails for good.
const MaxAttempts = 8

// retryDelays spaces the tries: after try n the next comes retryDelays[n-1]
// later (with ±20% jitter), 8 tries over about 24 hours.
var retryDelays = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 4 * time.Hour, 7 * time.Hour, 10 * time.Hour}

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	Outbox sesame.Outbox
	Email  sesame.Notifier
	SMS    sesame.Notifier
	// Webhooks posts webhook messages; without it they wait for a worker
	// that has it.
	Webhooks sesame.WebhookSender
	// SMSDailyBudget caps SMS sent in any 24 hours; past it, SMS fail
	// rather than run up a bill. 0 means no SMS at all.
	SMSDailyBudget int
	// Interval is how often the outbox is polled (default 1s).
	Interval time.Duration
	// SendTimeout bounds one delivery (default 30s).
	SendTimeout time.Duration
	Logger      *slog.Logger
	Now         func() time.Time
	// Jitter returns a factor in [0.8, 1.2); tests may fix it.
	Jitter func() float64
}

// Worker delivers due messages from the outbox.
type Worker struct {
	cfg  WorkerConfig
	log  *slog.Logger
	wake chan struct{}
}

// NewWorker validates cfg.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Outbox == nil || cfg.Email == nil || cfg.SMS == nil {
		return nil, errors.New("notify: worker needs Outbox, Email and SMS")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func() float64 { return 0.8 + 0.4*rand.Float64() }
	}
	w := &Worker{cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1)}
	if w.log == nil {
		w.log = slog.Default()
	}
	return w, nil
}

// Wake asks the worker to look at the outbox now.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		for {
			n, err := w.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				w.log.Error("outbox", "error", err)
			}
			if n == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// batchSize is how many messages RunOnce tries at most.
const batchSize = 20

// RunOnce delivers up to batchSize due messages and returns how many it
// tried. It claims each message just before it sends it, leased for twice
// the send timeout: a message waiting behind slow sends stays free for
// another replica's worker, and one being sent cannot be taken by it. A
// message is sent twice only when a process dies between the provider's
// acceptance and the one UPDATE that records it (MarkSent).
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	for tried := 0; tried < batchSize; tried++ {
		claimed, err := w.cfg.Outbox.ClaimDue(ctx, w.cfg.Now(), 2*w.cfg.SendTimeout, 1)
		if err != nil || len(claimed) == 0 {
			return tried, err
		}
		w.deliver(ctx, claimed[0])
	}
	return batchSize, nil
}

func (w *Worker) deliver(ctx context.Context, n *sesame.Notification) {
	// Outcomes are recorded even when ctx ends mid-send.
	bg := context.WithoutCancel(ctx)
	if n.Message.Channel == sesame.ChannelSMS {
		sent, err := w.cfg.Outbox.CountSent(ctx, sesame.ChannelSMS, w.cfg.Now().Add(-24*time.Hour))
		if err != nil {
			w.log.Error("sms budget", "error", err)
			return // the lease runs out and the message is tried again
		}
		if sent >= w.cfg.SMSDailyBudget {
			w.finish(bg, n, "", fmt.Errorf("the daily SMS budget of %d is spent: %w", w.cfg.SMSDailyBudget, sesame.ErrSMSBudget), true)
			return
		}
	}
	tr := w.cfg.Email
	if n.Message.Channel == sesame.ChannelSMS {
		tr = w.cfg.SMS
	}
	sctx, cancel := context.WithTimeout(ctx, w.cfg.SendTimeout)
	var id string
	var err error
	switch {
	case n.Message.Channel != sesame.ChannelWebhook:
		id, err = tr.Notify(sctx, &n.Message)
	case w.cfg.Webhooks == nil:
		err = sesame.Errorf(sesame.Unavailable, "this process delivers no webhooks")
	default:
		id, err = w.cfg.Webhooks.SendWebhook(sctx, n)
	}
	cancel()
	w.finish(bg, n, id, err, sesame.KindOf(err) == sesame.Invalid)
}

// finish records the outcome of one try in the outbox and the audit trail.
func (w *Worker) finish(ctx context.Context, n *sesame.Notification, providerID string, sendErr error, permanent bool) {
	mask := maskRecipient(n.Message)
	var failure, category string
	if sendErr != nil {
		category = sesame.FailureCategory(sendErr)
		// Providers repeat the recipient in their errors; the outbox, the
		// audit trail and the log keep it masked.
		failure = strings.ReplaceAll(sesame.DescribeFailure(sendErr), n.Message.To, mask)
		sendErr = errors.New(failure)
	}
	// The outcome and its audit event are written in one transaction.
	ev := &sesame.AuditNote{Actor: "outbox", ActorType: sesame.ActorSystem, LinkID: n.Message.LinkID,
		Detail: map[string]string{"notification_id": n.ID, "channel": string(n.Message.Channel), "to": mask, "kind": n.Message.Kind, "attempt": fmt.Sprint(n.Attempts)}}
	actx := sesame.WithAudit(ctx, ev)
	var err error
	switch {
	case sendErr == nil:
		ev.Action, ev.Outcome = "notify.sent", "success"
		ev.Detail["provider_id"] = providerID
		err = w.cfg.Outbox.MarkSent(actx, n.ID, providerID, w.cfg.Now())
		w.log.Debug("notification sent", "notification_id", n.ID, "channel", n.Message.Channel, "to", mask, "provider_id", providerID)
	case permanent || n.Attempts >= MaxAttempts:
		ev.Action, ev.Outcome = "notify.failed", "failure"
		ev.Detail["error"] = category
		err = w.cfg.Outbox.MarkFailed(actx, n.ID, failure)
		w.log.Warn("notification failed", "notification_id", n.ID, "channel", n.Message.Channel, "to", mask, "attempts", n.Attempts, "error", sendErr)
	default:
		delay := retryDelays[min(n.Attempts, len(retryDelays))-1]
		next := w.cfg.Now().Add(time.Duration(float64(delay) * w.cfg.Jitter()))
		ev.Action, ev.Outcome = "notify.retry", "failure"
		ev.Detail["error"] = category
		ev.Detail["next_attempt_at"] = sesame.FormatTime(next)
		err = w.cfg.Outbox.MarkRetry(actx, n.ID, failure, next)
		w.log.Warn("notification will be retried", "notification_id", n.ID, "channel", n.Message.Channel, "to", mask, "attempts", n.Attempts, "next_attempt_at", next, "error", sendErr)
	}
	if err != nil {
		w.log.Error("outbox", "notification_id", n.ID, "error", err)
	}
}

func maskRecipient(m sesame.Message) string {
	switch m.Channel {
	case sesame.ChannelSMS:
		return sesame.MaskPhone(m.To)
	case sesame.ChannelWebhook:
		return m.To // the webhook's id
	}
	return sesame.MaskEmail(m.To)
}
