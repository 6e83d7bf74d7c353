package main

import (
	"fmt"
	"path/filepath"
	"time"
)

// apiResult is what the link and sign-in sections measured.
type apiResult struct {
	linksLoad, signinLoad         string
	create, list, pw, code, burst *result
	createUse, pwUse, codeUse     cpuUse
	pwPeak, codePeak              string // server peak RSS, MiB
	burstPeak, burstStart         string
	linksTotal                    int
	pwAccess, pwMax               int
}

// phaseLinks creates BENCH_CREATE_LINKS email_otp links, one per call,
// then lists them by tag and by target.
func (b *bench) phaseLinks() error {
	if !b.cfg.on("links") {
		return nil
	}
	c, r := b.cfg, &b.res.api
	r.linksLoad = load1()
	b.logf("share/link/create: %d email_otp links, one per call, %d clients", c.createLinks, c.createConc)
	m := startCPU(b.hz, b.serverPIDs)
	res, _, err := createLinks(createOpts{base: b.base, token: b.token, target: b.objID, prefix: "bench-list",
		n: c.createLinks, conc: c.createConc, tags: 20})
	if err != nil {
		return err
	}
	r.create, r.createUse = res, m.stop(res.Seconds)
	if res.Errors != 0 {
		return fmt.Errorf("%d link creates failed, the first: %s", res.Errors, res.FirstEr)
	}
	b.logf("  %.1f creates/s", res.PerSec)
	b.logf("share/link/list: %d calls per filter", c.listCalls)
	r.list, err = listLinks(listOpts{base: b.base, token: b.token, target: b.objID, n: c.listCalls, tags: 20,
		expect: c.createLinks / 20, size: 100})
	if err != nil {
		return err
	}
	var all struct {
		Count int `json:"count"`
	}
	if err := b.call("/v1/share/link/list", map[string]any{"size": 1}, &all); err != nil {
		return err
	}
	r.linksTotal = all.Count
	return nil
}

// phaseSignIns: password sign-ins for BENCH_SIGNIN_SECONDS, code sign-ins
// into BENCH_CODE_SIGNINS links, and BENCH_BURST password sign-ins posted
// at once, each with the server's peak RSS.
func (b *bench) phaseSignIns() error {
	if !b.cfg.on("signin") {
		return nil
	}
	c, r := b.cfg, &b.res.api
	r.signinLoad = load1()
	link, err := b.makeLink(b.objID, 1000000)
	if err != nil {
		return err
	}
	b.logf("password sign-ins: %d clients for %ds", c.signinConc, c.signinSeconds)
	b.rss.phaseStart()
	m := startCPU(b.hz, b.serverPIDs)
	r.pw, err = passwordSignIns(b.base, link, b.linkPassword, c.signinConc, time.Duration(c.signinSeconds)*time.Second)
	if err != nil {
		return err
	}
	r.pwUse, r.pwPeak = m.stop(r.pw.Seconds), b.rss.phasePeak()
	if r.pw.N == 0 {
		return fmt.Errorf("no password sign-in succeeded: %s", r.pw.FirstEr)
	}
	b.logf("  %.1f sign-ins/s", r.pw.PerSec)
	if err := b.codeSignIns(); err != nil {
		return err
	}
	if err := b.burst(link); err != nil {
		return err
	}
	// How the link's access count stands: every sign-in above counted once.
	var list struct {
		Links []linkObject `json:"share_link_objects"`
	}
	filter := map[string]any{"filter": map[string]any{"link": b.base + "/s/" + link}, "size": 1}
	if err := b.call("/v1/share/link/list", filter, &list); err != nil {
		return err
	}
	if len(list.Links) != 1 {
		return fmt.Errorf("share/link/list by link found %d links", len(list.Links))
	}
	r.pwAccess, r.pwMax = list.Links[0].Count, list.Links[0].Max
	return nil
}

// codeSignIns: an email code may be sent to one authenticator once a
// minute, so each sign-in has a link of its own.
func (b *bench) codeSignIns() error {
	c, r := b.cfg, &b.res.api
	b.logf("code sign-ins: %d links with an email_otp authenticator each, %d clients", c.codeSignins, c.signinConc)
	_, links, err := createLinks(createOpts{base: b.base, token: b.token, target: b.objID, prefix: "bench-code",
		n: c.codeSignins, conc: 4, tags: 1})
	if err != nil {
		return err
	}
	b.rss.phaseStart()
	m := startCPU(b.hz, b.serverPIDs)
	r.code, err = codeSignIns(b.base, links, filepath.Join(b.work, "server.log"), c.signinConc, 30*time.Second)
	if err != nil {
		return err
	}
	r.codeUse, r.codePeak = m.stop(r.code.Seconds), b.rss.phasePeak()
	if r.code.N == 0 {
		return fmt.Errorf("no code sign-in succeeded: %s", r.code.FirstEr)
	}
	b.logf("  %.1f sign-ins/s", r.code.PerSec)
	return nil
}

// burst posts BENCH_BURST password sign-ins at once, VmHWM reset before.
func (b *bench) burst(link string) error {
	r := &b.res.api
	b.logf("burst: %d password sign-ins posted at once", b.cfg.burst)
	r.burstStart = b.rss.now("VmRSS")
	b.rss.phaseStart()
	var err error
	if r.burst, err = burstSignIns(b.base, link, b.linkPassword, b.cfg.burst); err != nil {
		return err
	}
	r.burstPeak = b.rss.phasePeak()
	b.logf("  %.1f sign-ins/s, server peak RSS %s MiB", r.burst.PerSec, r.burstPeak)
	return nil
}
