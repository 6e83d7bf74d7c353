package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/store"
)

const linkRevokeSynopsis = "sesame link revoke ID [--config FILE] [--data DIR]"

// runLink is the link command: today only revoke, which kills a link for
// every server on the same database at once (each request reads the
// link's state), recorded in the audit log as the operator's.
func runLink(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "revoke" {
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(stdout, "Usage:\n  %s\n", linkRevokeSynopsis)
			return nil
		}
		fmt.Fprintf(stderr, "Usage:\n  %s\n", linkRevokeSynopsis)
		return errors.New("link: say revoke")
	}
	var g globals
	fs := newFlags("link revoke", linkRevokeSynopsis)
	g.register(fs, false)
	pos, err := parseInterleaved(fs, args[1:], stdout, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("link revoke: give exactly one link id")
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
	ctx = sesame.WithToken(ctx, &sesame.Token{ID: "cli", Name: "sesame link revoke", Scopes: []sesame.Scope{sesame.ScopeLinksWrite}})
	ctx = sesame.WithAudit(ctx, &sesame.AuditNote{Actor: "cli", ActorType: sesame.ActorOperator, Action: "link.delete"})
	links := &sesame.LinkService{Store: st}
	_, already, err := links.Revoke(ctx, pos[0])
	if err != nil {
		return cliErr(err)
	}
	if already {
		fmt.Fprintln(stderr, "Already revoked", pos[0])
		return nil
	}
	fmt.Fprintln(stderr, "Revoked", pos[0])
	return nil
}
