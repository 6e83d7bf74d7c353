package sesame_test

import (
	"errors"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/sesame-share/sesame"
)

// Fuzz targets for the name, path, phone and email rules. Run one with
//
//	go test -run '^$' -fuzz '^FuzzCheckName$' -fuzztime 60s .
//
// or all of them with scripts/fuzz.sh.

// fuzzWantFieldErr asserts that err is an Invalid *sesame.Error with exactly one
// field error, at source, with a code and a detail.
func fuzzWantFieldErr(t *testing.T, what string, err error, source string) {
	t.Helper()
	var e *sesame.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %T %v is not a *sesame.Error", what, err, err)
	}
	if e.Kind != sesame.Invalid || e.Message == "" || len(e.Fields) != 1 {
		t.Fatalf("%s: want an Invalid error with one field error, got %v", what, err)
	}
	if f := e.Fields[0]; f.Source != source || f.Code == "" || f.Detail == "" {
		t.Fatalf("%s: field error %+v, want source %q and a code and detail", what, f, source)
	}
}

func FuzzCheckName(f *testing.F) {
	for _, s := range []string{
		"", "a", "report.pdf", ".", "..", "...", "a/b", "/", "a\x00b", "a\x1f", "a\x7f", "\u0085", "\xff",
		"r\u00e9sum\u00e9.pdf", " ", "back\\slash", strings.Repeat("a", 255), strings.Repeat("a", 256),
		strings.Repeat("\u00e9", 127) + "a", strings.Repeat("\u00e9", 128),
		"invoice\u202Efdp.exe", "a\u2066b", "C:\\x.txt", "a\u0085b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := sesame.CheckName("/name", name)
		if err != nil {
			fuzzWantFieldErr(t, "CheckName", err, "/name")
			return
		}
		switch {
		case name == "" || name == "." || name == "..":
			t.Fatalf("CheckName accepts %q", name)
		case !utf8.ValidString(name):
			t.Fatalf("CheckName accepts invalid UTF-8 %q", name)
		case len(name) > sesame.MaxNameLen:
			t.Fatalf("CheckName accepts %d bytes", len(name))
		case strings.ContainsAny(name, `/\`):
			t.Fatalf("CheckName accepts %q with a slash or a backslash", name)
		}
		for _, r := range name {
			if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("CheckName accepts %q with control character %U", name, r)
			}
			if unicode.Is(unicode.Bidi_Control, r) {
				t.Fatalf("CheckName accepts %q with direction character %U", name, r)
			}
		}
		// A good name is a one-segment path, with or without slashes
		// around it, as long as the whole path is within MaxPathLen.
		for _, p := range []string{name, "/" + name, name + "/", "/" + name + "/"} {
			if utf8.RuneCountInString(p) > sesame.MaxPathLen {
				continue
			}
			segs, err := sesame.SplitPath("/path", p)
			if err != nil || len(segs) != 1 || segs[0] != name {
				t.Fatalf("SplitPath(%q) = %q, %v; want the one name", p, segs, err)
			}
		}
	})
}

func FuzzSplitPath(f *testing.F) {
	for _, s := range []string{
		"", "/", "//", "a", "/a/b/c.txt", "a/b/", "/a//b", "/./a", "/a/..", "/a/\x00", "/\xff",
		"/" + strings.Repeat("a", 256), "/" + strings.Repeat("a/", 128), strings.Repeat("\u00e9", 257),
		"/r\u00e9sum\u00e9s/2025/q1.pdf", "\\a\\b", "/ a / b ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		segs, err := sesame.SplitPath("/path", p)
		if err != nil {
			if segs != nil {
				t.Fatalf("SplitPath(%q) returned segments and an error", p)
			}
			fuzzWantFieldErr(t, "SplitPath", err, "/path")
			return
		}
		if utf8.RuneCountInString(p) > sesame.MaxPathLen {
			t.Fatalf("SplitPath accepts %d characters", utf8.RuneCountInString(p))
		}
		if len(segs) == 0 && strings.Trim(p, "/") != "" {
			t.Fatalf("SplitPath(%q) is the root", p)
		}
		for _, s := range segs {
			if err := sesame.CheckName("/path", s); err != nil {
				t.Fatalf("SplitPath(%q) gave segment %q that CheckName rejects: %v", p, s, err)
			}
		}
		joined := strings.Join(segs, "/")
		for _, q := range []string{joined, "/" + joined, joined + "/", "/" + joined + "/"} {
			if utf8.RuneCountInString(q) > sesame.MaxPathLen {
				continue // the slashes count towards the limit
			}
			again, err := sesame.SplitPath("/path", q)
			if err != nil {
				t.Fatalf("SplitPath(%q) = %q, but the joined %q is rejected: %v", p, segs, q, err)
			}
			if strings.Join(again, "/") != joined || len(again) != len(segs) {
				t.Fatalf("SplitPath(%q) = %q, but %q splits to %q", p, segs, q, again)
			}
		}
	})
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{
		"", "+", "+1-808-555-0173", " +44 20 7946 0958 ", "+(1) 808.555.0173", "+0123456789", "+1234567", "+12345678",
		"+123456789012345", "+1234567890123456", "18085550173", "+1 808 555 0173 ext 2", "+\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",
		"+1\t808\t5550173", "++18085550173", "+1８０８5550173", "\u00a0+18085550173",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := sesame.NormalizePhone(s)
		if !ok {
			if out != "" {
				t.Fatalf("NormalizePhone(%q) = %q, false", s, out)
			}
			return
		}
		if !e164.MatchString(out) {
			t.Fatalf("NormalizePhone(%q) = %q, not E.164", s, out)
		}
		if again, ok := sesame.NormalizePhone(out); !ok || again != out {
			t.Fatalf("NormalizePhone is not idempotent: %q -> %q -> %q, %v", s, out, again, ok)
		}
	})
}

func FuzzValidEmail(f *testing.F) {
	for _, s := range []string{
		"", "a@example.com", "a.b+c@sub.example.co.uk", "a@b", "a@b.", "@b.c", "a@", "a@@b.c", "a@b@c.d",
		"A <a@b.c>", "a@b.c, d@e.f", "a@b.c\r\nBcc: x@y.z", " a@b.c", "a@b.c ", "\"a b\"@c.d", "\"a@b\"@c.d",
		"a@[1.2.3.4]", "a(comment)@b.c", "a\t@b.c", "é@example.com", "a\u00e9b@ex\u00e0mple.com", "a@xn--bcher-kva.example",
		strings.Repeat("a", 250) + "@b.cd",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !sesame.ValidEmail(s) {
			return
		}
		if strings.Count(s, "@") != 1 {
			t.Fatalf("ValidEmail accepts %q with %d '@'", s, strings.Count(s, "@"))
		}
		if len(s) > 254 || !utf8.ValidString(s) {
			t.Fatalf("ValidEmail accepts %q (%d bytes, valid UTF-8: %v)", s, len(s), utf8.ValidString(s))
		}
		for _, r := range s {
			if unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("ValidEmail accepts %q with whitespace or control character %U", s, r)
			}
		}
		local, domain, _ := strings.Cut(s, "@")
		if local == "" || !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") {
			t.Fatalf("ValidEmail accepts %q (local %q, domain %q)", s, local, domain)
		}
		if a, err := mail.ParseAddress(s); err != nil || a.Address != s || a.Name != "" {
			t.Fatalf("ValidEmail accepts %q, which net/mail reads as %v, %v", s, a, err)
		}
	})
}

// fuzzReserved lists the device names Windows reserves.
var fuzzReserved = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Fields("CON PRN AUX NUL COM1 COM2 COM3 COM4 COM5 COM6 COM7 COM8 COM9 LPT1 LPT2 LPT3 LPT4 LPT5 LPT6 LPT7 LPT8 LPT9") {
		m[s] = true
	}
	return m
}()

func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{
		"", "report.pdf", "../../etc/passwd", `C:\Users\me\file.txt`, "a/b\\", ".", "..", "...", " . ",
		"CON", "con.txt", "Lpt1.tar.gz", "CON .txt", "nul", "COM10", "_CON",
		"a\x00b\x1fc\x7f\u0085\u2028\u2029d", "\xff\xfe", "a\xffb", `what<>:"|?*.txt`, "\u00a0x\u00a0",
		strings.Repeat("a", 300), strings.Repeat("a", 300) + ".txt", strings.Repeat("\u00e9", 200) + ".pdf",
		strings.Repeat("a", 250) + " " + strings.Repeat("b", 9), strings.Repeat("a", 240) + "." + strings.Repeat("b", 20),
		strings.Repeat("\U0001F600", 70), "x." + strings.Repeat("y", 300),
		"..\\..\\evil.bat", "invoice\u202Efdp.exe", "\u2066a\u2069\u200e\u200f\u061c.txt",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := sesame.SanitizeName(in)
		switch {
		case out == "":
			t.Fatalf("SanitizeName(%q) is empty", in)
		case out == "." || out == "..":
			t.Fatalf("SanitizeName(%q) = %q", in, out)
		case !utf8.ValidString(out):
			t.Fatalf("SanitizeName(%q) = %q is not valid UTF-8", in, out)
		case len(out) > sesame.MaxNameLen:
			t.Fatalf("SanitizeName(%q) = %q is %d bytes", in, out, len(out))
		case strings.ContainsAny(out, `/\<>:"|?*`):
			t.Fatalf("SanitizeName(%q) = %q has a path separator or a character Windows forbids", in, out)
		case strings.Trim(out, " .") != out:
			t.Fatalf("SanitizeName(%q) = %q starts or ends with a dot or a space", in, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("SanitizeName(%q) = %q has control character %U", in, out, r)
			}
			if unicode.Is(unicode.Bidi_Control, r) {
				t.Fatalf("SanitizeName(%q) = %q has direction character %U", in, out, r)
			}
		}
		stem, _, _ := strings.Cut(out, ".")
		if fuzzReserved[strings.ToUpper(strings.TrimSpace(stem))] {
			t.Fatalf("SanitizeName(%q) = %q is a reserved device name", in, out)
		}
		if again := sesame.SanitizeName(out); again != out {
			t.Fatalf("SanitizeName is not idempotent: %q -> %q -> %q", in, out, again)
		}
		if err := sesame.CheckName("/name", out); err != nil {
			t.Fatalf("CheckName rejects SanitizeName(%q) = %q: %v", in, out, err)
		}
	})
}
