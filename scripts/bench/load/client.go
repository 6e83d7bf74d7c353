package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

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

// result is what every load mode measures: counts, the rate and latencies
// in ms. The stand-alone modes print it as JSON.
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
	s := slices.Clone(d)
	slices.Sort(s)
	k := int(p/100*float64(len(s))+0.999999) - 1
	k = max(0, min(k, len(s)-1))
	return float64(s[k]) / float64(time.Millisecond)
}

func summarize(mode string, rec *recorder, elapsed time.Duration) *result {
	lat := rec.lat
	r := &result{Mode: mode, N: len(lat), Errors: rec.errs, Seconds: elapsed.Seconds(),
		P50: pct(lat, 50), P99: pct(lat, 99), Max: pct(lat, 100)}
	if elapsed > 0 {
		r.PerSec = float64(len(lat)) / elapsed.Seconds()
	}
	if rec.firstErr != nil {
		r.FirstEr = rec.firstErr.Error()
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

// forEach calls fn(i) for every i in [0, n), from conc goroutines that
// take the next index as they become free.
func forEach(n, conc int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
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
	return decodeEnvelope(path, data, out)
}

// decodeEnvelope checks an API reply's status and decodes its result.
func decodeEnvelope(path string, data []byte, out any) error {
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
