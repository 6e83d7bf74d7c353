package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	if v := versionString(); v == "" || strings.ContainsAny(v, " \n") {
		t.Fatalf("versionString() = %q, want one word", v)
	}
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		out, stderr, err := runCLI(t, args...)
		if err != nil || out != "sesame "+versionString()+"\n" || stderr != "" {
			t.Errorf("%q: stdout %q, stderr %q, err %v; want \"sesame %s\"", args, out, stderr, err, versionString())
		}
	}
	t.Run("SetAtBuild", func(t *testing.T) {
		old := version
		version = "v1.2.3"
		t.Cleanup(func() { version = old })
		if out, _, err := runCLI(t, "--version"); err != nil || out != "sesame v1.2.3\n" {
			t.Errorf("--version with -X main.version=v1.2.3: %q, %v", out, err)
		}
	})
}

// TestHelpEveryCommand asks every command for help: it exits 0 and prints
// that command's usage and only its flags on stdout, and starts nothing.
func TestHelpEveryCommand(t *testing.T) {
	t.Chdir(t.TempDir()) // a command that ran would create ./sesame-data here
	tests := []struct {
		args        []string
		usage       string   // in the first lines
		flags, none []string // flags listed, flags not listed
	}{
		{[]string{"serve", "--help"}, "sesame [serve]", []string{"-listen", "-data", "-config", "-public-url"}, []string{"-scopes"}},
		{[]string{"serve", "-h"}, "sesame [serve]", []string{"-listen"}, nil},
		{[]string{"--listen", "127.0.0.1:0", "--help"}, "sesame [serve]", []string{"-listen"}, nil},
		{[]string{"token", "--help"}, "sesame token list", nil, nil},
		{[]string{"token", "create", "--help"}, "sesame token create", []string{"-name", "-scopes", "-expires", "-data", "-config"}, []string{"-listen"}},
		{[]string{"token", "list", "--help"}, "sesame token list", []string{"-data", "-config"}, []string{"-name", "-scopes", "-expires", "-listen"}},
		{[]string{"token", "list", "-h"}, "sesame token list", []string{"-data"}, []string{"-name"}},
		{[]string{"token", "revoke", "--help"}, "sesame token revoke ID", []string{"-data", "-config"}, []string{"-name", "-scopes", "-expires"}},
		{[]string{"link", "--help"}, "sesame links revoke ID...", nil, nil},
		{[]string{"link", "revoke", "--help"}, "sesame links revoke ID...", []string{"-data", "-config", "-json"}, []string{"-name", "-listen"}},
		{[]string{"links", "list", "--help"}, "sesame links list", []string{"-data", "-filter", "-order-by", "-last", "-json"}, []string{"-listen"}},
		{[]string{"links", "revoke", "--help"}, "sesame links revoke ID...", []string{"-data", "-json"}, []string{"-listen"}},
		{[]string{"audit", "tail", "--help"}, "sesame audit tail", []string{"-data", "-filter", "-follow", "-json"}, []string{"-listen"}},
		{[]string{"outbox", "list", "--help"}, "sesame outbox list", []string{"-data", "-filter", "-json"}, []string{"-listen"}},
		{[]string{"mcp", "--help"}, "sesame mcp", []string{"-data", "-config"}, []string{"-listen", "-name"}},
		{[]string{"migrate", "--help"}, "sesame migrate", []string{"-data", "-config"}, []string{"-listen", "-name"}},
		{[]string{"check", "--help"}, "sesame check", []string{"-data", "-config"}, []string{"-listen", "-name"}},
		{[]string{"export", "--help"}, "sesame export", []string{"-data", "-config", "-out"}, []string{"-listen", "-in"}},
		{[]string{"import", "--help"}, "sesame import", []string{"-data", "-config", "-in"}, []string{"-listen", "-out"}},
		{[]string{"version", "--help"}, "sesame version", nil, []string{"-data"}},
		{[]string{"keygen", "--help"}, "sesame keygen", []string{"-fingerprint"}, []string{"-data", "-listen"}},
		{[]string{"keygen", "-h"}, "sesame keygen", []string{"-fingerprint"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, stderr, err := runCLI(t, tt.args...)
			if err != nil {
				t.Fatalf("%q: %v (stderr %q)", tt.args, err, stderr)
			}
			if stderr != "" {
				t.Errorf("%q: stderr %q, want nothing", tt.args, stderr)
			}
			if !strings.HasPrefix(out, "Usage:\n") || !strings.Contains(out, "  "+tt.usage) {
				t.Errorf("%q: stdout %q, want a usage with %q", tt.args, out, tt.usage)
			}
			for _, f := range tt.flags {
				if !strings.Contains(out, "  "+f+" ") && !strings.Contains(out, "  "+f+"\n") {
					t.Errorf("%q: the usage does not list %s:\n%s", tt.args, f, out)
				}
			}
			for _, f := range tt.none {
				if strings.Contains(out, "  "+f+" ") || strings.Contains(out, "  "+f+"\n") {
					t.Errorf("%q: the usage lists %s, which is not this command's:\n%s", tt.args, f, out)
				}
			}
		})
	}
	if _, err := os.Stat("sesame-data"); !os.IsNotExist(err) {
		t.Errorf("asking for help created ./sesame-data (stat: %v)", err)
	}
}

// TestTokenCreateFailureCreatesNothing: a token create that fails on its
// arguments creates neither a token nor the data directory.
func TestTokenCreateFailureCreatesNothing(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown scope", []string{"--name", "ci", "--scopes", "objects:read,objects:destroy"}, `unknown scope "objects:destroy"`},
		{"no scopes", []string{"--name", "ci"}, "scope"},
		{"no name", []string{"--scopes", "admin"}, "name"},
		{"bad expiry", []string{"--name", "ci", "--scopes", "admin", "--expires", "soon"}, `--expires: "soon"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			out, _, err := runCLI(t, append([]string{"token", "create", "--data", dir}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("a failed token create created %s (stat: %v)", dir, err)
			}
		})
	}
}

func TestConfigReserve(t *testing.T) {
	for _, tt := range []struct {
		name    string
		environ []string
		want    int64
		warns   bool
	}{
		{"Default", nil, 256 << 20, false},
		{"Storage", []string{"SESAME_STORAGE_MIN_FREE_SPACE=1GiB"}, 1 << 30, false},
		{"StorageNone", []string{"SESAME_STORAGE_MIN_FREE_SPACE=0"}, 0, false},
		{"OldName", []string{"SESAME_PORTAL_MIN_FREE_SPACE=64MiB"}, 64 << 20, true},
		{"BothNewWins", []string{"SESAME_PORTAL_MIN_FREE_SPACE=64MiB", "SESAME_STORAGE_MIN_FREE_SPACE=2GiB"}, 2 << 30, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var g globals
			var stderr strings.Builder
			cfg, err := g.load(tt.environ, &stderr)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Reserve(); got != tt.want {
				t.Errorf("Reserve() = %d, want %d", got, tt.want)
			}
			if warned := strings.Contains(stderr.String(), "portal.min_free_space"); warned != tt.warns {
				t.Errorf("warning about portal.min_free_space: %v, want %v (stderr %q)", warned, tt.warns, stderr.String())
			}
		})
	}
}
