package main

import (
	"cmp"
	"fmt"
	"os"
	"strings"
)

// loadRow is a row of the API table; without a CPU measure, "-" columns.
func loadRow(label, server string, d *result, u groupUse, peak string) string {
	cpus, per, helpers := "-", "-", "-"
	if u.main.measured && d.Seconds > 0 {
		cpus = fmt.Sprintf("%.2f / %.2f", u.main.busy, u.main.wait)
		if d.PerSec > 0 {
			per = fmt.Sprintf("%.1f", u.main.busy/d.PerSec*1000)
			if u.helpers {
				helpers = fmt.Sprintf("%.1f / %.1f", u.db.busy/d.PerSec*1000, u.s3.busy/d.PerSec*1000)
			}
		}
	}
	return fmt.Sprintf("| %s | %s | %d | %.0f | %.1f | **%.1f** | %.1f | %.1f | %.1f | %d | %s | %s | %s | %s |\n",
		label, server, d.N, d.Extra["concurrency"], d.Seconds, d.PerSec, d.P50, d.P99, d.Max, d.Errors, cpus, per, helpers, peak)
}

func (b *bench) apiTable() string {
	c := b.cfg
	var t strings.Builder
	t.WriteString("| operation | server | done | clients | seconds | per second | p50 ms | p99 ms | max ms | errors " +
		"| server CPUs busy / waiting for a CPU | server CPU ms per op | PostgreSQL / S3 server CPU ms per op | server peak RSS (MiB) |\n")
	t.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	if c.on("links") {
		for _, sd := range b.sides {
			r := &sd.res.api
			t.WriteString(loadRow("POST /v1/share/link/create, 1 email_otp link per call", sd.name, r.create, r.createUse, "-"))
		}
	}
	if !c.on("signin") {
		return t.String()
	}
	for _, sd := range b.sides {
		r := &sd.res.api
		t.WriteString(loadRow(fmt.Sprintf("password sign-in (GET page, POST password → 303 + session cookie), for %d s", c.signinSeconds),
			sd.name, r.pw, r.pwUse, r.pwPeak))
	}
	for _, sd := range b.sides {
		r := &sd.res.api
		t.WriteString(loadRow("code sign-in (GET page, POST code/send, code from the log, POST code/verify), 1 per link",
			sd.name, r.code, r.codeUse, r.codePeak))
	}
	for _, sd := range b.sides {
		r := &sd.res.api
		t.WriteString(loadRow(fmt.Sprintf("%d password sign-ins posted at once (after %d page GETs)", c.burst, c.burst),
			sd.name, r.burst, groupUse{}, fmt.Sprintf("**%s** (at start %s)", r.burstPeak, r.burstStart)))
	}
	return t.String()
}

func (b *bench) apiLines() string {
	c := b.cfg
	var t strings.Builder
	for _, sd := range b.sides {
		r := &sd.res.api
		fmt.Fprintf(&t, "- %s: 1-minute load average when these sections began: %s (links), %s (sign-ins), on %d CPUs\n",
			sd.name, orNotRun(r.linksLoad), orNotRun(r.signinLoad), nproc())
		if c.on("links") {
			fmt.Fprintf(&t, "- %s: %s\n", sd.name, cpuNote(r.createUse.main, "the link creates"))
		}
		if !c.on("signin") {
			continue
		}
		fmt.Fprintf(&t, "- %s: %s\n- %s: %s\n", sd.name, cpuNote(r.pwUse.main, "the password sign-ins"),
			sd.name, cpuNote(r.codeUse.main, "the code sign-ins"))
		fmt.Fprintf(&t, "- %s: code sign-ins: from the POST of code/send until the code was in the server log, p50 %.1f ms, p99 %.1f ms\n",
			sd.name, r.code.Extra["deliver_p50_ms"], r.code.Extra["deliver_p99_ms"])
		fmt.Fprintf(&t, "- %s: the password link's access count after the sign-ins: %d (max_access_count %d)\n", sd.name, r.pwAccess, r.pwMax)
	}
	return t.String()
}

func orNotRun(load string) string {
	if load == "" {
		return "not run"
	}
	return load
}

func (b *bench) apiPart() string {
	c := b.cfg
	if !c.on("links") && !c.on("signin") {
		return ""
	}
	var t strings.Builder
	fmt.Fprintf(&t, `## Share links and sign-ins through HTTP

`+"`scripts/bench/load`"+`, a Go program (standard library only), is the client:
it keeps its connections alive, and each sign-in is a new visitor with its
own cookie jar (the pre-session cookie the sign-in page sets, then the
session cookie), who does not follow the final redirect. Latencies are per
operation (per link create, per whole sign-in). Each section runs on one
server, then on the other. The servers run with
`+"`SESAME_LINKS_MAX_ACCESS_COUNT=1000000`"+` so that one link can take every
password sign-in (each counts as an access); otherwise their default
configuration (`+"`notify.email: log`"+`, log level info). The CPU columns are
as in the wrk table: sesame's CPU time over the run and its threads'
time waiting for a CPU, each divided by the run's length, and the CPU time
per operation, sesame's and (for PostgreSQL + S3) the PostgreSQL
cluster's and the S3 server's.

%s
%s`, b.apiTable(), b.apiLines())
	if c.on("links") {
		t.WriteString("\n" + b.listPart())
	}
	if c.on("signin") {
		t.WriteString("\n" + b.signinText())
	}
	return t.String()
}

