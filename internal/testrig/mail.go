package testrig

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"
)

// Mail is a message as its recipient reads it: the headers, and each part
// decoded per its Content-Transfer-Encoding.
type Mail struct {
	Header mail.Header
	Type   string            // the top-level media type
	Parts  map[string]string // media type -> decoded body, with LF line ends
	Order  []string          // the parts' media types, in order
}

// ParseMail reads a message with net/mail and, for a multipart message, its
// parts with mime/multipart. It fails the test on a malformed message.
func ParseMail(t testing.TB, data []byte) *Mail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	out := &Mail{Header: m.Header, Parts: map[string]string{}}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	out.Type = mt
	if !strings.HasPrefix(mt, "multipart/") {
		out.Parts[mt], out.Order = decodeBody(t, m.Header.Get("Content-Transfer-Encoding"), m.Body), []string{mt}
		return out
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		pt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type %q: %v", p.Header.Get("Content-Type"), err)
		}
		out.Parts[pt] = decodeBody(t, p.Header.Get("Content-Transfer-Encoding"), p)
		out.Order = append(out.Order, pt)
	}
	return out
}

// Text is the text/plain part ("" if there is none).
func (m *Mail) Text() string { return m.Parts["text/plain"] }

// HTML is the text/html part ("" if there is none).
func (m *Mail) HTML() string { return m.Parts["text/html"] }

// Subject is the decoded Subject header.
func (m *Mail) Subject(t testing.TB) string {
	t.Helper()
	return DecodeHeader(t, m.Header.Get("Subject"))
}

// DecodeHeader decodes RFC 2047 encoded words.
func DecodeHeader(t testing.TB, s string) string {
	t.Helper()
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		t.Fatalf("decode header %q: %v", s, err)
	}
	return d
}

func decodeBody(t testing.TB, cte string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{r})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s body: %v", cte, err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// newlineStripper drops CR and LF, for base64 bodies folded at 76 columns.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// CodeIn returns the one-time code in a code message's text: the 6-digit
// number it holds. It fails the test when there is none, or several
// different ones.
func CodeIn(t testing.TB, text string) string {
	t.Helper()
	m := sixDigits.FindAllString(text, -1)
	if len(m) == 0 {
		t.Fatalf("no 6-digit code in %q", text)
	}
	for _, c := range m[1:] {
		if c != m[0] {
			t.Fatalf("several different codes in %q", text)
		}
	}
	return m[0]
}
