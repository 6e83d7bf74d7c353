package sesame

import (
	"cmp"
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// LinkPolicy holds the operator's rules for new links.
type LinkPolicy struct {
	DefaultExpiry    time.Duration // when a link names no expiry
	MaxExpiry        time.Duration // later expiries are clamped to this
	DefaultMaxAccess int           // when a link names no access cap
	MaxAccessCount   int           // larger caps are clamped to this
	// SMSCountries lists the calling-code prefixes ("+1", "+44") that SMS
	// codes may go to; empty allows every country.
	SMSCountries []string
	// SocialSignIn allows social authenticators: the server has an
	// OpenID Connect provider to sign recipients in with.
	SocialSignIn bool
}

// DefaultLinkPolicy returns the rules used when none are configured.
func DefaultLinkPolicy() LinkPolicy {
	return LinkPolicy{DefaultExpiry: 7 * 24 * time.Hour, MaxExpiry: 30 * 24 * time.Hour, DefaultMaxAccess: 10, MaxAccessCount: 1000}
}

// LinkService applies the link rules (who may grant what, validation,
// defaults, clamping, password hashing) and stores the result. It is the
// one place that creates and changes links, for the API and for MCP tools
// alike. The caller is the token in the context (WithToken); without one,
// every create and update is Forbidden.
type LinkService struct {
	Store LinkStore
	// Mailer renders and queues the emails of Send.
	Mailer LinkMailer
	Hasher PasswordHasher
	Policy LinkPolicy
	Now    func() time.Time
}

func (s *LinkService) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// Create validates every item, then stores them all or none. Forbidden
// when an item would grant more than the caller holds. Errors point
// at the offending field with a JSON pointer below each item's Source; one
// error lists every problem found, up to MaxFieldErrors.
func (s *LinkService) Create(ctx context.Context, items []LinkCreate) ([]*Link, error) {
	if len(items) == 0 {
		return nil, FieldErr("BelowMinItems", "/links", "links must hold at least one link")
	}
	if len(items) > MaxLinksPerCreate {
		return nil, FieldErr("AboveMaxItems", "/links", "links may hold at most %d links", MaxLinksPerCreate)
	}
	now := s.now()
	var errs Problems
	for i := range items {
		it := &items[i]
		if it.Source == "" {
			it.Source = fmt.Sprintf("/links/%d", i)
		}
		// A link grants no more than its creator holds: refused before
		// anything is looked up.
		if t := cmp.Or(it.Type, LinkDownload); grantScopes[t] != nil {
			if err := checkGrant(ctx, it.Source+"/link_type", "create", t); err != nil {
				return nil, err
			}
		}
		if it.SendTo != nil {
			if err := require(ctx, it.Source+"/send_params", "This token cannot send links", ScopeLinksSend); err != nil {
				return nil, err
			}
		}
	}
	for i := range items {
		if !errs.Full() {
			s.checkCreate(&errs, &items[i], now)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	hashed := make([][]LinkAuthenticator, len(items))
	for i := range items {
		auths, err := s.hashAuthenticators(ctx, items[i].Authenticators)
		if err != nil {
			return nil, err
		}
		hashed[i] = auths
	}
	links, err := s.Store.CreateLinks(ctx, items, hashed, now)
	if err != nil {
		return nil, err
	}
	return s.sendNew(ctx, items, links)
}

// sendNew emails the new links whose items ask for it.
func (s *LinkService) sendNew(ctx context.Context, items []LinkCreate, links []*Link) ([]*Link, error) {
	for i, it := range items {
		if it.SendTo == nil {
			continue
		}
		sent, err := s.Mailer.SendLinks(ctx, LinkSendRequest{Items: []LinkSend{{LinkID: links[i].ID, Email: it.SendTo.RecipientEmail, Language: it.SendTo.Language}},
			SenderEmail: it.SendTo.SenderEmail, SenderName: it.SendTo.SenderName})
		if err != nil {
			return nil, err
		}
		links[i] = sent[0]
	}
	return links, nil
}

// checkCreate adds every rule it breaks to errs, and fills in defaults.
func (s *LinkService) checkCreate(errs *Problems, it *LinkCreate, now time.Time) {
	src := it.Source
	switch it.Type {
	case "":
		it.Type = LinkDownload
	case LinkDownload, LinkUpload, LinkEditor:
	default:
		errs.Addf("NotEnumMember", src+"/link_type", "link_type must be download, upload or editor, not %q", it.Type)
	}
	checkTargets(errs, src+"/targets", it.Targets, true)
	s.checkAuthenticators(errs, src+"/authenticators", it.Authenticators)
	checkText(errs, src, it.Title, it.Message, it.Tags)
	if it.NotifyEmail != "" && !ValidEmail(it.NotifyEmail) {
		errs.Addf("BadFormatEmail", src+"/notify_email", "notify_email must be one email address such as bob@example.com")
	}
	sender := ""
	if it.SendTo != nil {
		sender = it.SendTo.SenderEmail
	}
	checkNotify(errs, src+"/notify", it.Notify, sender)
	exp, err := s.expiry(src+"/expires_at", it.Expires, now)
	errs.Add(err)
	it.Expires = exp
	n, err := s.accessCap(src+"/max_access_count", it.MaxAccessCount)
	errs.Add(err)
	it.MaxAccessCount = &n
	if it.MaxDownloads != nil && *it.MaxDownloads < 1 {
		errs.Addf("NotWithinRange", src+"/max_downloads", "max_downloads must be at least 1 (leave it out for no cap)")
	}
}

func checkTargets(errs *Problems, src string, targets []string, required bool) {
	if required && len(targets) == 0 {
		errs.Addf("BelowMinItems", src, "targets must name at least one file or folder")
		return
	}
	if len(targets) > MaxTargets {
		errs.Addf("AboveMaxItems", src, "targets may name at most %d objects", MaxTargets)
		return
	}
	seen := make(map[string]bool, len(targets))
	for i, t := range targets {
		if errs.Full() {
			return
		}
		p := fmt.Sprintf("%s/%d", src, i)
		switch {
		case !ValidID(PrefixObject, t):
			errs.Add(FieldErr("DoesNotExist", p, "target %q does not exist", t).WithKind(NotFound))
		case seen[t]:
			errs.Addf("ItemNotUnique", p, "target %s is listed twice", t)
		}
		seen[t] = true
	}
}

func checkText(errs *Problems, src, title, message string, tags []string) {
	if utf8.RuneCountInString(title) > MaxTitleLen {
		errs.Addf("AboveMaxLength", src+"/title", "title must be at most %d characters", MaxTitleLen)
	} else {
		errs.Add(CheckText(src+"/title", title, false))
	}
	if utf8.RuneCountInString(message) > MaxMessageLen {
		errs.Addf("AboveMaxLength", src+"/message", "message must be at most %d characters", MaxMessageLen)
	} else {
		errs.Add(CheckText(src+"/message", message, true))
	}
	if len(tags) > MaxTags {
		errs.Addf("AboveMaxItems", src+"/tags", "at most %d tags", MaxTags)
		return
	}
	for i, t := range tags {
		switch {
		case errs.Full():
			return
		case t == "":
			errs.Addf("BelowMinLength", fmt.Sprintf("%s/tags/%d", src, i), "tags must not be empty")
		case utf8.RuneCountInString(t) > MaxTagLen:
			errs.Addf("AboveMaxLength", fmt.Sprintf("%s/tags/%d", src, i), "tags must be 1 to %d characters", MaxTagLen)
		}
	}
}

func (s *LinkService) expiry(src string, t, now time.Time) (time.Time, error) {
	if t.IsZero() {
		return now.Add(s.Policy.DefaultExpiry), nil
	}
	if !t.After(now) {
		return t, FieldErr("NotWithinRange", src, "expires_at must be in the future")
	}
	if limit := now.Add(s.Policy.MaxExpiry); t.After(limit) {
		return limit, nil
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

func (s *LinkService) accessCap(src string, n *int) (int, error) {
	if n == nil {
		return s.Policy.DefaultMaxAccess, nil
	}
	if *n < 1 {
		return 0, FieldErr("NotWithinRange", src, "max_access_count must be at least 1")
	}
	return min(*n, s.Policy.MaxAccessCount), nil
}

// checkAuthenticators adds the authenticator rules it breaks to errs and
// normalises phone numbers in place.
func (s *LinkService) checkAuthenticators(errs *Problems, src string, auths []AuthenticatorInput) {
	if len(auths) == 0 {
		errs.Addf("BelowMinItems", src, "authenticators must hold at least one way to sign in")
		return
	}
	if len(auths) > MaxAuthenticators {
		errs.Addf("AboveMaxItems", src, "authenticators may hold at most %d entries", MaxAuthenticators)
		return
	}
	hasOTP := false
	for _, a := range auths {
		hasOTP = hasOTP || a.Type == AuthEmailOTP || a.Type == AuthSMSOTP
	}
	seen := map[string]bool{}
	for i := range auths {
		a := &auths[i]
		p := fmt.Sprintf("%s/%d", src, i)
		if err := s.checkAuthenticator(p, a, hasOTP); err != nil {
			errs.Add(err)
			continue
		}
		key := string(a.Type) + "\x00" + strings.ToLower(a.Context)
		if a.Type != AuthPassword && seen[key] {
			errs.Addf("ItemNotUnique", p, "the same authenticator is listed twice")
		}
		seen[key] = true
	}
}

// checkAuthenticator applies the rules of one authenticator's type.
func (s *LinkService) checkAuthenticator(p string, a *AuthenticatorInput, hasOTP bool) error {
	switch a.Type {
	case AuthPassword:
		n := utf8.RuneCountInString(a.Context)
		min, why := MinPasswordAlone, "a password that is the only authenticator"
		if hasOTP {
			min, why = MinPasswordWithOTP, "a password beside an email or SMS code"
		}
		if n < min {
			return FieldErr("BelowMinLength", p+"/auth_context", "%s needs at least %d characters", why, min)
		}
		if n > MaxPasswordLen {
			return FieldErr("AboveMaxLength", p+"/auth_context", "a password must be at most %d characters", MaxPasswordLen)
		}
	case AuthEmailOTP:
		if !ValidEmail(a.Context) {
			return FieldErr("BadFormatEmail", p+"/auth_context", "email_otp needs one email address such as bob@example.com")
		}
	case AuthSMSOTP:
		phone, ok := NormalizePhone(a.Context)
		if !ok {
			return FieldErr("DoesNotMatchPattern", p+"/auth_context", "sms_otp needs a phone number in E.164 form such as +14155550123")
		}
		if !s.smsAllowed(phone) {
			return FieldErr("NotEnumMember", p+"/auth_context", "SMS codes cannot be sent to %s: its country is not allowed on this server", MaskPhone(phone))
		}
		a.Context = phone
	case AuthSocial:
		if !s.Policy.SocialSignIn {
			return FieldErr("ProviderDisabled", p+"/auth_type", "auth_type social needs an OpenID Connect provider, and this server has none (oidc.providers)")
		}
		if !ValidEmail(a.Context) {
			return FieldErr("BadFormatEmail", p+"/auth_context", "social needs the email address the provider must vouch for, such as bob@example.com")
		}
	default:
		return FieldErr("NotEnumMember", p+"/auth_type", "auth_type must be password, email_otp, sms_otp or social, not %q", a.Type)
	}
	return nil
}

func (s *LinkService) smsAllowed(phone string) bool {
	if len(s.Policy.SMSCountries) == 0 {
		return true
	}
	for _, p := range s.Policy.SMSCountries {
		if strings.HasPrefix(phone, p) {
			return true
		}
	}
	return false
}

func (s *LinkService) hashAuthenticators(ctx context.Context, in []AuthenticatorInput) ([]LinkAuthenticator, error) {
	out := make([]LinkAuthenticator, len(in))
	for i, a := range in {
		out[i] = LinkAuthenticator{ID: NewTimeID("lau_", s.now()), Position: i, Type: a.Type, Context: a.Context}
		if a.Type == AuthPassword {
			phc, err := s.Hasher.Hash(ctx, a.Context)
			if err != nil {
				return nil, fmt.Errorf("sesame: hash password: %w", err)
			}
			out[i].Context = phc
		}
	}
	return out, nil
}

// Update validates and applies upd. A later expiry reactivates an expired
// link; new authenticators end every open session of the link. One error
// lists every problem found, up to MaxFieldErrors.
func (s *LinkService) Update(ctx context.Context, id string, upd LinkUpdate) (*Link, error) {
	if err := checkGrant(ctx, "", "change", LinkDownload); err != nil {
		return nil, err
	}
	cur, err := s.Store.LinkByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkGrant(ctx, "", "change", cur.Type); err != nil {
		return nil, err
	}
	now := s.now()
	var errs Problems
	if upd.SetTargets {
		checkTargets(&errs, "/targets", upd.Targets, true)
	}
	checkTargets(&errs, "/add_targets", upd.AddTargets, false)
	if upd.Expires != nil {
		t, err := s.expiry("/expires_at", *upd.Expires, now)
		errs.Add(err)
		upd.Expires = &t
	}
	if upd.MaxAccessCount != nil {
		n, err := s.accessCap("/max_access_count", upd.MaxAccessCount)
		errs.Add(err)
		upd.MaxAccessCount = &n
	}
	if upd.MaxDownloads != nil && *upd.MaxDownloads < 0 {
		errs.Addf("NotWithinRange", "/max_downloads", "max_downloads must be at least 1, or 0 to remove the cap")
	}
	checkText(&errs, "", deref(upd.Title), deref(upd.Message), upd.Tags)
	if upd.Authenticators != nil {
		s.checkAuthenticators(&errs, "/authenticators", upd.Authenticators)
	}
	checkNotify(&errs, "/notify", upd.Notify, cur.SenderEmail)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	var hashed []LinkAuthenticator
	if upd.Authenticators != nil {
		h, err := s.hashAuthenticators(ctx, upd.Authenticators)
		if err != nil {
			return nil, err
		}
		hashed = h
	}
	return s.Store.UpdateLink(ctx, id, upd, hashed, now)
}

// grantScopes lists what the creator of a link of each type must hold: a
// link grants no more than its creator holds. Recipients of a download
// link read; of an upload link, add files to a folder they can list; of an
// editor link, read, add, rename and delete.
var grantScopes = map[LinkType][]Scope{
	LinkDownload: {ScopeLinksWrite, ScopeObjectsRead},
	LinkUpload:   {ScopeLinksWrite, ScopeObjectsRead, ScopeObjectsWrite},
	LinkEditor:   {ScopeLinksWrite, ScopeObjectsRead, ScopeObjectsWrite},
}

// checkGrant returns Forbidden unless the caller (the token in ctx) holds
// every scope a link of type t grants; verb says what was refused.
func checkGrant(ctx context.Context, src, verb string, t LinkType) error {
	return require(ctx, src, fmt.Sprintf("This token cannot %s %s %s link: a link grants no more than its creator holds", verb, article(t), t), grantScopes[t]...)
}

// require returns Forbidden, saying why and naming the missing scopes,
// unless the token in ctx holds every one of scopes.
func require(ctx context.Context, src, why string, scopes ...Scope) error {
	tok := TokenFrom(ctx)
	var missing []string
	for _, sc := range scopes {
		if tok == nil || !tok.Has(sc) {
			missing = append(missing, string(sc))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s, and it lacks %s.", why, strings.Join(missing, " and "))
	return &Error{Kind: Forbidden, Message: msg, Fields: []FieldError{{Code: "BadState", Detail: msg, Source: src}}}
}

func article(t LinkType) string {
	if t == LinkUpload || t == LinkEditor {
		return "an"
	}
	return "a"
}

// ResolveTargets turns link targets named by id or by path ("/reports/q3.pdf")
// into ids, for adapters that let callers name targets by path. Looking
// objects up needs objects:read: without it the answer is Forbidden before
// any lookup, so that a caller cannot learn what exists. NotFound names a
// missing target below src.
func ResolveTargets(ctx context.Context, objects ObjectReader, bucketID, src string, refs []string) ([]string, error) {
	if err := require(ctx, src, "This token cannot look objects up", ScopeObjectsRead); err != nil {
		return nil, err
	}
	if len(refs) > MaxTargets {
		return nil, FieldErr("AboveMaxItems", src, "targets may name at most %d objects", MaxTargets)
	}
	ids := make([]string, len(refs))
	for i, ref := range refs {
		o, err := resolveTarget(ctx, objects, bucketID, fmt.Sprintf("%s/%d", src, i), ref)
		if err != nil {
			return nil, err
		}
		ids[i] = o.ID
	}
	return ids, nil
}

func resolveTarget(ctx context.Context, objects ObjectReader, bucketID, src, ref string) (*Object, error) {
	if strings.HasPrefix(ref, PrefixObject) {
		missing := FieldErr("DoesNotExist", src, "no file or folder has the id %s", ref).WithKind(NotFound)
		if !ValidID(PrefixObject, ref) {
			return nil, missing
		}
		o, err := objects.ObjectByID(ctx, bucketID, ref)
		if KindOf(err) == NotFound {
			return nil, missing
		}
		return o, err
	}
	segs, err := SplitPath(src, ref)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, FieldErr("BadState", src, "the root folder cannot be shared; name a file or folder in it")
	}
	o, err := objects.ObjectByPath(ctx, bucketID, ref)
	if KindOf(err) == NotFound {
		return nil, FieldErr("DoesNotExist", src, "nothing is stored at %q", ref).WithKind(NotFound)
	}
	return o, err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// ValidEmail reports whether s is exactly one addr-spec (no display name,
// no list).
func ValidEmail(s string) bool {
	if s == "" || len(s) > 254 || strings.ContainsAny(s, "<>,;\r\n ") {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return false
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".")
}

// NormalizePhone returns the E.164 form of a phone number written with
// optional spaces, dashes, dots or parentheses ("+1-808-555-0173").
func NormalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "+") {
		return "", false
	}
	var b strings.Builder
	b.WriteByte('+')
	for _, r := range s[1:] {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	out := b.String()
	digits := len(out) - 1
	if digits < 8 || digits > 15 || out[1] == '0' {
		return "", false
	}
	return out, true
}

// MaskEmail shows enough of an address to recognise it: b•••@example.com.
func MaskEmail(s string) string {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" {
		return "•••"
	}
	r, _ := utf8.DecodeRuneInString(local)
	return string(r) + "•••@" + domain
}

// MaskPhone shows the country code and the last three digits: +44•••••123.
func MaskPhone(s string) string {
	if len(s) < 7 {
		return "•••"
	}
	return s[:3] + strings.Repeat("•", len(s)-6) + s[len(s)-3:]
}
