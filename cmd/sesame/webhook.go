package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/store"
)

const webhookUsage = `Usage:
  sesame webhook create --url URL --events EVENT[,EVENT...]|all [--description TEXT] [--disabled] [--json] [--config FILE] [--data DIR]
  sesame webhook list [--json] [--config FILE] [--data DIR]
  sesame webhook update ID [--url URL] [--events ...] [--description TEXT] [--enable|--disable] [--rotate-secret] [--json] [--config FILE] [--data DIR]
  sesame webhook delete ID [--json] [--config FILE] [--data DIR]

Events: link.created link.updated link.revoked link.accessed link.locked link.exhausted
        object.downloaded object.uploaded object.deleted notification.failed (or all)
The signing secret (whsec_...) is printed once, by create and by update --rotate-secret.
"sesame webhook COMMAND --help" shows the flags of one command.
`

var webhookSynopsis = map[string]string{
	"create": "sesame webhook create --url URL --events EVENT[,EVENT...]|all [--description TEXT] [--disabled] [--json] [--config FILE] [--data DIR]",
	"list":   "sesame webhook list [--json] [--config FILE] [--data DIR]",
	"update": "sesame webhook update ID [--url URL] [--events ...] [--description TEXT] [--enable|--disable] [--rotate-secret] [--json] [--config FILE] [--data DIR]",
	"delete": "sesame webhook delete ID [--json] [--config FILE] [--data DIR]",
}

// webhookFlags are the flags of the webhook commands.
type webhookFlags struct {
	url, events, description  string
	disabled, enable, disable bool
	rotate, json              bool
	set                       map[string]bool // the flags given
}

// runWebhook is the webhook command: the same rules as the API's
// /v1/webhooks/..., run by the operator, recorded in the audit log as
// the operator's.
func runWebhook(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, webhookUsage)
		return errors.New("webhook: say create, list, update or delete")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, webhookUsage)
		return nil
	case "create", "list", "update", "delete":
	default:
		return fmt.Errorf("webhook: unknown subcommand %q (say create, list, update or delete)", sub)
	}
	var g globals
	var f webhookFlags
	fs := newFlags("webhook "+sub, webhookSynopsis[sub])
	g.register(fs, false)
	f.register(fs, sub)
	pos, err := parseInterleaved(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	needsID := sub == "update" || sub == "delete"
	switch {
	case needsID && len(pos) != 1:
		return fmt.Errorf("webhook %s: give exactly one webhook id", sub)
	case !needsID && len(pos) > 0:
		return fmt.Errorf("webhook %s: unexpected argument %q", sub, pos[0])
	case f.enable && f.disable:
		return errors.New("webhook update: say --enable or --disable, not both")
	}
	cfg, err := g.load(environ, stderr)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.storeConfig(newLogger(cfg, stderr)))
	if err != nil {
		return cliErr(err)
	}
	defer st.Close()
	ctx = sesame.WithToken(ctx, &sesame.Token{ID: "cli", Name: "sesame webhook", Scopes: []sesame.Scope{sesame.ScopeAdmin}})
	ctx = sesame.WithAudit(ctx, &sesame.AuditNote{Actor: "cli", ActorType: sesame.ActorOperator, Action: "webhook." + sub})
	svc := &sesame.WebhookService{Store: st, Deliveries: st, Policy: cfg.WebhookPolicy()}
	return f.run(ctx, svc, sub, pos, stdout, stderr)
}

func (f *webhookFlags) register(fs *flag.FlagSet, sub string) {
	if sub == "create" || sub == "update" {
		fs.StringVar(&f.url, "url", "", "the http or https URL that receives the events")
		fs.StringVar(&f.events, "events", "", "comma-separated events, or all")
		fs.StringVar(&f.description, "description", "", "a note for people")
	}
	switch sub {
	case "create":
		fs.BoolVar(&f.disabled, "disabled", false, "create it disabled: no events are sent until it is enabled")
	case "update":
		fs.BoolVar(&f.enable, "enable", false, "send events again")
		fs.BoolVar(&f.disable, "disable", false, "stop sending events")
		fs.BoolVar(&f.rotate, "rotate-secret", false, "issue a new signing secret (the old one also signs for 24 hours)")
	}
	fs.BoolVar(&f.json, "json", false, "print JSON instead of a table")
}

