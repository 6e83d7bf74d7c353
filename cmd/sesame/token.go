package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

const tokenUsage = `Usage:
  sesame token create --name NAME --scopes SCOPE[,SCOPE...] [--expires 90d] [--config FILE] [--data DIR]
  sesame token list [--config FILE] [--data DIR]
  sesame token revoke ID [--config FILE] [--data DIR]

Scopes: objects:read objects:write links:read links:write links:send audit:read metrics:read admin
"sesame token COMMAND --help" shows the flags of one command.
`

var tokenSynopsis = map[string]string{
	"create": "sesame token create --name NAME --scopes SCOPE[,SCOPE...] [--expires 90d] [--config FILE] [--data DIR]",
	"list":   "sesame token list [--config FILE] [--data DIR]",
	"revoke": "sesame token revoke ID [--config FILE] [--data DIR]",
}

func runToken(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return errors.New("token: say create, list or revoke")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, tokenUsage)
		return nil
	case "create", "list", "revoke":
	default:
		return fmt.Errorf("token: unknown subcommand %q (say create, list or revoke)", sub)
	}
	var g globals
	fs := newFlags("token "+sub, tokenSynopsis[sub])
	g.register(fs, false)
	var create tokenCreate
	if sub == "create" {
		fs.StringVar(&create.name, "name", "", "a name for the token")
		fs.StringVar(&create.scopes, "scopes", "", "comma-separated scopes")
		fs.StringVar(&create.expires, "expires", "", "lifetime such as 90d, 2w or 12h; empty: never")
	}
	pos, err := parseInterleaved(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	switch {
	case sub == "revoke" && len(pos) != 1:
		return errors.New("token revoke: give exactly one token id")
	case sub != "revoke" && len(pos) > 0:
		return fmt.Errorf("token %s: unexpected argument %q", sub, pos[0])
	}
	// Check everything that can be checked before the store is opened, so
	// that a mistake creates nothing, not even the data directory.
	if sub == "create" {
		if err := create.check(time.Now()); err != nil {
			return cliErr(err)
		}
	}
	cfg, err := g.load(environ, stderr)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.storeConfig(newLogger(cfg, stderr)))
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		return create.run(ctx, st, stdout, stderr)
	case "list":
		return listTokens(ctx, st, stdout)
	}
	if err := st.RevokeToken(ctx, pos[0]); err != nil {
		return cliErr(err)
	}
	fmt.Fprintln(stderr, "Revoked", pos[0])
	return nil
}

// tokenCreate is token create's flags and what they mean.
type tokenCreate struct {
	name, scopes, expires string
	list                  []sesame.Scope
	exp                   time.Time
}

func (c *tokenCreate) check(now time.Time) error {
	for _, s := range strings.Split(c.scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.list = append(c.list, sesame.Scope(s))
		}
	}
	if err := sesame.CheckNewToken(c.name, c.list); err != nil {
		return err
	}
	if c.expires != "" {
		d, err := parseLifetime(c.expires)
		if err != nil {
			return err
		}
		c.exp = now.Add(d)
	}
	return nil
}

func (c *tokenCreate) run(ctx context.Context, st *store.Store, stdout, stderr io.Writer) error {
	t, secret, err := st.CreateToken(ctx, c.name, c.list, c.exp)
	if err != nil {
		return cliErr(err)
	}
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "Created token %s (%s) with scopes %s. The secret above is shown only once.\n", t.ID, t.Name, c.scopes)
	return nil
}

func listTokens(ctx context.Context, st *store.Store, stdout io.Writer) error {
	tokens, err := st.FindTokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
	now := time.Now()
	for _, t := range tokens {
		scopes := make([]string, len(t.Scopes))
		for i, s := range t.Scopes {
			scopes[i] = string(s)
		}
		status := "active"
		switch {
		case !t.Revoked.IsZero():
			status = "revoked"
		case !t.Expires.IsZero() && !now.Before(t.Expires):
			status = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(scopes, ","), day(t.Created), day(t.Expires), day(t.LastUsed), status)
	}
	return tw.Flush()
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// parseLifetime reads "90d", "2w" or any Go duration such as "12h".
func parseLifetime(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 || int64(v) > math.MaxInt64/int64(unit) {
				return 0, fmt.Errorf("--expires: %q is not a lifetime such as 90d", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--expires: %q is not a lifetime such as 90d or 12h", s)
	}
	return d, nil
}
