package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"strings"
	"time"
)

type linkObject struct {
	ID    string `json:"id"`
	Link  string `json:"link"`
	Count int    `json:"access_count"`
	Max   int    `json:"max_access_count"`
}

// linkToken is the token of a link URL: what follows its /s/.
func linkToken(link string) string {
	if k := strings.LastIndex(link, "/s/"); k >= 0 {
		return link[k+3:]
	}
	return link
}

// createOpts shapes a run of link creates: n email_otp download links to
// target, one per call, from conc clients, spread over tags tags.
type createOpts struct {
	base, token, target, prefix string
	n, conc, tags               int
}

// madeLink is a link made by createLinks and its authenticator's address.
type madeLink struct{ token, email string }

func createLinks(o createOpts) (*result, []madeLink, error) {
	if o.target == "" || o.n < 1 || o.conc < 1 || o.tags < 1 {
		return nil, nil, errors.New("-target, -n >= 1, -c >= 1 and -tags >= 1 are required")
	}
	c := client(o.conc)
	links := make([]madeLink, o.n)
	rec := &recorder{}
	start := time.Now()
	forEach(o.n, o.conc, func(i int) {
		email := fmt.Sprintf("%s-%05d@example.com", o.prefix, i)
		body := map[string]any{"links": []any{map[string]any{
			"targets":        []string{o.target},
			"link_type":      "download",
			"authenticators": []any{map[string]string{"auth_type": "email_otp", "auth_context": email}},
			"tags":           []string{fmt.Sprintf("bench-t%02d", i%o.tags)},
			"title":          fmt.Sprintf("bench link %d", i),
		}}}
		var res struct {
			Links []linkObject `json:"share_link_objects"`
		}
		t0 := time.Now()
		err := api(c, o.base, o.token, "/v1/share/link/create", body, &res)
		if err == nil && len(res.Links) != 1 {
			err = fmt.Errorf("create returned %d links", len(res.Links))
		}
		rec.add(time.Since(t0), err)
		if err == nil {
			links[i] = madeLink{linkToken(res.Links[0].Link), email}
		}
	})
	r := summarize("create", rec, time.Since(start))
	r.Extra = map[string]float64{"concurrency": float64(o.conc)}
	made := links[:0]
	for _, l := range links {
		if l.token != "" {
			made = append(made, l)
		}
	}
	return r, made, nil
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
	r, links, err := createLinks(createOpts{base: *base, token: tok, target: *target, prefix: *prefix,
		n: *n, conc: *conc, tags: *tags})
	if err != nil {
		return err
	}
	if *outFile != "" {
		var buf bytes.Buffer
		for _, l := range links {
			fmt.Fprintf(&buf, "%s %s\n", l.token, l.email)
		}
		if err := os.WriteFile(*outFile, buf.Bytes(), 0o600); err != nil {
			return err
		}
	}
	return printJSON(r)
}

// listOpts shapes a run of share/link/list calls: n per filter shape (a
// random one of tags tags; target_id of target when set), one at a time.
type listOpts struct {
	base, token, target string
	n, tags, expect     int
	size                int
}

type listShape struct {
	name   string
	filter func() map[string]any
}

func listLinks(o listOpts) (*result, error) {
	c := client(1)
	rng := rand.New(rand.NewSource(1))
	shapes := []listShape{{"tags", func() map[string]any {
		return map[string]any{"tags": []string{fmt.Sprintf("bench-t%02d", rng.Intn(o.tags))}}
	}}}
	if o.target != "" {
		shapes = append(shapes, listShape{"target_id", func() map[string]any {
			return map[string]any{"target_id": o.target}
		}})
	}
	out := &result{Mode: "list"}
	start := time.Now()
	for _, sh := range shapes {
		s, err := listShapeRun(c, o, sh)
		if err != nil {
			return nil, err
		}
		out.Shapes = append(out.Shapes, s)
		out.N += s.N
	}
	out.Seconds = time.Since(start).Seconds()
	return out, nil
}

func listShapeRun(c *http.Client, o listOpts, sh listShape) (shapeResult, error) {
	var lat []time.Duration
	var counts, rows float64
	for range o.n {
		var res struct {
			Count int          `json:"count"`
			Links []linkObject `json:"share_link_objects"`
		}
		body := map[string]any{"filter": sh.filter(), "size": o.size}
		t0 := time.Now()
		if err := api(c, o.base, o.token, "/v1/share/link/list", body, &res); err != nil {
			return shapeResult{}, err
		}
		lat = append(lat, time.Since(t0))
		if sh.name == "tags" && o.expect > 0 && res.Count < o.expect {
			return shapeResult{}, fmt.Errorf("tags filter counted %d links, want at least %d", res.Count, o.expect)
		}
		counts += float64(res.Count)
		rows += float64(len(res.Links))
	}
	return shapeResult{Name: sh.name, N: len(lat), P50: pct(lat, 50), P99: pct(lat, 99),
		Max: pct(lat, 100), MeanCount: counts / float64(o.n), MeanRows: rows / float64(o.n)}, nil
}

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
	r, err := listLinks(listOpts{base: *base, token: tok, target: *target, n: *n, tags: *tags, expect: *expect, size: *size})
	if err != nil {
		return err
	}
	return printJSON(r)
}
