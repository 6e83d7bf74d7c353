// Command load is the concurrent client of scripts/bench.sh: it creates
// share links through the HTTP API, lists them, and signs in to links
// through the recipient portal (by password, or by a code read from the
// server's log), and prints what it measured as one JSON object.
//
//	load create   -base URL -n 2000 -c 8 -target ID [-tags 20] [-email-prefix P] [-out FILE]
//	load list     -base URL -n 200 -tags 20 [-target ID] [-expect N]
//	load password -base URL -link TOKEN -password P -c 8 -d 10s
//	load burst    -base URL -link TOKEN -password P -n 200
//	load code     -base URL -links FILE -log SERVER.LOG -c 8
//
// The API token comes from the environment, LOAD_TOKEN, so that it does
// not show in the process list. Every request goes to -base, which must be
// a loopback address: the program refuses any other host. Each mode stops
// by itself: after -n requests, or -d, and every request has a timeout.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	mode, args := os.Args[1], os.Args[2:]
	var err error
	switch mode {
	case "create":
		err = runCreate(args)
	case "list":
		err = runList(args)
	case "password":
		err = runPassword(args)
	case "burst":
		err = runBurst(args)
	case "code":
		err = runCode(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "load %s: %v\n", mode, err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: load create|list|password|burst|code [flags] (see the source's doc comment)")
	os.Exit(2)
}

// ---------------------------------------------------------------- common

// client returns an HTTP client that keeps up to conns idle connections to
// the server and never follows redirects (a sign-in answers 303).
func client(conns int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        conns + 8,
		MaxIdleConnsPerHost: conns + 8,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// checkBase refuses a base URL that is not on this machine's loopback.
func checkBase(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("-base %q is not an http URL", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-base %q is not a loopback address", base)
	}
	return nil
}

// result is what every mode prints: counts, the rate and latencies in ms.
type result struct {
	Mode    string             `json:"mode"`
	N       int                `json:"n"`
	Errors  int                `json:"errors"`
	Seconds float64            `json:"seconds"`
	PerSec  float64            `json:"per_sec"`
	P50     float64            `json:"p50_ms"`
	P99     float64            `json:"p99_ms"`
	Max     float64            `json:"max_ms"`
	Extra   map[string]float64 `json:"extra,omitempty"`
	Shapes  []shapeResult      `json:"shapes,omitempty"`
	FirstEr string             `json:"first_error,omitempty"`
}

type shapeResult struct {
	Name      string  `json:"name"`
	N         int     `json:"n"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	MeanCount float64 `json:"mean_count"`
	MeanRows  float64 `json:"mean_rows"`
}

// pct returns the p-th percentile (nearest rank) of d, in milliseconds.
func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := int(p/100*float64(len(s))+0.999999) - 1
	k = max(0, min(k, len(s)-1))
	return float64(s[k]) / float64(time.Millisecond)
}

func summarize(mode string, lat []time.Duration, errs int, firstErr error, elapsed time.Duration) *result {
	r := &result{Mode: mode, N: len(lat), Errors: errs, Seconds: elapsed.Seconds(),
		P50: pct(lat, 50), P99: pct(lat, 99), Max: pct(lat, 100)}
	if elapsed > 0 {
		r.PerSec = float64(len(lat)) / elapsed.Seconds()
	}
	if firstErr != nil {
		r.FirstEr = firstErr.Error()
	}
	return r
}

func printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// recorder collects latencies and errors from many goroutines.
type recorder struct {
	mu       sync.Mutex
	lat      []time.Duration
	errs     int
	firstErr error
}

func (r *recorder) add(d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errs++
		if r.firstErr == nil {
			r.firstErr = err
		}
		return
	}
	r.lat = append(r.lat, d)
}

// api POSTs a JSON body to an API path and decodes the envelope's result.
func api(c *http.Client, base, token, path string, body any, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %.300s", path, resp.StatusCode, data)
	}
	var env struct {
		Status string          `json:"status"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if env.Status != "Success" {
		return fmt.Errorf("%s: status %q", path, env.Status)
	}
	if out != nil {
		return json.Unmarshal(env.Result, out)
	}
	return nil
}

func token() (string, error) {
	t := os.Getenv("LOAD_TOKEN")
	if t == "" {
		return "", errors.New("set LOAD_TOKEN to an API token")
	}
	return t, nil
}

// ---------------------------------------------------------------- create

type linkObject struct {
	ID    string `json:"id"`
	Link  string `json:"link"`
	Count int    `json:"access_count"`
}

func runCreate(args []string) error {
	fs := flag.NewFlagSet("create", flag.ExitOnError)
	base := fs.String("base", "", "server base URL")
	n := fs.Int("n", 2000, "links to create, one per call")
	conc := fs.Int("c", 8, "concurrent clients")
	target := fs.String("target", "", "the object every link shares")
	tags := fs.Int("tags", 20, "spread the links over this many tags, bench-t00 ...")
	prefix := fs.String("email-prefix", "bench", "the email_otp address of link i is PREFIX-i@example.com")
	outFile := fs.String("out", "", "write one line per link: token email")
	fs.Parse(args)
	if err := checkBase(*base); err != nil {
		return err
	}
	tok, err := token()
	if err != nil {
		return err
	}
	if *target == "" || *n < 1 || *conc < 1 || *tags < 1 {
		return errors.New("-target, -n >= 1, -c >= 1 and -tags >= 1 are required")
	}
	c := client(*conc)
	type made struct{ token, email string }
	links := make([]made, *n)
	var next atomic.Int64
	rec := &recorder{}
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= *n {
					return
				}
				email := fmt.Sprintf("%s-%05d@example.com", *prefix, i)
				body := map[string]any{"links": []any{map[string]any{
					"targets":        []string{*target},
					"link_type":      "download",
					"authenticators": []any{map[string]string{"auth_type": "email_otp", "auth_context": email}},
					"tags":           []string{fmt.Sprintf("bench-t%02d", i%*tags)},
					"title":          fmt.Sprintf("bench link %d", i),
				}}}
				var res struct {
					Links []linkObject `json:"share_link_objects"`
				}
				t0 := time.Now()
				err := api(c, *base, tok, "/v1/share/link/create", body, &res)
				if err == nil && len(res.Links) != 1 {
					err = fmt.Errorf("create returned %d links", len(res.Links))
				}
				rec.add(time.Since(t0), err)
				if err == nil {
					tk := res.Links[0].Link
					if k := strings.LastIndex(tk, "/s/"); k >= 0 {
						tk = tk[k+3:]
					}
					links[i] = made{tk, email}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if *outFile != "" {
		var buf bytes.Buffer
		for _, l := range links {
			if l.token != "" {
				fmt.Fprintf(&buf, "%s %s\n", l.token, l.email)
			}
		}
		if err := os.WriteFile(*outFile, buf.Bytes(), 0o600); err != nil {
			return err
		}
	}
	r := summarize("create", rec.lat, rec.errs, rec.firstErr, elapsed)
	r.Extra = map[string]float64{"concurrency": float64(*conc)}
	return printJSON(r)
}

// ---------------------------------------------------------------- list

func runList(args []string) error {
	fs := flag.NewFlagSet("list", flag.ExitOnError)
	base := fs.String("base", "", "server base URL")
	n := fs.Int("n", 200, "list calls per filter shape")
	tags := fs.Int("tags", 20, "the tags bench-t00 ... the links were spread over")
	target := fs.String("target", "", "also list by target_id of this object")
	expect := fs.Int("expect", 0, "links per tag the count must reach (0: not checked)")
	size := fs.Int("size", 100, "page size")
	fs.Parse(args)
	if err := checkBase(*base); err != nil {
		return err
	}
	tok, err := token()
	if err != nil {
		return err
	}
	c := client(1)
	rng := rand.New(rand.NewSource(1))
	type shape struct {
		name   string
		filter func() map[string]any
	}
	shapes := []shape{{"tags", func() map[string]any {
		return map[string]any{"tags": []string{fmt.Sprintf("bench-t%02d", rng.Intn(*tags))}}
	}}}
	if *target != "" {
		shapes = append(shapes, shape{"target_id", func() map[string]any {
			return map[string]any{"target_id": *target}
		}})
	}
	out := &result{Mode: "list"}
	start := time.Now()
	for _, sh := range shapes {
		var lat []time.Duration
		var counts, rows float64
		for i := 0; i < *n; i++ {
			var res struct {
				Count int          `json:"count"`
				Links []linkObject `json:"share_link_objects"`
			}
			body := map[string]any{"filter": sh.filter(), "size": *size}
			t0 := time.Now()
			if err := api(c, *base, tok, "/v1/share/link/list", body, &res); err != nil {
				return err
			}
			lat = append(lat, time.Since(t0))
			if sh.name == "tags" && *expect > 0 && res.Count < *expect {
				return fmt.Errorf("tags filter counted %d links, want at least %d", res.Count, *expect)
			}
			counts += float64(res.Count)
			rows += float64(len(res.Links))
		}
		out.Shapes = append(out.Shapes, shapeResult{Name: sh.name, N: len(lat), P50: pct(lat, 50), P99: pct(lat, 99),
			Max: pct(lat, 100), MeanCount: counts / float64(*n), MeanRows: rows / float64(*n)})
		out.N += len(lat)
	}
	out.Seconds = time.Since(start).Seconds()
	return printJSON(out)
}

// ---------------------------------------------------------------- portal

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

// signedIn reports whether the jar holds a session cookie for the link.
func (v *visitor) signedIn() bool {
	u, _ := url.Parse(v.base + "/s/" + v.link)
	for _, ck := range v.c.Jar.Cookies(u) {
		if strings.HasPrefix(ck.Name, "sesame_s_") || strings.HasPrefix(ck.Name, "__Host-sesame_s_") {
			return ck.Value != ""
		}
	}
	return false
}

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

func runPassword(args []string) error {
	fs := flag.NewFlagSet("password", flag.ExitOnError)
	base, link, pw := portalFlags(fs)
	conc := fs.Int("c", 8, "concurrent visitors")
	dur := fs.Duration("d", 10*time.Second, "how long to sign in")
	fs.Parse(args)
	if err := checkBase(*base); err != nil {
		return err
	}
	if *link == "" || *pw == "" || *conc < 1 || *dur <= 0 || *dur > 10*time.Minute {
		return errors.New("-link, -password, -c >= 1 and 0 < -d <= 10m are required")
	}
	pool := client(*conc)
	rec := &recorder{}
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(*dur)
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				t0 := time.Now()
				err := newVisitor(pool, *base, *link).password(*pw)
				rec.add(time.Since(t0), err)
			}
		}()
	}
	wg.Wait()
	r := summarize("password", rec.lat, rec.errs, rec.firstErr, time.Since(start))
	r.Extra = map[string]float64{"concurrency": float64(*conc)}
	return printJSON(r)
}

// runBurst fetches n sign-in pages, then posts all n passwords at once.
func runBurst(args []string) error {
	fs := flag.NewFlagSet("burst", flag.ExitOnError)
	base, link, pw := portalFlags(fs)
	n := fs.Int("n", 200, "concurrent sign-ins")
	fs.Parse(args)
	if err := checkBase(*base); err != nil {
		return err
	}
	if *link == "" || *pw == "" || *n < 1 || *n > 5000 {
		return errors.New("-link, -password and 1 <= -n <= 5000 are required")
	}
	pool := client(*n)
	type ready struct {
		v          *visitor
		csrf, auth string
	}
	vs := make([]ready, *n)
	for i := range vs {
		v := newVisitor(pool, *base, *link)
		csrf, auth, err := v.page("")
		if err != nil {
			return err
		}
		vs[i] = ready{v, csrf, auth}
	}
	rec := &recorder{}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range vs {
		wg.Add(1)
		go func(r ready) {
			defer wg.Done()
			<-gate
			t0 := time.Now()
			_, err := r.v.post("/password", url.Values{"csrf": {r.csrf}, "auth": {r.auth}, "password": {*pw}})
			if err == nil && !r.v.signedIn() {
				err = errors.New("the sign-in set no session cookie")
			}
			rec.add(time.Since(t0), err)
		}(vs[i])
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	r := summarize("burst", rec.lat, rec.errs, rec.firstErr, time.Since(start))
	r.Extra = map[string]float64{"concurrency": float64(*n)}
	return printJSON(r)
}

// ---------------------------------------------------------------- code

// codeLog follows the server's log and hands out the codes it finds, by
// recipient address: with notify.email: log, each message is one line
// with to=ADDRESS and text="...code is NNNNNN...".
type codeLog struct {
	mu    sync.Mutex
	codes map[string]chan string
}

var (
	toRE   = regexp.MustCompile(`\bto="?([^" ]+)`)
	codeRE = regexp.MustCompile(`code is ([0-9]{6})`)
)

func (l *codeLog) ch(addr string) chan string {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.codes[addr]
	if !ok {
		c = make(chan string, 4)
		l.codes[addr] = c
	}
	return c
}

// follow reads path from its current end until done is closed.
func (l *codeLog) follow(path string, done <-chan struct{}) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return err
	}
	go func() {
		defer f.Close()
		r := bufio.NewReaderSize(f, 1<<16)
		var partial []byte
		for {
			line, err := r.ReadBytes('\n')
			partial = append(partial, line...)
			if err == nil {
				if m := codeRE.FindSubmatch(partial); m != nil {
					if to := toRE.FindSubmatch(partial); to != nil {
						l.ch(string(to[1])) <- string(m[1])
					}
				}
				partial = partial[:0]
				continue
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return nil
}

func runCode(args []string) error {
	fs := flag.NewFlagSet("code", flag.ExitOnError)
	base := fs.String("base", "", "server base URL")
	linksFile := fs.String("links", "", "a file of 'token email' lines, one link per sign-in")
	logFile := fs.String("log", "", "the server's log file")
	conc := fs.Int("c", 8, "concurrent visitors")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for a code to reach the log")
	fs.Parse(args)
	if err := checkBase(*base); err != nil {
		return err
	}
	if *linksFile == "" || *logFile == "" || *conc < 1 {
		return errors.New("-links, -log and -c >= 1 are required")
	}
	data, err := os.ReadFile(*linksFile)
	if err != nil {
		return err
	}
	type target struct{ token, email string }
	var targets []target
	for _, ln := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(ln)
		if len(f) == 2 {
			targets = append(targets, target{f[0], f[1]})
		}
	}
	if len(targets) == 0 {
		return errors.New("no links in -links")
	}
	done := make(chan struct{})
	defer close(done)
	logs := &codeLog{codes: map[string]chan string{}}
	if err := logs.follow(*logFile, done); err != nil {
		return err
	}
	pool := client(*conc)
	rec := &recorder{}
	var mu sync.Mutex
	var deliver []time.Duration
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(targets) {
					return
				}
				t := targets[i]
				t0 := time.Now()
				d, err := codeSignIn(newVisitor(pool, *base, t.token), logs.ch(t.email), *wait)
				rec.add(time.Since(t0), err)
				if err == nil {
					mu.Lock()
					deliver = append(deliver, d)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	r := summarize("code", rec.lat, rec.errs, rec.firstErr, time.Since(start))
	r.Extra = map[string]float64{"concurrency": float64(*conc), "deliver_p50_ms": pct(deliver, 50), "deliver_p99_ms": pct(deliver, 99)}
	return printJSON(r)
}

// codeSignIn: the sign-in page, "send me a code", the code from the log,
// then the code. It returns how long the code took to reach the log.
func codeSignIn(v *visitor, codes <-chan string, wait time.Duration) (time.Duration, error) {
	csrf, auth, err := v.page("")
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if _, err := v.post("/code/send", url.Values{"csrf": {csrf}, "auth": {auth}}); err != nil {
		return 0, err
	}
	var code string
	select {
	case code = <-codes:
	case <-time.After(wait):
		return 0, fmt.Errorf("no code in the log after %s", wait)
	}
	d := time.Since(t0)
	if _, err := v.post("/code/verify", url.Values{"csrf": {csrf}, "auth": {auth}, "code": {code}}); err != nil {
		return 0, err
	}
	if !v.signedIn() {
		return 0, errors.New("the sign-in set no session cookie")
	}
	return d, nil
}
