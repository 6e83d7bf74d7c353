package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

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
				l.scan(partial)
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

// scan hands out the code of one log line, if it has one.
func (l *codeLog) scan(line []byte) {
	if m := codeRE.FindSubmatch(line); m != nil {
		if to := toRE.FindSubmatch(line); to != nil {
			select {
			case l.ch(string(to[1])) <- string(m[1]):
			default: // nobody waits for this many codes to that address
			}
		}
	}
}

// codeSignIns signs in once to each of links, by a code sent by email and
// read from the server's log file, from conc visitors.
func codeSignIns(base string, links []madeLink, logFile string, conc int, wait time.Duration) (*result, error) {
	if len(links) == 0 || logFile == "" || conc < 1 {
		return nil, errors.New("links, a log file and -c >= 1 are required")
	}
	done := make(chan struct{})
	defer close(done)
	logs := &codeLog{codes: map[string]chan string{}}
	if err := logs.follow(logFile, done); err != nil {
		return nil, err
	}
	pool := client(conc)
	rec := &recorder{}
	var mu sync.Mutex
	var deliver []time.Duration
	start := time.Now()
	forEach(len(links), conc, func(i int) {
		t := links[i]
		t0 := time.Now()
		d, err := codeSignIn(newVisitor(pool, base, t.token), logs.ch(t.email), wait)
		rec.add(time.Since(t0), err)
		if err == nil {
			mu.Lock()
			deliver = append(deliver, d)
			mu.Unlock()
		}
	})
	r := summarize("code", rec, time.Since(start))
	r.Extra = map[string]float64{"concurrency": float64(conc), "deliver_p50_ms": pct(deliver, 50), "deliver_p99_ms": pct(deliver, 99)}
	return r, nil
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
	if *linksFile == "" {
		return errors.New("-links is required")
	}
	data, err := os.ReadFile(*linksFile)
	if err != nil {
		return err
	}
	var links []madeLink
	for ln := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		if f := strings.Fields(ln); len(f) == 2 {
			links = append(links, madeLink{f[0], f[1]})
		}
	}
	r, err := codeSignIns(*base, links, *logFile, *conc, *wait)
	if err != nil {
		return err
	}
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
