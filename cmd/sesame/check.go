package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/sesame-share/sesame/store"
)

// runCheck reports the files whose contents are missing from the blob
// store (a restore or a copy that left rows without their bytes). It
// fails when there are any, so a script can stop on it.
func runCheck(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	cfg, err := parseCommand("check", "sesame check [--config FILE] [--data DIR]", false, args, environ, stdout, stderr)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.storeConfig(newLogger(cfg, stderr)))
	if err != nil {
		return cliErr(err)
	}
	defer st.Close()
	missing, err := st.MissingBlobs(ctx)
	if err != nil {
		return err
	}
	for _, o := range missing {
		fmt.Fprintf(stdout, "%s\t%s\tcontents missing\n", o.ID, o.Path)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d files have no contents: restore their blobs, or delete them", len(missing))
	}
	fmt.Fprintln(stderr, "sesame: every file's contents are in place")
	return nil
}

// reportMissingBlobs logs, once after start, the files whose contents are
// missing; it reads every file's blob, so it runs in the background.
func reportMissingBlobs(ctx context.Context, st *store.Store, log *slog.Logger) {
	missing, err := st.MissingBlobs(ctx)
	switch {
	case err != nil && !errors.Is(err, context.Canceled):
		log.Error("check blobs", "error", err)
	case len(missing) > 0:
		ids := make([]string, 0, min(len(missing), 10))
		for _, o := range missing[:min(len(missing), 10)] {
			ids = append(ids, o.ID)
		}
		log.Warn("files without contents; run sesame check", "count", len(missing), "first", ids)
	}
}
