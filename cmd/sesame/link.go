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
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/gateway"
	"github.com/sesame-share/sesame/store"
)

const linksSynopsis = `sesame links list [--filter JSON] [--order-by FIELD] [--order asc|desc] [--size N] [--last CURSOR] [--bucket ID] [--json]
  sesame links revoke ID... [--json]
  (each also takes --config FILE and --data DIR)`

// runLinks is the links command: list pages through the links with the
// API's filters, orders and cursors; revoke kills links for every server
// on the same database at once (each request reads the link's state),
// recorded in the audit log as the operator's. "sesame link revoke ID"
// still works.
func runLinks(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "list":
		return runLinksList(ctx, args, environ, stdout, stderr)
	case "revoke":
		return runLinksRevoke(ctx, args, environ, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintf(stdout, "Usage:\n  %s\n", linksSynopsis)
		return nil
	}
	fmt.Fprintf(stderr, "Usage:\n  %s\n", linksSynopsis)
	return errors.New("links: say list or revoke")
}

// listFlags are the flags of the list commands: the API's list body, and
// how to print it.
type listFlags struct {
	filter, orderBy, order, last, bucket string
	size                                 int
	json                                 bool
}

// register adds the flags every list command has: the filter and JSON
// output.
func (f *listFlags) register(fs *flag.FlagSet, example, jsonHelp string) {
	fs.StringVar(&f.filter, "filter", "", "the API's filter, as JSON (e.g. '"+example+"')")
	fs.BoolVar(&f.json, "json", false, jsonHelp)
}

// listCommand parses a list command's flags (g's and lf's among them), reads the
// filter they make as the API reads its body (parse), and opens the store,
// which the caller closes.
func listCommand[F any](ctx context.Context, fs *flag.FlagSet, g *globals, lf *listFlags, args, environ []string, stdout, stderr io.Writer,
	parse func([]byte) (F, error)) (F, *store.Store, error) {
	var zero F
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return zero, nil, err
	}
	body, err := lf.body()
	if err != nil {
		return zero, nil, err
	}
	filter, err := parse(body)
	if err != nil {
		return zero, nil, cliErr(err)
	}
	st, err := openCLIStore(ctx, *g, environ, stderr)
	if err != nil {
		return zero, nil, err
	}
	return filter, st, nil
}

// body is the list call's JSON body, as the API takes it.
func (f listFlags) body() ([]byte, error) {
	req := map[string]any{}
	if f.filter != "" {
		var raw json.RawMessage
		if err := json.Unmarshal([]byte(f.filter), &raw); err != nil {
			return nil, fmt.Errorf("--filter is not JSON: %w", err)
		}
		req["filter"] = raw
	}
	for k, v := range map[string]string{"order_by": f.orderBy, "order": f.order, "last": f.last, "bucket_id": f.bucket} {
		if v != "" {
			req[k] = v
		}
	}
	if f.size > 0 {
		req["size"] = f.size
	}
	return json.Marshal(req)
}

func runLinksList(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	var g globals
	var lf listFlags
	fs := newFlags("links list", linksSynopsis)
	g.register(fs, false)
	lf.register(fs, `{"tags": ["q3"]}`, "print JSON, as the API's result")
	fs.StringVar(&lf.orderBy, "order-by", "", "the field to sort by (as order_by in the API)")
	fs.StringVar(&lf.order, "order", "", "asc or desc")
	fs.IntVar(&lf.size, "size", 0, "links per page (default as the API)")
	fs.StringVar(&lf.last, "last", "", "the cursor of the previous page")
	fs.StringVar(&lf.bucket, "bucket", "", "the bucket (default: the default bucket)")
	filter, st, err := listCommand(ctx, fs, &g, &lf, args, environ, stdout, stderr, gateway.LinkList)
	if err != nil {
		return err
	}
	defer st.Close()
	page, err := (&sesame.LinkService{Store: st}).Find(operatorContext(ctx, "sesame links list", "link.list", sesame.ScopeLinksRead), filter)
	if err != nil {
		return cliErr(err)
	}
	last := ""
	if page.Next != nil {
		last = page.Next.Encode()
	}
	if lf.json {
		return writeJSON(stdout, map[string]any{"count": page.Count, "share_link_objects": gateway.LinkViews(page.Links, time.Now()), "last": last})
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tTITLE\tEXPIRES\tACCESSES\tDOWNLOADS\tTAGS")
	for _, l := range page.Links {
		downloads := fmt.Sprint(l.Downloads)
		if l.MaxDownloads > 0 {
			downloads += fmt.Sprintf("/%d", l.MaxDownloads)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", l.ID, l.Type, oneCell(l.Title), sesame.FormatTime(l.Expires), l.AccessCount,
			l.MaxAccessCount, downloads, strings.Join(l.Tags, ","))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d of %d links", len(page.Links), page.Count)
	if last != "" {
		fmt.Fprintf(stderr, "; next page: --last %s", last)
	}
	fmt.Fprintln(stderr)
	return nil
}

func runLinksRevoke(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	var g globals
	asJSON := false
	fs := newFlags("links revoke", linksSynopsis)
	g.register(fs, false)
	fs.BoolVar(&asJSON, "json", false, "print JSON: each id with revoked or already_revoked")
	ids, err := parseInterleaved(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return errors.New("links revoke: give one or more link ids")
	}
	st, err := openCLIStore(ctx, g, environ, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx = operatorContext(ctx, "sesame links revoke", "link.delete", sesame.ScopeLinksWrite)
	links := &sesame.LinkService{Store: st}
	result := map[string]string{}
	var failed []error
	for _, id := range ids {
		_, already, err := links.Revoke(ctx, id)
		switch {
		case err != nil:
			failed = append(failed, fmt.Errorf("%s: %w", id, cliErr(err)))
			result[id] = "error"
		case already:
			result[id] = "already_revoked"
		default:
			result[id] = "revoked"
		}
		if !asJSON && err == nil {
			fmt.Fprintln(stderr, map[string]string{"revoked": "Revoked", "already_revoked": "Already revoked"}[result[id]], id)
		}
	}
	if asJSON {
		if err := writeJSON(stdout, result); err != nil {
			return err
		}
	}
	return errors.Join(failed...)
}

// runLink keeps "sesame link revoke ID" working.
func runLink(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "revoke" {
		return runLinks(ctx, args, environ, stdout, stderr)
	}
	return runLinksRevoke(ctx, args[1:], environ, stdout, stderr)
}

// openCLIStore loads the configuration and opens its store for a command
// that runs beside the server.
func openCLIStore(ctx context.Context, g globals, environ []string, stderr io.Writer) (*store.Store, error) {
	cfg, err := g.load(environ, stderr)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.storeConfig(newLogger(cfg, stderr)))
	if err != nil {
		return nil, cliErr(err)
	}
	return st, nil
}

// operatorContext acts as the operator at the console: a token with the
// scope, and changes audited as the operator's.
func operatorContext(ctx context.Context, name, action string, scope sesame.Scope) context.Context {
	ctx = sesame.WithToken(ctx, &sesame.Token{ID: "cli", Name: name, Scopes: []sesame.Scope{scope}})
	return sesame.WithAudit(ctx, &sesame.AuditNote{Actor: "cli", ActorType: sesame.ActorOperator, Action: action})
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// oneCell keeps a value on one line of a table, and short.
func oneCell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}
