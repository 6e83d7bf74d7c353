package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/sesame-share/sesame/store"
)

const (
	exportSynopsis = "sesame export [--config FILE] [--data DIR] [--out FILE]    (the whole instance as one stream, on stdout)"
	importSynopsis = "sesame import [--config FILE] [--data DIR] [--in FILE]     (an export into an empty instance, from stdin)"
)

// runExport writes the whole instance, every row and every blob, as one
// stream to stdout or --out, from one snapshot, beside a running server.
// It is the backup, and with import the way between backends.
func runExport(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	var g globals
	fs := newFlags("export", exportSynopsis)
	g.register(fs, false)
	out := fs.String("out", "", "write the export to FILE (made when complete) instead of standard output")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("export: unexpected argument %q", fs.Arg(0))
	}
	if *out == "" && isTerminal(stdout) {
		return errors.New("export: the export is a binary stream: pipe it (sesame export | sesame import), redirect it to a file, or use --out FILE")
	}
	cfg, err := g.load(environ, stderr)
	if err != nil {
		return err
	}
	if cfg.Database.URL == "" {
		// Opening would make an empty instance and export that.
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "sesame.db")); err != nil {
			return fmt.Errorf("export: there is no sesame database in %s (set --data or data_dir)", cfg.DataDir)
		}
	}
	st, err := store.Open(ctx, cfg.storeConfig(newLogger(cfg, stderr)))
	if err != nil {
		return cliErr(err)
	}
	defer st.Close()
	if *out == "" {
		sum, err := st.Export(ctx, stdout, versionString())
		if err != nil {
			return cliErr(err)
		}
		reportExport(stderr, sum, "standard output")
		return nil
	}
	return exportFile(ctx, st, *out, stderr)
}

// exportFile writes the export to a temporary file beside path and renames
// it to path once complete, so that path never holds a partial export.
func exportFile(ctx context.Context, st *store.Store, path string, stderr io.Writer) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	sum, err := st.Export(ctx, f, versionString())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cliErr(err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	reportExport(stderr, sum, path)
	return nil
}

func reportExport(w io.Writer, sum *store.ExportSummary, dest string) {
	fmt.Fprintf(w, "sesame: exported %d rows of %d tables and %s (%d bytes) to %s; key fingerprint %s\n",
		sum.Rows(), len(sum.Tables), plural(sum.Blobs, "file's contents", "files' contents"), sum.Bytes, dest, sum.KeyFingerprint)
	if len(sum.Missing) > 0 {
		fmt.Fprintf(w, "sesame: warning: %d files had no contents in the source (sesame check lists them); the export records them as missing\n", len(sum.Missing))
	}
}

// runImport reads an export from stdin or --in into the instance the
// configuration names, which must be empty.
func runImport(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var g globals
	fs := newFlags("import", importSynopsis)
	g.register(fs, false)
	in := fs.String("in", "", "read the export from FILE instead of standard input")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("import: unexpected argument %q", fs.Arg(0))
	}
	if *in == "" && isTerminal(stdin) {
		return errors.New("import: pipe an export into sesame import (sesame export | sesame import), or use --in FILE")
	}
	cfg, err := g.load(environ, stderr)
	if err != nil {
		return err
	}
	r := stdin
	if *in != "" {
		f, err := os.Open(*in)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		r = f
	}
	sc := cfg.storeConfig(newLogger(cfg, stderr))
	// Blobs on the disk: hold the data directory, so that no server starts
	// there and sweeps the blobs whose rows are not yet committed.
	sc.Exclusive = cfg.Storage.Backend != "s3"
	sum, err := store.Import(ctx, sc, r)
	if err != nil {
		return cliErr(err)
	}
	fmt.Fprintf(stdout, "Imported an export of sesame %s (schema %d, %s with blobs on %s):\n\n", sum.SesameVersion, sum.SchemaVersion, sum.Database, sum.BlobBackend)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, t := range sum.Tables {
		fmt.Fprintf(tw, "    %s\t%d rows\n", t.Table, t.Rows)
	}
	fmt.Fprintf(tw, "    blobs\t%d (%d bytes)\n", sum.Blobs, sum.Bytes)
	if err := tw.Flush(); err != nil {
		return err
	}
	if sum.Missing > 0 {
		fmt.Fprintf(stdout, "\n%d files had no contents in the source and have none here (sesame check lists them).\n", sum.Missing)
	}
	return nil
}

// isTerminal reports whether f is a terminal, where a binary stream has
// no business.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	fi, err := file.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// plural is n and the noun that fits it.
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
