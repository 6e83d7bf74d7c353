package main

import (
	"math"
	"testing"
)

// A wrk 4.1 report, run with --latency, of a server that refused the
// requests' Range and had socket errors.
const wrkSample = `Running 1s test @ http://127.0.0.1:39111/missing
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.58ms   22.09ms 135.76ms   91.50%
    Req/Sec    25.68k    21.38k   63.74k    70.00%
  Latency Distribution
     50%   57.00us
     75%    1.80ms
     90%   20.18ms
     99%    1.02s
  26335 requests in 1.10s, 6.08MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 26335
Requests/sec:  23940.67
Transfer/sec:      5.53MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkSample)
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("rps", r.rps, 23940.67)
	near("p50", r.p50, 0.057)
	near("p99", r.p99, 1020)
	near("perReq", r.perReq, 6.08*(1<<20)/26335)
	if r.n != 26335 || r.bad != 26335 || r.errs != 6 || r.tmo != 4 {
		t.Errorf("n, bad, errs, tmo = %d, %d, %d, %d; want 26335, 26335, 6, 4", r.n, r.bad, r.errs, r.tmo)
	}
}

func TestParseWrk_NoRate(t *testing.T) {
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Fatal("parseWrk accepted an output without Requests/sec")
	}
}
