package mcp

import (
	"context"
	"fmt"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sesame-share/sesame"
)

func (t *tools) addLinkSendTools(srv *sdk.Server) {
	addTool(t, srv, &sdk.Tool{Name: "share_link_send",
		Description: "Email a share link to people. Without confirm=true it only returns a preview (recipients, subject and text) " +
			"and sends nothing; show it to the user, then call again with confirm=true to send."}, t.linkSend)
}

type linkSendIn struct {
	LinkID         string   `json:"link_id" jsonschema:"the link to send (psl_...)"`
	Recipients     []string `json:"recipients" jsonschema:"email addresses; each gets its own email"`
	SenderEmail    string   `json:"sender_email" jsonschema:"the address replies go to"`
	SenderName     string   `json:"sender_name,omitempty" jsonschema:"the name shown as the sender"`
	Language       string   `json:"language,omitempty" jsonschema:"the BCP 47 language of the email, such as de or pt-BR; default: the server's"`
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

func (t *tools) linkSend(ctx context.Context, in linkSendIn) (linkSendOut, error) {
	req := sesame.LinkSendRequest{SenderEmail: in.SenderEmail, SenderName: in.SenderName}
	for _, r := range in.Recipients {
		req.Items = append(req.Items, sesame.LinkSend{LinkID: in.LinkID, Email: r, Language: in.Language})
	}
	recipients := append([]string{}, in.Recipients...)
	if !in.Confirm {
		msgs, err := t.cfg.Links.PreviewSend(ctx, req)
		if err != nil {
			return linkSendOut{}, err
		}
		out := linkSendOut{Recipients: recipients, Summary: "Nothing was sent. Show this preview to the user; call again with confirm=true to send."}
		for _, m := range msgs {
			out.Preview = append(out.Preview, sendPreview{To: m.To, Subject: m.Subject, Text: m.Text})
		}
		return out, nil
	}
	ctx, note := t.change(ctx, "share_link_send")
	out, err := idempotent(ctx, t, "share_link_send", in.IdempotencyKey, in, func() (linkSendOut, error) {
		if _, err := t.cfg.Links.Send(ctx, req); err != nil {
			return linkSendOut{}, err
		}
		return linkSendOut{Sent: true, Recipients: recipients,
			Summary: fmt.Sprintf("Queued %d email(s); delivery is retried if the mail server is down.", len(in.Recipients))}, nil
	})
	t.record(ctx, note, err, in.LinkID, "")
	return out, err
}
