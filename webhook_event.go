package sesame

import "time"

// The events' data: what a receiver needs to act (ids to look things up
// with, times and counts) and nothing a recipient or a file would not
// want copied elsewhere (tokens, passwords, codes, addresses, names,
// contents). The adapters that see a change build its event with these,
// so that every event of a type has the same shape wherever it arose.

// LinkEvent describes link l as of the change, for an event of type t at
// time at.
func LinkEvent(t EventType, l *Link, at time.Time) *Event {
	targets := make([]string, len(l.Targets))
	copy(targets, l.Targets)
	return &Event{Type: t, Time: at, LinkID: l.ID, Data: map[string]any{
		"link_id":          l.ID,
		"link_type":        string(l.Type),
		"bucket_id":        l.BucketID,
		"targets":          targets,
		"created_at":       FormatTime(l.Created),
		"created_by":       l.CreatedBy,
		"expires_at":       FormatTime(l.Expires),
		"access_count":     l.AccessCount,
		"max_access_count": l.MaxAccessCount,
		"downloads":        l.Downloads,
		"max_downloads":    l.MaxDownloads,
	}}
}

// Why a link ran out (link.exhausted's reason).
const (
	ExhaustedAccess    = "access_count"
	ExhaustedDownloads = "downloads"
)

// ObjectEvent describes object o for an event of type t at time at;
// linkID is the link the change went through ("" for the API).
func ObjectEvent(t EventType, o *Object, linkID string, at time.Time) *Event {
	data := map[string]any{
		"object_id": o.ID,
		"bucket_id": o.BucketID,
		"parent_id": o.ParentID,
		"type":      o.Type,
		"size":      o.Size,
	}
	if linkID != "" {
		data["link_id"] = linkID
	}
	return &Event{Type: t, Time: at, LinkID: linkID, Data: data}
}

// DownloadEvent is object.downloaded: a recipient of link l, in session
// sessionID, got sent bytes of objectID (empty for an archive of several).
func DownloadEvent(l *Link, sessionID, objectID string, sent int64, at time.Time) *Event {
	data := map[string]any{
		"link_id":    l.ID,
		"bucket_id":  l.BucketID,
		"session_id": sessionID,
		"bytes":      sent,
		"archive":    objectID == "",
	}
	if objectID != "" {
		data["object_id"] = objectID
	}
	return &Event{Type: EventObjectDownloaded, Time: at, LinkID: l.ID, Data: data}
}

// NotificationFailedEvent is notification.failed: the outbox gave up on
// message n (an email or SMS) after attempts tries; reason is its failure
// category.
func NotificationFailedEvent(n *Notification, reason string, at time.Time) *Event {
	data := map[string]any{
		"notification_id": n.ID,
		"channel":         string(n.Message.Channel),
		"kind":            n.Message.Kind,
		"attempts":        n.Attempts,
		"reason":          reason,
	}
	if n.Message.LinkID != "" {
		data["link_id"] = n.Message.LinkID
	}
	return &Event{Type: EventNotificationFailed, Time: at, LinkID: n.Message.LinkID, Data: data}
}
