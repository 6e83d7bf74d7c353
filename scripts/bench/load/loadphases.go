package main

import (
	"fmt"
	"time"
)

// apiResult is what the link and sign-in sections measured on a server.
type apiResult struct {
	linksLoad, signinLoad         string
	create, list, pw, code, burst *result
	createUse, pwUse, codeUse     groupUse
	pwPeak, codePeak              string // server peak RSS, MiB
	burstPeak, burstStart         string
	linksTotal                    int
	pwAccess, pwMax               int
}

// phaseLinks creates BENCH_CREATE_LINKS email_otp links on each server,
// one per call, then lists them by tag and by target; one server after
// the other.
func (b *bench) phaseLinks() error {
	if !b.cfg.on("links") {
		return nil
	}
	for _, sd := range b.sides {
		if err := b.links(sd); err != nil {
			return fmt.Errorf("%s: %w", sd.name, err)
		}
	}
	return nil
}

func (b *bench) links(sd *side) error {
	c, r := b.cfg, &sd.res.api
	r.linksLoad = load1()
	b.logf("%s: share/link/create: %d email_otp links, one per call, %d clients", sd.name, c.createLinks, c.createConc)
	stop := b.startGroup(sd.group())
	res, _, err := createLinks(createOpts{base: sd.base, token: sd.token, target: sd.objID, prefix: "bench-list",
		n: c.createLinks, conc: c.createConc, tags: 20})
	if err != nil {
		return err
	}
	r.create, r.createUse = res, stop(res.Seconds)
	if res.Errors != 0 {
		return fmt.Errorf("%d link creates failed, the first: %s", res.Errors, res.FirstEr)
	}
	b.logf("  %.1f creates/s", res.PerSec)
	b.logf("%s: share/link/list: %d calls per filter", sd.name, c.listCalls)
	r.list, err = listLinks(listOpts{base: sd.base, token: sd.token, target: sd.objID, n: c.listCalls, tags: 20,
		expect: c.createLinks / 20, size: 100})
	if err != nil {
		return err
	}
	var all struct {
		Count int `json:"count"`
	}
	if err := b.callOn(sd.server, "/v1/share/link/list", map[string]any{"size": 1}, &all); err != nil {
		return err
	}
	r.linksTotal = all.Count
	return nil
}

// phaseSignIns: on each server, one after the other, password sign-ins
// for BENCH_SIGNIN_SECONDS, code sign-ins into BENCH_CODE_SIGNINS links,
// and BENCH_BURST password sign-ins posted at once, each with the
// server's peak RSS.
func (b *bench) phaseSignIns() error {
	if !b.cfg.on("signin") {
		return nil
	}
	for _, sd := range b.sides {
		if err := b.signIns(sd); err != nil {
			return fmt.Errorf("%s: %w", sd.name, err)
		}
	}
	return nil
}

func (b *bench) signIns(sd *side) error {
	c, r := b.cfg, &sd.res.api
	r.signinLoad = load1()
	link, err := b.makeLinkOn(sd.server, sd.objID, 1000000)
	if err != nil {
		return err
	}
	b.logf("%s: password sign-ins: %d clients for %ds", sd.name, c.signinConc, c.signinSeconds)
	sd.rss.phaseStart()
	stop := b.startGroup(sd.group())
	r.pw, err = passwordSignIns(sd.base, link, b.linkPassword, c.signinConc, time.Duration(c.signinSeconds)*time.Second)
	if err != nil {
		return err
	}
	r.pwUse, r.pwPeak = stop(r.pw.Seconds), sd.rss.phasePeak()
	if r.pw.N == 0 {
		return fmt.Errorf("no password sign-in succeeded: %s", r.pw.FirstEr)
	}
	b.logf("  %.1f sign-ins/s", r.pw.PerSec)
	if err := b.codeSignIns(sd); err != nil {
		return err
	}
	if err := b.burst(sd, link); err != nil {
		return err
	}
	// How the link's access count stands: every sign-in above counted once.
	var list struct {
		Links []linkObject `json:"share_link_objects"`
	}
	filter := map[string]any{"filter": map[string]any{"link": sd.base + "/s/" + link}, "size": 1}
	if err := b.callOn(sd.server, "/v1/share/link/list", filter, &list); err != nil {
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
func (b *bench) codeSignIns(sd *side) error {
	c, r := b.cfg, &sd.res.api
	b.logf("%s: code sign-ins: %d links with an email_otp authenticator each, %d clients", sd.name, c.codeSignins, c.signinConc)
	_, links, err := createLinks(createOpts{base: sd.base, token: sd.token, target: sd.objID, prefix: "bench-code",
		n: c.codeSignins, conc: 4, tags: 1})
	if err != nil {
		return err
	}
	sd.rss.phaseStart()
	stop := b.startGroup(sd.group())
	r.code, err = codeSignIns(sd.base, links, sd.log, c.signinConc, 30*time.Second)
	if err != nil {
		return err
	}
	r.codeUse, r.codePeak = stop(r.code.Seconds), sd.rss.phasePeak()
	if r.code.N == 0 {
		return fmt.Errorf("no code sign-in succeeded: %s", r.code.FirstEr)
	}
	b.logf("  %.1f sign-ins/s", r.code.PerSec)
	return nil
}

// burst posts BENCH_BURST password sign-ins at once, VmHWM reset before.
func (b *bench) burst(sd *side, link string) error {
	r := &sd.res.api
	b.logf("%s: burst: %d password sign-ins posted at once", sd.name, b.cfg.burst)
	r.burstStart = sd.rss.now("VmRSS")
	sd.rss.phaseStart()
	var err error
	if r.burst, err = burstSignIns(sd.base, link, b.linkPassword, b.cfg.burst); err != nil {
		return err
	}
	r.burstPeak = sd.rss.phasePeak()
	b.logf("  %.1f sign-ins/s, server peak RSS %s MiB", r.burst.PerSec, r.burstPeak)
	return nil
}
