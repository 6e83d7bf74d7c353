package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

var (
	csrfRE  = regexp.MustCompile(`name="csrf" value="([^"]*)"`)
	authRE  = regexp.MustCompile(`name="auth" value="([0-9]+)"`)
	flashRE = regexp.MustCompile(`class="flash[^"]*"[^>]*>([^<]*)<`)
)

// visitor is one browser: its own cookie jar, on a shared connection pool.
type visitor struct {
	c    *http.Client
	base string
	link string
}

func newVisitor(pool *http.Client, base, link string) *visitor {
	jar, _ := cookiejar.New(nil) // never fails with nil options
	c := *pool
	c.Jar = jar
	return &visitor{c: &c, base: base, link: link}
}

// page GETs the sign-in page and returns its csrf and first auth index.
func (v *visitor) page(query string) (csrf, auth string, err error) {
	resp, err := v.c.Get(v.base + "/s/" + v.link + query)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("GET sign-in page: HTTP %d", resp.StatusCode)
	}
	m1, m2 := csrfRE.FindSubmatch(b), authRE.FindSubmatch(b)
	if m1 == nil || m2 == nil {
		return "", "", errors.New("no csrf or auth field on the sign-in page")
	}
	return string(m1[1]), string(m2[1]), nil
}

// post submits a portal form and wants a 303; it returns the Location.
func (v *visitor) post(path string, form url.Values) (string, error) {
	resp, err := v.c.PostForm(v.base+"/s/"+v.link+path, form)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusSeeOther {
		msg := ""
		if m := flashRE.FindSubmatch(b); m != nil {
			msg = ": " + string(m[1])
		}
		return "", fmt.Errorf("POST %s: HTTP %d%s", path, resp.StatusCode, msg)
	}
	return resp.Header.Get("Location"), nil
}

// session returns the link's session cookie as NAME=VALUE, or "".
func (v *visitor) session() string {
	u, _ := url.Parse(v.base + "/s/" + v.link)
	for _, ck := range v.c.Jar.Cookies(u) {
		if strings.HasPrefix(ck.Name, "sesame_s_") || strings.HasPrefix(ck.Name, "__Host-sesame_s_") {
			if ck.Value != "" {
				return ck.Name + "=" + ck.Value
			}
		}
	}
	return ""
}

// signedIn reports whether the jar holds a session cookie for the link.
func (v *visitor) signedIn() bool { return v.session() != "" }

func (v *visitor) password(pw string) error {
	csrf, auth, err := v.page("")
	if err != nil {
		return err
	}
	if _, err := v.post("/password", url.Values{"csrf": {csrf}, "auth": {auth}, "password": {pw}}); err != nil {
		return err
	}
	if !v.signedIn() {
		return errors.New("the sign-in set no session cookie")
	}
	return nil
}

func portalFlags(fs *flag.FlagSet) (base, link, pw *string) {
	return fs.String("base", "", "server base URL"), fs.String("link", "", "the link's token"),
		fs.String("password", "", "the link's password")
}

// passwordSignIns signs in to link with pw from conc visitors, each time
// as a new one, for dur.
func passwordSignIns(base, link, pw string, conc int, dur time.Duration) (*result, error) {
	if link == "" || pw == "" || conc < 1 || dur <= 0 || dur > 10*time.Minute {
		return nil, errors.New("-link, -password, -c >= 1 and 0 < -d <= 10m are required")
	}
	pool := client(conc)
	rec := &recorder{}
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(dur)
	for range conc {
		wg.Go(func() {
			for time.Now().Before(stop) {
				t0 := time.Now()
				err := newVisitor(pool, base, link).password(pw)
				rec.add(time.Since(t0), err)
			}
		})
	}
	wg.Wait()
	r := summarize("password", rec, time.Since(start))
	r.Extra = map[string]float64{"concurrency": float64(conc)}
	return r, nil
}

func runPassword(args []string) error {
	fs := flag.NewFlagSet("password", flag.ExitOnError)
	base, link, pw := portalFlags(fs)
	conc := fs.Int("c", 8, "concurrent visitors")
	dur := fs.Duration("d", 10*time.Second, "how long to sign in")
	fs.Parse(args)
	if err := checkBase(*base); err != nil {
		return err
	}
	r, err := passwordSignIns(*base, *link, *pw, *conc, *dur)
	if err != nil {
		return err
	}
	return printJSON(r)
}

// burstSignIns fetches n sign-in pages, then posts all n passwords at once.
func burstSignIns(base, link, pw string, n int) (*result, error) {
	if link == "" || pw == "" || n < 1 || n > 5000 {
		return nil, errors.New("-link, -password and 1 <= -n <= 5000 are required")
	}
	pool := client(n)
	type ready struct {
		v          *visitor
		csrf, auth string
	}
	vs := make([]ready, n)
	for i := range vs {
		v := newVisitor(pool, base, link)
		csrf, auth, err := v.page("")
		if err != nil {
			return nil, err
		}
		vs[i] = ready{v, csrf, auth}
	}
	rec := &recorder{}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for _, r := range vs {
		wg.Go(func() {
			<-gate
			t0 := time.Now()
			_, err := r.v.post("/password", url.Values{"csrf": {r.csrf}, "auth": {r.auth}, "password": {pw}})
			if err == nil && !r.v.signedIn() {
				err = errors.New("the sign-in set no session cookie")
			}
			rec.add(time.Since(t0), err)
		})
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	r := summarize("burst", rec, time.Since(start))
	r.Extra = map[string]float64{"concurrency": float64(n)}
	return r, nil
}

func runBurst(args []string) error {
	fs := flag.NewFlagSet("burst", flag.ExitOnError)
	base, link, pw := portalFlags(fs)
	n := fs.Int("n", 200, "concurrent sign-ins")
	fs.Parse(args)
	if err := checkBase(*base); err != nil {
		return err
	}
	r, err := burstSignIns(*base, *link, *pw, *n)
	if err != nil {
		return err
	}
	return printJSON(r)
}