// million points to the 1,000,000-link list benchmark, if there is one.
func million() string {
	data, _ := os.ReadFile("docs/benchmarks-links.md")
	last := ""
	for line := range strings.Lines(string(data)) {
		if strings.HasPrefix(line, "## 1,000,000 links") {
			last = strings.TrimSpace(strings.TrimPrefix(line, "## "))
		}
	}
	if last == "" {
		return "`scripts/bench-links.sh` measures that (docs/benchmarks-links.md has no 1,000,000-link section yet)"
	}
	return fmt.Sprintf("see [benchmarks-links.md](benchmarks-links.md), section %q, made by `scripts/bench-links.sh` "+
		"(the store's FindLinks and CreateLinks, no HTTP)", last)
}

var listNames = map[string]string{
	"tags":      "tags all-of [one of 20 tags] (≈1/20 of the links)",
	"target_id": "target_id = the big file (every link made here)",
}

func (b *bench) listPart() string {
	c, r := b.cfg, &b.lite().res.api
	var t strings.Builder
	fmt.Fprintf(&t, `share/link/create: %s links, one per `+"`POST /v1/share/link/create`"+`
(one download link to the big file, one email_otp authenticator with its own
address, so no password hashing, one of 20 tags), by %d clients. Each
create also writes its audit event. share/link/list then runs over the
%s links each server holds (these and the few made by the other
sections): %d calls per filter, one at a time, through HTTP (JSON
encoding and the envelope included). For list latency over 1,000,000
links, %s; this run does not build a million links.

| share/link/list, size 100, one client, filter | server | links | calls | p50 ms | p99 ms | max ms | mean count | mean rows |
|---|---|---:|---:|---:|---:|---:|---:|---:|
`, commas(int64(c.createLinks)), c.createConc, commas(int64(r.linksTotal)), c.listCalls, million())
	for _, sd := range b.sides {
		r := &sd.res.api
		for _, s := range r.list.Shapes {
			fmt.Fprintf(&t, "| %s | %s | %s | %d | %.2f | **%.2f** | %.2f | %.0f | %.0f |\n",
				cmp.Or(listNames[s.Name], s.Name), sd.name, commas(int64(r.linksTotal)), s.N, s.P50, s.P99, s.Max, s.MeanCount, s.MeanRows)
		}
	}
	return t.String()
}

func (b *bench) signinText() string {
	c := b.cfg
	return fmt.Sprintf(`Password sign-ins: one download link with one password authenticator
(argon2id, 19 MiB, 2 passes, 1 lane; the server runs at most GOMAXPROCS
hashes at once and queues the rest), %d visitors signing in over and
over for %d s. Code sign-ins: an email code may be sent to one
authenticator once a minute and five times an hour, so one authenticator
cannot be signed into quickly again and again; instead %s links, each with
its own email_otp authenticator and address, are signed into once each by
%d visitors. With `+"`notify.email: log`"+` the server writes each
email to its log; the client follows the log file and takes the code from
the line with the visitor's address (`+"`to=…`, `text=\"…code is NNNNNN…\"`"+`).
The time from the POST of code/send until the code is in the log (the
outbox worker delivering it) is part of each code sign-in. The burst:
%d visitors fetch the sign-in page one after another, then all %d POST
the password at the same moment; the server's VmHWM was reset just before
(RSS then: %s).
`, c.signinConc, c.signinSeconds, commas(int64(c.codeSignins)), c.signinConc, c.burst, c.burst,
		b.bySide(func(sd *side) string { return sd.res.api.burstStart + " MiB" }))
}

const notes = `## Notes

- The machine has enough memory that the uploaded blob is still in the page
  cache when it is downloaded, so the GET rows measure the server's copying,
  not the disk; compare them with the page-cache read above.
- A PUT streams the file to a staging file, hashing every byte on the way
  (md5, sha1, sha256, sha512 and crc32c), fsyncs it and renames it into
  place; compare it with the write row. With few CPUs it is bound by CPU
  (the hashes, and the kernel's copy into the page cache), not by the disk.
- On SQLite + disk the portal and dest-url downloads hand the blob's file
  to net/http, which sends it with sendfile(2), as http.ServeFile and nginx
  do; what the portal adds per request (link and session lookups, the
  audit event) is fixed, so for a large file the ratio says how much of
  the copying the wrapper costs, and for a small file how much the fixed
  part weighs.
- The ZIP cannot use sendfile: every byte goes through archive/zip's CRC-32
  and gin's buffered writer, and each of its files is opened separately.
- The load client and wrk run on the same machine and take CPU too; with
  few CPUs the client and the server compete, and the loopback copy is the
  ceiling.
- The servers write one log line per request (their default, log level
  info); nginx here writes no access log.
`
