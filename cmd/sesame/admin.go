package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/gateway"
)

const auditSynopsis = "sesame audit tail [--filter JSON] [--size N] [--follow] [--json] [--config FILE] [--data DIR]"

// followEvery is how often audit tail --follow looks for new events.
const followEvery = time.Second

// runAudit is the audit command: tail prints the newest events (oldest of
// them first) with the API's filters and, with --follow, each new event
// as it is written, until interrupted.
func runAudit(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "tail" {
		fmt.Fprintf(stderr, "Usage:\n  %s\n", auditSynopsis)
		return fmt.Errorf("audit: say tail")
	}
	var g globals
	var lf listFlags
	follow := false
	fs := newFlags("audit tail", auditSynopsis)
	g.register(fs, false)
	lf.register(fs, `{"action": "signin"}`, "print one JSON object per line")
	fs.IntVar(&lf.size, "size", 20, "how many of the newest events to print first")
	fs.BoolVar(&follow, "follow", false, "keep printing new events until interrupted")
	newest, st, err := listCommand(ctx, fs, &g, &lf, args[1:], environ, stdout, stderr, gateway.AuditList)
	if err != nil {
		return err
	}
	defer st.Close()
	page, err := st.FindAudit(ctx, newest)
	if err != nil {
		return cliErr(err)
	}
	p := auditPrinter{w: stdout, json: lf.json}
	var lastID int64
	for i := len(page.Events) - 1; i >= 0; i-- { // oldest first, as a log reads
		p.print(page.Events[i])
		lastID = max(lastID, page.Events[i].ID)
	}
	if !follow {
		return nil
	}
	// Newer events: ascending, after the newest seen (the store's audit
	// cursor is the event id).
	after := newest
	after.Desc, after.Size = false, 100
	after.After = &sesame.Cursor{OrderBy: "id", ID: strconv.FormatInt(lastID, 10)}
	t := time.NewTicker(followEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		page, err := st.FindAudit(ctx, after)
		if err != nil {
			fmt.Fprintln(stderr, "sesame: audit tail:", err)
			continue
		}
		for _, e := range page.Events {
			p.print(e)
			lastID = e.ID
		}
		after.After = &sesame.Cursor{OrderBy: "id", ID: strconv.FormatInt(lastID, 10)}
	}
}

// auditPrinter prints events as a line each: text for people, or JSON.
type auditPrinter struct {
	w    io.Writer
	json bool
}

func (p auditPrinter) print(e *sesame.AuditEvent) {
	if p.json {
		_ = writeJSONLine(p.w, gateway.AuditViews([]*sesame.AuditEvent{e})[0]) // a broken pipe ends the command anyway
		return
	}
	var detail []string
	for k, v := range e.Detail {
		detail = append(detail, k+"="+v)
	}
	fmt.Fprintf(p.w, "%s  %-18s %-14s %-10s link=%s object=%s ip=%s %s\n", sesame.FormatTime(e.Time), e.Action, e.Outcome, e.ActorType,
		orDash(e.LinkID), orDash(e.ObjectID), orDash(e.IP), strings.Join(detail, " "))
}

const outboxSynopsis = "sesame outbox list [--filter JSON] [--size N] [--last CURSOR] [--json] [--config FILE] [--data DIR]"

// runOutbox is the outbox command: list shows deliveries, newest first,
// with the API's filters (e.g. '{"status": "failed"}'); recipients are
// masked as in the API.
func runOutbox(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		fmt.Fprintf(stderr, "Usage:\n  %s\n", outboxSynopsis)
		return fmt.Errorf("outbox: say list")
	}
	var g globals
	var lf listFlags
	fs := newFlags("outbox list", outboxSynopsis)
	g.register(fs, false)
	lf.register(fs, `{"status": "failed"}`, "print JSON, as the API's result")
	fs.IntVar(&lf.size, "size", 0, "deliveries per page (default as the API)")
	fs.StringVar(&lf.last, "last", "", "the cursor of the previous page")
	filter, st, err := listCommand(ctx, fs, &g, &lf, args[1:], environ, stdout, stderr, gateway.NotificationList)
	if err != nil {
		return err
	}
	defer st.Close()
	page, err := st.FindNotifications(ctx, filter)
	if err != nil {
		return cliErr(err)
	}
	last := ""
	if page.Next != nil {
		last = page.Next.Encode()
	}
	views := gateway.NotificationViews(page.Notifications)
	if lf.json {
		return writeJSON(stdout, map[string]any{"count": page.Count, "notifications": views, "last": last})
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCHANNEL\tKIND\tSTATUS\tATTEMPTS\tTO\tLINK\tQUEUED\tNEXT ATTEMPT\tLAST ERROR")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.Channel, v.Kind, v.Status, v.Attempts, v.Recipient,
			orDash(v.LinkID), v.CreatedAt, orDash(v.NextAttempt), orDash(v.LastError))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d of %d deliveries", len(views), page.Count)
	if last != "" {
		fmt.Fprintf(stderr, "; next page: --last %s", last)
	}
	fmt.Fprintln(stderr)
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeJSONLine prints v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
