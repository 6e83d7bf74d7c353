package main

import (
	"fmt"
	"io"

	"github.com/sesame-share/sesame/store"
)

const keygenSynopsis = "sesame keygen [--fingerprint FILE]    (writes a new master key to standard output)"

// runKeygen writes a new master key to stdout, in the format of the key
// file (secret_key_file), and nothing else, so that
// `sesame keygen > /etc/sesame/secret.key` makes a key file. With
// --fingerprint FILE it prints the fingerprint of the key in FILE instead.
func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", keygenSynopsis)
	file := fs.String("fingerprint", "", "print the fingerprint of the key in this file, not a new key")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keygen: unexpected argument %q", fs.Arg(0))
	}
	if *file != "" {
		fp, err := store.KeyFileFingerprint(*file)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, fp)
		return nil
	}
	if _, err := stdout.Write(store.NewMasterKey()); err != nil {
		return fmt.Errorf("keygen: write: %w", err)
	}
	return nil
}
