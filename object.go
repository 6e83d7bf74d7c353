package sesame

import (
	"context"
	"io"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ObjectType tells files from folders.
type ObjectType string

// The object types, as reported on the wire.
const (
	TypeFile   ObjectType = "file"
	TypeFolder ObjectType = "folder"
)

// Limits on names and paths.
const (
	MaxNameLen     = 255 // bytes in one name
	MaxPathLen     = 256 // characters in a full path
	MaxMetadata    = 256 // entries
	MaxMetaKeyLen  = 64
	MaxTags        = 256
	MaxTagLen      = 64
	RootParentID   = ""
	RootFolderPath = "/"
)

// Object is a file or a folder in a bucket's tree.
type Object struct {
	ID       string
	BucketID string
	ParentID string // "" for the root
	Name     string
	Type     ObjectType
	Path     string // full path, "/a/b/c.txt"
	Size     int64
	MimeType string
	MD5      string
	SHA1     string
	SHA256   string
	SHA512   string
	CRC32C   string
	Metadata map[string]string // nil until set
	Tags     []string          // nil until set
	BlobKey  string
	Lock     *FileLock // set when the file is password-protected
	LinkIDs  []string  // live links that share the object
	Created  time.Time
	Updated  time.Time
	// FileTTL is the TTL set on the object itself ("" when it inherits),
	// TTL the one in force and where it is set, and Expires when a file
	// expires (zero: never). See FileTTL for the rules.
	FileTTL FileTTL
	TTL     TTLSource
	Expires time.Time
}

// Folder returns the path of the folder that contains o ("/" for the root).
func (o *Object) Folder() string { return path.Dir(o.Path) }

// IsFolder reports whether o is a folder.
func (o *Object) IsFolder() bool { return o.Type == TypeFolder }

// CheckName is the one rule for an object's name, however it comes in (the
// API, the recipient pages, MCP). It validates one path segment and returns
// a FieldError-carrying Invalid error pointing at source when the name is
// unusable: empty, not UTF-8, too long, "." or "..", or holding a slash, a
// backslash (a separator on Windows), a control character or a character
// that changes text direction (which can disguise "txt.exe" as "exe.txt").
func CheckName(source, name string) error {
	switch {
	case name == "":
		return FieldErr("FieldRequired", source, "%s must not be empty", fieldName(source))
	case !utf8.ValidString(name):
		return FieldErr("InvalidString", source, "%s must be valid UTF-8", fieldName(source))
	case len(name) > MaxNameLen:
		return FieldErr("AboveMaxLength", source, "%s must be at most %d bytes", fieldName(source), MaxNameLen)
	case strings.ContainsRune(name, '/'):
		return FieldErr("DoesNotMatchPattern", source, "%s must not contain '/'", fieldName(source))
	case strings.ContainsRune(name, '\\'):
		return FieldErr("DoesNotMatchPattern", source, "%s must not contain '\\'", fieldName(source))
	case name == "." || name == "..":
		return FieldErr("DoesNotMatchPattern", source, "%s must not be '.' or '..'", fieldName(source))
	}
	for _, r := range name {
		if isControl(r) {
			return FieldErr("DoesNotMatchPattern", source, "%s must not contain control characters", fieldName(source))
		}
		if unicode.Is(unicode.Bidi_Control, r) {
			return FieldErr("DoesNotMatchPattern", source, "%s must not contain characters that change text direction (U+%04X)", fieldName(source), r)
		}
	}
	return nil
}

// isControl reports the characters no name may hold: C0 and C1 controls,
// DEL, and the Unicode line and paragraph separators.
func isControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// nameUnsafe reports the characters SanitizeName removes: those CheckName
// refuses anywhere in a name.
func nameUnsafe(r rune) bool {
	return isControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// windowsReserved are names Windows cannot open, with or without an
// extension.
var windowsReserved = map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true}

// SanitizeName turns a name a browser sent with an upload into one that
// CheckName accepts and every system can store: no path parts, no control
// or direction characters, none of the characters Windows forbids, no
// leading or trailing dots and spaces, no reserved device names, at most
// MaxNameLen bytes. It never returns "", and sanitising its result changes
// nothing.
func SanitizeName(name string) string {
	// Truncation can expose trailing spaces or dots; repeat until stable.
	for i := 0; i < 4; i++ {
		next := sanitizeOnce(name)
		if next == name {
			break
		}
		name = next
	}
	return name
}

func sanitizeOnce(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToValidUTF8(name, "")
	name = strings.Map(func(r rune) rune {
		switch {
		case nameUnsafe(r):
			return -1
		case strings.ContainsRune(`<>:"|?*`, r):
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(name, " .")
	if name == "" {
		return "file"
	}
	stem := name
	if i := strings.IndexByte(stem, '.'); i >= 0 {
		stem = stem[:i]
	}
	if windowsReserved[strings.ToUpper(strings.TrimSpace(stem))] {
		name = "_" + name
	}
	for len(name) > MaxNameLen {
		ext := path.Ext(name)
		if len(ext) > 16 || len(ext) >= len(name) {
			ext = ""
		}
		stem := strings.TrimSuffix(name, ext)
		cut := len(stem) - (len(name) - MaxNameLen)
		for cut > 0 && !utf8.RuneStart(stem[cut]) {
			cut--
		}
		name = strings.TrimRight(stem[:max(cut, 0)], " .") + ext
	}
	if name == "" || strings.Trim(name, " .") == "" {
		return "file"
	}
	return name
}

// ArchivePath makes the name of an archive member safe to extract on any
// system, whatever the stored names hold (rows written before CheckName
// refused backslashes, say): segments joined by '/', never absolute, no
// empty, "." or ".." segments, no drive letters, and no backslash, control
// or direction character (each becomes '_'). A folder keeps its trailing
// slash.
func ArchivePath(name string) string {
	var segs []string
	for _, seg := range strings.Split(name, "/") {
		seg = strings.Map(func(r rune) rune {
			if r == '\\' || nameUnsafe(r) {
				return '_'
			}
			return r
		}, strings.ToValidUTF8(seg, "_"))
		switch {
		case seg == "":
			continue
		case seg == "." || seg == "..":
			seg = strings.Repeat("_", len(seg))
		case len(seg) >= 2 && seg[1] == ':' && ('a' <= seg[0]|0x20 && seg[0]|0x20 <= 'z'):
			seg = seg[:1] + "_" + seg[2:] // "C:x" is a drive (or a stream) on Windows
		}
		segs = append(segs, seg)
	}
	if len(segs) == 0 {
		return "_"
	}
	out := strings.Join(segs, "/")
	if strings.HasSuffix(name, "/") {
		out += "/"
	}
	return out
}

// SplitPath validates a slash-separated path and returns its segments. The
// empty string and "/" are the root (no segments). A trailing slash is
// allowed. Empty segments ("a//b"), "." and ".." are rejected.
func SplitPath(source, p string) ([]string, error) {
	if utf8.RuneCountInString(p) > MaxPathLen {
		return nil, FieldErr("AboveMaxLength", source, "%s must be at most %d characters", fieldName(source), MaxPathLen)
	}
	trimmed := strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/")
	if trimmed == "" {
		return nil, nil
	}
	segs := strings.Split(trimmed, "/")
	for _, s := range segs {
		if s == "" {
			return nil, FieldErr("DoesNotMatchPattern", source, "%s must not contain empty segments", fieldName(source))
		}
		if err := CheckName(source, s); err != nil {
			return nil, err
		}
	}
	return segs, nil
}

func fieldName(source string) string {
	if source == "" || source == "/" {
		return "the value"
	}
	return strings.TrimPrefix(source, "/")
}

// Placement says where a new object goes: under the folder named by ParentID
// or ParentPath (both may be set, and must then agree), with Name. Missing
// folders on ParentPath are created.
type Placement struct {
	BucketID      string
	ParentID      string
	HasParentID   bool
	ParentPath    string
	HasParentPath bool
	ParentSource  string // JSON pointer of the field that named the parent path
	Name          string
	NameSource    string
	// Root scopes ParentID and ParentPath to a subtree (see Root).
	Root Root
}

// FolderCreate is a request to make a folder.
type FolderCreate struct {
	Placement
	Metadata map[string]string
	Tags     []string
	FileTTL  FileTTL // for the files inside; "" inherits
}

// FileCreate is a request to store a staged upload as a file. Declared
// values (size, hashes, type) are checked against what was received.
type FileCreate struct {
	Placement
	Metadata map[string]string
	Tags     []string
	Declared Declared
	FileTTL  FileTTL // "" inherits
	// AutoRename picks a free name ("report (1).pdf") instead of failing
	// when the name is taken.
	AutoRename bool
	// Password, when set, protects the file: its bytes are stored sealed
	// under a key derived from it (vault.go). PasswordAlgorithm is the
	// name the client gave ("": DefaultPasswordAlgorithm). Neither is
	// ever stored.
	Password          *string
	PasswordAlgorithm string
}

// Declared holds what a client says about an upload; empty means unsaid.
type Declared struct {
	Size     *int64
	MD5      string
	SHA1     string
	SHA256   string
	SHA512   string
	CRC32C   string
	MimeType string
	Format   string
}

// ObjectUpdate changes an object. A nil pointer leaves a field alone.
type ObjectUpdate struct {
	BucketID       string
	Name           *string
	ParentID       *string // move
	ParentPath     *string // move, by path; must agree with ParentID if both set
	Metadata       map[string]string
	SetMetadata    bool
	AddMetadata    map[string]string
	RemoveMetadata map[string]string
	Tags           []string
	SetTags        bool
	AddTags        []string
	RemoveTags     []string
	UpdatedAt      *time.Time // optimistic lock
	FileTTL        FileTTL    // "" leaves it; inherited drops the object's own
	Root           Root       // scopes the object and the move to a subtree
	// AddPassword protects a file, RemovePassword (its current
	// password) unprotects it; both together change the password.
	AddPassword          *string
	AddPasswordAlgorithm string
	RemovePassword       *string
	// Reseal is filled in by ObjectService for a password change: the
	// file's bytes stored anew.
	Reseal *Reseal
}

// Reseal swaps a file's stored bytes for the same plaintext stored under
// another lock (or none), as a password is added, removed or changed.
type Reseal struct {
	// From is the blob key the bytes were read from: the swap fails with
	// Conflict if the file holds another by the time it commits.
	From string
	// Upload is the staged new form; its Lock becomes the file's.
	Upload *Upload
}

// ObjectFilter selects objects for FindObjects.
type ObjectFilter struct {
	BucketID string
	Conds    []Cond
	OrderBy  string // an ObjectOrderFields key
	Desc     bool
	Size     int
	After    *Cursor
	Root     Root // scopes the listing to a subtree; paths in Conds are relative to it
	// Within restricts the listing to the objects below the folder at this
	// full path ("" for the whole bucket). ObjectService sets it from Root.
	Within string
}

// ObjectPage is one page of FindObjects.
type ObjectPage struct {
	Objects []*Object
	Count   int
	Next    *Cursor // nil on the last page
}

// ArchiveEntry is one member of an archive: an object and its path inside it.
type ArchiveEntry struct {
	Object *Object
	Name   string // slash-separated, relative; folders end in "/"
}

// Upload is a payload that has been received in full into temporary storage
// and hashed, but is not yet visible as an object.
type Upload struct {
	Ref      string // opaque to all but the BlobStore that made it
	Size     int64
	MD5      string
	SHA1     string
	SHA256   string
	SHA512   string
	CRC32C   string
	MimeType string // sniffed from the first bytes and the file name
	// Lock, when set, is the lock the bytes were sealed under (by
	// StageSealed): the size, hashes and type describe the plaintext.
	Lock *FileLock
}

// Blob is a stored payload, open for reading.
type Blob interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// BlobStore holds payload bytes.
type BlobStore interface {
	// Stage reads r to the end into temporary storage while hashing it. It
	// returns TooLarge past max bytes (when max > 0) and NoSpace when the disk
	// is full; nothing is left behind on error.
	Stage(ctx context.Context, r io.Reader, name string, max int64) (*Upload, error)
	// StageSealed is Stage with the bytes stored as the writer that
	// wrap makes writes them (sealed, for a protected file); size, hashes
	// and type describe what r gives. Closing that writer ends the stored
	// form, and a failure there fails the stage.
	StageSealed(ctx context.Context, r io.Reader, name string, max int64, wrap func(io.Writer) io.WriteCloser) (*Upload, error)
	// Discard removes a staged upload that will not be committed.
	Discard(ctx context.Context, u *Upload) error
	// OpenBlob opens a committed blob. NotFound if it is gone.
	OpenBlob(ctx context.Context, key string) (Blob, error)
}

// ObjectReader reads the object tree.
type ObjectReader interface {
	Buckets(ctx context.Context) ([]*Bucket, error)
	// ObjectByID returns NotFound for an unknown id.
	ObjectByID(ctx context.Context, bucketID, id string) (*Object, error)
	// ObjectByPath returns NotFound when nothing is at the path.
	ObjectByPath(ctx context.Context, bucketID, path string) (*Object, error)
	// ObjectsByID returns those of ids that exist, in no order and without
	// their LinkIDs: the one-query lookup of the portal's hot path.
	ObjectsByID(ctx context.Context, bucketID string, ids []string) ([]*Object, error)
	// FindObjects returns one page; Invalid for a bad cursor.
	FindObjects(ctx context.Context, f ObjectFilter) (*ObjectPage, error)
	// ArchiveEntries expands files and folders (recursively) into the members
	// of an archive, in a stable order. NotFound names a missing id.
	ArchiveEntries(ctx context.Context, bucketID string, ids []string) ([]ArchiveEntry, error)
	// TallyFolder counts the files anywhere below a folder and their bytes.
	TallyFolder(ctx context.Context, f *Object) (Tally, error)
}

// Tally is how many files a set of objects holds, and their total size.
type Tally struct {
	Files int
	Bytes int64
}

// ObjectWriter changes the object tree.
type ObjectWriter interface {
	// CreateFolder makes a folder and any missing parents. Conflict when the
	// name is taken; Invalid when the parent is unusable.
	CreateFolder(ctx context.Context, in FolderCreate) (*Object, error)
	// CreateFile commits u as a new file, atomically: on any error u is
	// discarded and nothing becomes visible. Invalid when a declared value
	// does not match.
	CreateFile(ctx context.Context, in FileCreate, u *Upload) (*Object, error)
	// UpdateObject renames, moves or retags. Conflict on a stale UpdatedAt
	// or a name clash.
	UpdateObject(ctx context.Context, id string, upd ObjectUpdate) (*Object, error)
	// DeleteObject removes an object (a folder with its contents only when
	// force is set; otherwise Conflict) and returns how many were removed.
	DeleteObject(ctx context.Context, bucketID, id string, force bool) (int, error)
}

// formats lists Pangea's file format names, the values put's format field may take.
var formats = strings.Fields(`3G2 3GP 3MF 7Z A AAC ACCDB AIFF AMF AMR APE ASF ATOM AU AVI AVIF BIN BMP BPG BZ2 CAB CLASS
CPIO CRX CSV DAE DBF DCM DEB DJVU DLL DOC DOCX DWG EOT EPUB EXE FDF FITS FLAC FLV GBR GEOJSON GIF GLB GML GPX GZ HAR HDR
HEIC HEIF HTML ICNS ICO ICS ISO JAR JP2 JPF JPG JPM JS JSON JXL JXR KML LIT LNK LUA LZ M3U M4A MACHO MDB MIDI MKV MOBI MOV
MP3 MP4 MPC MPEG MQV MRC MSG MSI NDJSON NES ODC ODF ODG ODP ODS ODT OGA OGV OTF OTG OTP OTS OTT OWL P7S PAT PDF PHP PL PNG
PPT PPTX PS PSD PUB PY QCP RAR RMVB RPM RSS RTF SHP SHX SO SQLITE SRT SVG SWF SXC TAR TCL TCX TIFF TORRENT TSV TTC TTF TXT
VCF VOC VTT WARC WASM WAV WEBM WEBP WOFF WOFF2 X3D XAR XCF XFDF XLF XLS XLSX XML XPM XZ ZIP ZST`)

// KnownFormat reports whether f is one of Pangea's format names.
func KnownFormat(f string) bool {
	for _, x := range formats {
		if x == f {
			return true
		}
	}
	return false
}
