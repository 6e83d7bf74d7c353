package sesame

import "context"

// Get returns a live or expired link. The caller needs links:read.
func (s *LinkService) Get(ctx context.Context, id string) (*Link, error) {
	if err := require(ctx, "", "This token cannot read links", ScopeLinksRead); err != nil {
		return nil, err
	}
	return s.Store.LinkByID(ctx, id)
}

// Find returns one page of links. The caller needs links:read.
func (s *LinkService) Find(ctx context.Context, f LinkFilter) (*LinkPage, error) {
	if err := require(ctx, "", "This token cannot read links", ScopeLinksRead); err != nil {
		return nil, err
	}
	return s.Store.FindLinks(ctx, f)
}

// Delete revokes the links at once, all or none. The caller needs
// links:write.
func (s *LinkService) Delete(ctx context.Context, ids []string) ([]*Link, error) {
	if err := require(ctx, "", "This token cannot delete links", ScopeLinksWrite); err != nil {
		return nil, err
	}
	return s.Store.DeleteLinks(ctx, ids)
}

// Revoke deletes one link, idempotently: already reports that it was
// deleted before. The caller needs links:write.
func (s *LinkService) Revoke(ctx context.Context, id string) (*Link, bool, error) {
	if err := require(ctx, "", "This token cannot delete links", ScopeLinksWrite); err != nil {
		return nil, false, err
	}
	return s.Store.RevokeLink(ctx, id)
}

// Send emails links to people, through the mailer's durable outbox. The
// caller needs links:send, whichever adapter or field (share/link/send, or
// send_params on create) asks for it.
func (s *LinkService) Send(ctx context.Context, req LinkSendRequest) ([]*Link, error) {
	if err := require(ctx, "", "This token cannot send links", ScopeLinksSend); err != nil {
		return nil, err
	}
	return s.Mailer.SendLinks(ctx, req)
}

// PreviewSend renders what Send would queue, without queueing it.
func (s *LinkService) PreviewSend(ctx context.Context, req LinkSendRequest) ([]*Message, error) {
	if err := require(ctx, "", "This token cannot send links", ScopeLinksSend); err != nil {
		return nil, err
	}
	return s.Mailer.Preview(ctx, req)
}
