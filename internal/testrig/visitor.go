package testrig

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Visitor is one browser: its own cookie jar, redirects not followed (a
// test looks at each 303), and optionally an address sent as
// X-Forwarded-For, for a server that trusts the loopback as a proxy.
type Visitor struct {
	// IP, when set, goes out as X-Forwarded-For.
	IP string
	// Check, when set, sees every page; it runs in the goroutine that made
	// the request, so it should report with t.Errorf.
	Check func(req *http.Request, p *Page)

	t      testing.TB
	base   string
	jar    *cookiejar.Jar
	client *http.Client
}

// NewVisitor is a browser for the server at base, over transport rt (nil:
// http.DefaultTransport).
func NewVisitor(t testing.TB, base string, rt http.RoundTripper) *Visitor {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Visitor{t: t, base: strings.TrimRight(base, "/"), jar: jar, client: &http.Client{Jar: jar, Transport: rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Client is the visitor's HTTP client, with its cookie jar.
func (v *Visitor) Client() *http.Client { return v.client }

// NewRequest builds a request to path (or to an absolute URL).
func (v *Visitor) NewRequest(method, path string, body io.Reader) *http.Request {
	v.t.Helper()
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		path = v.base + path
	}
	req, err := http.NewRequest(method, path, body)
	if err != nil {
		v.t.Fatal(err)
	}
	return req
}

// FormRequest builds a POST of form, URL-encoded.
func (v *Visitor) FormRequest(path string, form url.Values) *http.Request {
	v.t.Helper()
	req := v.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// Try sends req as this visitor and reads the whole answer. It never fails
// the test, so other goroutines may call it.
func (v *Visitor) Try(req *http.Request) (*Page, error) {
	if v.IP != "" {
		req.Header.Set("X-Forwarded-For", v.IP)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	p := &Page{Code: resp.StatusCode, Header: resp.Header, Body: body, URL: req.URL, t: v.t, cookies: resp.Cookies()}
	if v.Check != nil {
		v.Check(req, p)
	}
	return p, nil
}

// Do is Try for the test's goroutine: a transport error fails the test.
func (v *Visitor) Do(req *http.Request) *Page {
	v.t.Helper()
	p, err := v.Try(req)
	if err != nil {
		v.t.Fatal(err)
	}
	return p
}

// Get fetches path, with header given as name, value pairs.
func (v *Visitor) Get(path string, header ...string) *Page {
	v.t.Helper()
	return v.Do(withHeader(v.NewRequest(http.MethodGet, path, nil), header))
}

// Post sends form to path, with header given as name, value pairs.
func (v *Visitor) Post(path string, form url.Values, header ...string) *Page {
	v.t.Helper()
	return v.Do(withHeader(v.FormRequest(path, form), header))
}

// Submit sends a form of page p the way a browser would: its fields as they
// stand, with set replacing some, to its action.
func (v *Visitor) Submit(p *Page, f *Form, set url.Values) *Page {
	v.t.Helper()
	if f == nil {
		v.t.Fatalf("no such form on %s", p)
	}
	vals := f.Values()
	for k, vs := range set {
		vals[k] = vs
	}
	action, err := url.Parse(f.Action)
	if err != nil {
		v.t.Fatalf("form action %q: %v", f.Action, err)
	}
	target := p.URL.ResolveReference(action)
	if f.Method == http.MethodGet {
		u := *target
		u.RawQuery = vals.Encode()
		return v.Get(u.String())
	}
	return v.Post(target.String(), vals)
}

func withHeader(req *http.Request, header []string) *http.Request {
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// SetCookie puts a cookie in the jar by hand.
func (v *Visitor) SetCookie(name, value string) {
	u, _ := url.Parse(v.base + "/") // base came from a URL
	v.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// Cookie is the value of a cookie in the jar ("" if there is none).
func (v *Visitor) Cookie(name string) string {
	u, _ := url.Parse(v.base + "/")
	for _, c := range v.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// Page is one answer, fully read. Its HTML is parsed on first use.
type Page struct {
	Code    int
	Header  http.Header
	Body    []byte
	URL     *url.URL // what was asked for
	t       testing.TB
	cookies []*http.Cookie
	once    sync.Once
	doc     *Doc
}

// Text is the body as a string.
func (p *Page) Text() string { return string(p.Body) }

// Cookies are the cookies the answer set.
func (p *Page) Cookies() []*http.Cookie { return p.cookies }

// Cookie is the cookie the answer set under name, or nil.
func (p *Page) Cookie(name string) *http.Cookie {
	for _, c := range p.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Doc is the body parsed as HTML.
func (p *Page) Doc() *Doc {
	p.once.Do(func() { p.doc = ParseHTML(p.t, p.Text()) })
	return p.doc
}

// Find, First, Has, Filter, TextOf, Form and Value search the page; see Doc.
func (p *Page) Find(sel string) []*Element { return p.Doc().Find(sel) }

func (p *Page) First(sel string) *Element { return p.Doc().First(sel) }

func (p *Page) Has(sel string) bool { return p.Doc().Has(sel) }

func (p *Page) Filter(keep func(*Element) bool) []*Element { return p.Doc().Filter(keep) }

func (p *Page) TextOf(sel string) string { return p.Doc().TextOf(sel) }

func (p *Page) Form(sel string) *Form { return p.Doc().Form(sel) }

func (p *Page) Value(name string) string { return p.Doc().Value(name) }

// String shows the status, the headers and the start of the body, for
// failure messages.
func (p *Page) String() string {
	b := p.Text()
	if len(b) > 2000 {
		b = b[:2000] + "…"
	}
	return fmt.Sprintf("%d %v\n%s", p.Code, p.Header, b)
}
