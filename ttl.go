package sesame

import (
	"strconv"
	"time"
)

// FileTTL is the file_ttl of a file or a folder: how long files live
// before the server deletes them. It is "never", a duration such as "7d",
// "44h" or "1d12h" (whole numbers of weeks w, days d, hours h, minutes m
// and seconds s), or "inherited": follow the folder above, and at the top
// the service's default. A folder's TTL applies to every file below it
// that does not set its own, at any depth. "" means the request did not
// say; on a new object that is "inherited".
//
// A file expires its effective TTL after it was created (as S3 lifecycle
// rules count), so a TTL set or changed later may expire files at once.
// An expired file is hidden from every read at that instant and deleted
// by the next sweep. Folders never expire: their TTL is what the files
// inside inherit.
type FileTTL string

// The FileTTL words.
const (
	TTLInherited FileTTL = "inherited"
	TTLNever     FileTTL = "never"
)

// PrefixConfig is the prefix of a service configuration's id (pci_).
const PrefixConfig = "pci_"

// MaxFileTTL bounds a file_ttl duration: a hundred years.
const MaxFileTTL = 100 * 365 * 24 * time.Hour

// ActionObjectExpire is the audit action of a file deleted because its
// TTL ran out; the event's detail says which TTL and where it was set.
const ActionObjectExpire = "object.expire"

var ttlUnits = map[byte]time.Duration{'w': 7 * 24 * time.Hour, 'd': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute, 's': time.Second}

// ParseFileTTL reads a file_ttl value. The error is Invalid, pointing at
// source: BadFormatPangeaDuration for what is not a duration, never or
// inherited, and NotWithinRange for a duration of zero or over
// MaxFileTTL. "" gives "".
func ParseFileTTL(source, s string) (FileTTL, error) {
	switch FileTTL(s) {
	case "", TTLInherited, TTLNever:
		return FileTTL(s), nil
	}
	if _, err := parseTTLDuration(source, s); err != nil {
		return "", err
	}
	return FileTTL(s), nil
}

func parseTTLDuration(source, s string) (time.Duration, error) {
	bad := FieldErr("BadFormatPangeaDuration", source,
		"%s must be never, inherited or a duration such as 7d, 12h, 30m or 2s (units w, d, h, m, s), not %q", fieldName(source), s)
	if len(s) > 32 {
		return 0, bad
	}
	var total time.Duration
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i || j == len(s) {
			return 0, bad
		}
		unit, ok := ttlUnits[s[j]]
		if !ok {
			return 0, bad
		}
		n, err := strconv.ParseInt(s[i:j], 10, 64)
		if err != nil || n > int64(MaxFileTTL/unit) {
			return 0, tooLongTTL(source)
		}
		total += time.Duration(n) * unit
		if total > MaxFileTTL {
			return 0, tooLongTTL(source)
		}
		i = j + 1
	}
	if total <= 0 {
		return 0, FieldErr("NotWithinRange", source, "%s must be at least 1s", fieldName(source))
	}
	return total, nil
}

func tooLongTTL(source string) error {
	return FieldErr("NotWithinRange", source, "%s must be at most %dd", fieldName(source), int(MaxFileTTL/(24*time.Hour)))
}

// Own reports whether t is set on an object itself (never or a
// duration), rather than inherited from above.
func (t FileTTL) Own() bool { return t != "" && t != TTLInherited }

// Duration returns how long a file lives under t; false for never,
// inherited and unset (and for a value ParseFileTTL refuses).
func (t FileTTL) Duration() (time.Duration, bool) {
	if !t.Own() || t == TTLNever {
		return 0, false
	}
	d, err := parseTTLDuration("", string(t))
	return d, err == nil
}

// Wire is t as the API reports it: "inherited" when unset.
func (t FileTTL) Wire() string {
	if !t.Own() {
		return string(TTLInherited)
	}
	return string(t)
}

// TTLSource is the TTL in force for an object and where it is set.
type TTLSource struct {
	TTL  FileTTL // never or a duration
	From string  // the id of the object that sets it, or the service configuration's
}

// InheritTTL is the one inheritance rule: an object that sets its own TTL
// (own) takes it from itself; otherwise it takes its parent's effective
// TTL, and at the top the service default that parent holds.
func InheritTTL(id string, own FileTTL, parent TTLSource) TTLSource {
	if own.Own() {
		return TTLSource{TTL: own, From: id}
	}
	return parent
}

// FileExpiry is when an object of type typ created at created expires
// under the effective TTL t: the zero time for folders and for never.
func FileExpiry(typ ObjectType, created time.Time, t FileTTL) time.Time {
	d, ok := t.Duration()
	if typ != TypeFile || !ok {
		return time.Time{}
	}
	return created.Add(d)
}

// ServiceConfigID is the pci_ id that file_ttl_from_id names when the
// effective TTL is the service's default: one per instance, made from the
// id of its default bucket so that it survives an export and import.
func ServiceConfigID(defaultBucketID string) string {
	if !ValidID(PrefixBucket, defaultBucketID) {
		return ""
	}
	return PrefixConfig + defaultBucketID[len(PrefixBucket):]
}