func (f *webhookFlags) run(ctx context.Context, svc *sesame.WebhookService, sub string, pos []string, stdout, stderr io.Writer) error {
	var w *sesame.Webhook
	var err error
	switch sub {
	case "list":
		list, err := svc.List(ctx)
		if err != nil {
			return cliErr(err)
		}
		return printWebhooks(stdout, list, f.json)
	case "create":
		w, err = svc.Create(ctx, sesame.WebhookCreate{URL: f.url, Events: parseEvents(f.events), Description: f.description, Disabled: f.disabled})
	case "update":
		w, err = svc.Update(ctx, pos[0], f.update())
	case "delete":
		w, err = svc.Delete(ctx, pos[0])
	}
	if err != nil {
		return webhookErr(err)
	}
	if f.json {
		return printJSON(stdout, gateway.ViewWebhook(w))
	}
	if w.Secret != "" {
		fmt.Fprintln(stdout, w.Secret)
		fmt.Fprintf(stderr, "The secret above signs what %s is sent; it is shown only once.\n", w.ID)
	}
	if sub == "delete" {
		fmt.Fprintln(stderr, "Deleted", w.ID)
		return nil
	}
	return printWebhooks(stderr, []*sesame.Webhook{w}, false)
}

// update is the change the flags given ask for.
func (f *webhookFlags) update() sesame.WebhookUpdate {
	upd := sesame.WebhookUpdate{RotateSecret: f.rotate}
	if f.set["url"] {
		upd.URL = &f.url
	}
	if f.set["events"] {
		upd.Events = parseEvents(f.events)
		if upd.Events == nil {
			upd.Events = []sesame.EventType{}
		}
	}
	if f.set["description"] {
		upd.Description = &f.description
	}
	if f.enable || f.disable {
		upd.Disabled = &f.disable
	}
	return upd
}

// parseEvents reads --events: names separated by commas, or all.
func parseEvents(s string) []sesame.EventType {
	if strings.TrimSpace(s) == "all" {
		return append([]sesame.EventType(nil), sesame.EventTypes...)
	}
	var out []sesame.EventType
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, sesame.EventType(e))
		}
	}
	return out
}

// webhookErr turns a validation error into what the flags were called.
func webhookErr(err error) error {
	e := sesame.AsError(err)
	if e == nil || len(e.Fields) == 0 {
		return cliErr(err)
	}
	msgs := make([]string, len(e.Fields))
	for i, fe := range e.Fields {
		name := strings.TrimPrefix(fe.Source, "/")
		if field, _, _ := strings.Cut(name, "/"); field != "" {
			name = "--" + field
		}
		msgs[i] = name + ": " + fe.Detail
	}
	return errors.New(strings.Join(msgs, "; "))
}

// cliWebhookJSON is a webhook as --json prints it: as the API shows it.
type cliWebhookJSON = gateway.WebhookView

func eventNames(events []sesame.EventType) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = string(e)
	}
	return out
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printWebhooks(w io.Writer, list []*sesame.Webhook, asJSON bool) error {
	if asJSON {
		out := make([]cliWebhookJSON, len(list))
		for i, h := range list {
			out[i] = gateway.ViewWebhook(h)
		}
		return printJSON(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tURL\tEVENTS\tSTATUS\tCREATED\tDESCRIPTION")
	for _, h := range list {
		status := "enabled"
		if h.Disabled {
			status = "disabled"
		}
		events := strings.Join(eventNames(h.Events), ",")
		if len(h.Events) == len(sesame.EventTypes) {
			events = "all"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.URL, events, status, day(h.Created), h.Description)
	}
	return tw.Flush()
}
