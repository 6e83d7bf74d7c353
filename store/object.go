package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/sesame-share/sesame"
)

const objectCols = `id, bucket_id, parent_id, name, type, path, size, mime_type, md5, sha1, sha256, sha512, crc32c, metadata, tags, blob_key, created_at, updated_at,
file_ttl, ttl_from, ttl_effective, expires_at, vault`

type objectRow struct {
	ID       string         `db:"id"`
	BucketID string         `db:"bucket_id"`
	ParentID string         `db:"parent_id"`
	Name     string         `db:"name"`
	Type     string         `db:"type"`
	Path     string         `db:"path"`
	Size     int64          `db:"size"`
	MimeType string         `db:"mime_type"`
	MD5      string         `db:"md5"`
	SHA1     string         `db:"sha1"`
	SHA256   string         `db:"sha256"`
	SHA512   string         `db:"sha512"`
	CRC32C   string         `db:"crc32c"`
	Metadata sql.NullString `db:"metadata"`
	Tags     sql.NullString `db:"tags"`
	BlobKey  string         `db:"blob_key"`
	Created  string         `db:"created_at"`
	Updated  string         `db:"updated_at"`
	FileTTL  string         `db:"file_ttl"`
	TTLFrom  string         `db:"ttl_from"`
	TTL      string         `db:"ttl_effective"`
	Expires  sql.NullString `db:"expires_at"`
	Vault    []byte         `db:"vault"`
}

// object is the row as an object, with its TTL as def reports it.
func (r *objectRow) object(def ttlDefault) *sesame.Object {
	o := &sesame.Object{
		ID: r.ID, BucketID: r.BucketID, ParentID: r.ParentID, Name: r.Name, Type: sesame.ObjectType(r.Type),
		Path: r.Path, Size: r.Size, MimeType: r.MimeType, MD5: r.MD5, SHA1: r.SHA1, SHA256: r.SHA256,
		SHA512: r.SHA512, CRC32C: r.CRC32C, BlobKey: r.BlobKey,
		Created: parseTime(r.Created), Updated: parseTime(r.Updated),
		FileTTL: sesame.FileTTL(r.FileTTL), TTL: sesame.TTLSource{TTL: sesame.FileTTL(r.TTL), From: r.TTLFrom},
		Expires: parseNullTime(r.Expires),
	}
	def.report(o)
	if r.Metadata.Valid {
		o.Metadata = map[string]string{}
		_ = json.Unmarshal([]byte(r.Metadata.String), &o.Metadata) // written by encodeJSON
	}
	if r.Tags.Valid {
		o.Tags = []string{}
		_ = json.Unmarshal([]byte(r.Tags.String), &o.Tags) // written by encodeJSON
	}
	o.Lock = parseLock(r.Vault)
	return o
}

func encodeJSON[T any](v T, set bool) sql.NullString {
	if !set {
		return sql.NullString{}
	}
	b, _ := json.Marshal(v) // maps of strings and string slices always marshal
	return sql.NullString{String: string(b), Valid: true}
}

func (st *Store) bucketOrDefault(id string) string {
	if id == "" {
		return st.bucket
	}
	return id
}

// Buckets implements sesame.ObjectReader.
func (st *Store) Buckets(ctx context.Context) ([]*sesame.Bucket, error) {
	var rows []struct {
		ID      string `db:"id"`
		Name    string `db:"name"`
		Default bool   `db:"is_default"`
	}
	if err := st.db.SelectContext(ctx, &rows, st.db.Rebind(`SELECT id, name, is_default FROM buckets ORDER BY created_at, id`)); err != nil {
		return nil, fmt.Errorf("store: buckets: %w", err)
	}
	out := make([]*sesame.Bucket, 0, len(rows))
	for _, r := range rows {
		out = append(out, &sesame.Bucket{ID: r.ID, Name: r.Name, Default: r.Default,
			TransferMethods: []string{sesame.TransferMultipart, sesame.TransferPostURL, sesame.TransferPutURL, sesame.TransferDestURL}})
	}
	return out, nil
}

func (st *Store) checkBucket(ctx context.Context, q sqlx.ExtContext, id string) error {
	if id == "" || id == st.bucket {
		return nil
	}
	var n int
	if err := sqlx.GetContext(ctx, q, &n, q.Rebind(`SELECT COUNT(*) FROM buckets WHERE id = ?`), id); err != nil {
		return fmt.Errorf("store: bucket: %w", err)
	}
	if n == 0 {
		e := sesame.FieldErr("DoesNotExist", "/bucket_id", "bucket %s does not exist", id)
		return e.WithKind(sesame.NotFound)
	}
	return nil
}

// objectByID reads a live object (expired files are not).
func (st *Store) objectByID(ctx context.Context, q sqlx.ExtContext, bucketID, id string) (*sesame.Object, error) {
	live, args := st.liveSQL("")
	var r objectRow
	err := sqlx.GetContext(ctx, q, &r, q.Rebind(`SELECT `+objectCols+` FROM objects WHERE bucket_id = ? AND id = ? AND `+live),
		append([]any{bucketID, id}, args...)...)
	if err != nil {
		return nil, translate(err)
	}
	return r.object(st.ttl), nil
}

// objectByPath reads a live object (expired files are not).
func (st *Store) objectByPath(ctx context.Context, q sqlx.ExtContext, bucketID, p string) (*sesame.Object, error) {
	live, args := st.liveSQL("")
	var r objectRow
	err := sqlx.GetContext(ctx, q, &r, q.Rebind(`SELECT `+objectCols+` FROM objects WHERE bucket_id = ? AND path = ? AND `+live),
		append([]any{bucketID, p}, args...)...)
	if err != nil {
		return nil, translate(err)
	}
	return r.object(st.ttl), nil
}

func notFound(what, source, id string) error {
	e := sesame.FieldErr("DoesNotExist", source, "%s %s does not exist", what, id)
	return e.WithKind(sesame.NotFound)
}

// ObjectByID implements sesame.ObjectReader.
func (st *Store) ObjectByID(ctx context.Context, bucketID, id string) (*sesame.Object, error) {
	bucketID = st.bucketOrDefault(bucketID)
	o, err := st.objectByID(ctx, st.db, bucketID, id)
	if sesame.KindOf(err) == sesame.NotFound {
		return nil, notFound("object", "/id", id)
	}
	if err != nil {
		return nil, err
	}
	return o, attachLinks(ctx, st.db, o)
}

// ObjectsByID implements sesame.ObjectReader.
func (st *Store) ObjectsByID(ctx context.Context, bucketID string, ids []string) ([]*sesame.Object, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	live, largs := st.liveSQL("")
	query, args, err := sqlx.In(`SELECT `+objectCols+` FROM objects WHERE bucket_id = ? AND id IN (?) AND `+live,
		append([]any{st.bucketOrDefault(bucketID), ids}, largs...)...)
	if err != nil {
		return nil, fmt.Errorf("store: objects by id: %w", err)
	}
	var rows []objectRow
	if err := st.db.SelectContext(ctx, &rows, st.db.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("store: objects by id: %w", translate(err))
	}
	out := make([]*sesame.Object, len(rows))
	for i := range rows {
		out[i] = rows[i].object(st.ttl)
	}
	return out, nil
}

// ObjectByPath implements sesame.ObjectReader.
func (st *Store) ObjectByPath(ctx context.Context, bucketID, p string) (*sesame.Object, error) {
	bucketID = st.bucketOrDefault(bucketID)
	segs, err := sesame.SplitPath("/path", p)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, sesame.FieldErr("BadState", "/path", "the root folder is not an object")
	}
	o, err := st.objectByPath(ctx, st.db, bucketID, "/"+strings.Join(segs, "/"))
	if sesame.KindOf(err) == sesame.NotFound {
		return nil, notFound("path", "/path", p)
	}
	if err != nil {
		return nil, err
	}
	return o, attachLinks(ctx, st.db, o)
}

// parentDir is the folder a new or moved object goes into: its id (""
// for the root), its path ("/" for the root) and the TTL source, as rows
// hold it, that its children inherit.
type parentDir struct {
	id, path string
	ttl      sesame.TTLSource
}

// resolveParent finds (and, where a path names it, creates) the folder a new
// or moved object goes into.
func (st *Store) resolveParent(ctx context.Context, tx *sqlx.Tx, r *reaper, bucketID string, p sesame.Placement) (parentDir, error) {
	out := parentDir{id: sesame.RootParentID, path: sesame.RootFolderPath}
	if p.HasParentID && p.ParentID != "" {
		o, err := st.objectByID(ctx, tx, bucketID, p.ParentID)
		if sesame.KindOf(err) == sesame.NotFound {
			return out, notFound("folder", "/parent_id", p.ParentID)
		}
		if err != nil {
			return out, err
		}
		if !o.IsFolder() {
			return out, sesame.FieldErr("BadState", "/parent_id", "parent_id %s is a file, not a folder", p.ParentID)
		}
		out = parentDir{id: o.ID, path: o.Path, ttl: st.ttl.raw(o.TTL)}
	}
	if p.HasParentPath {
		src := p.ParentSource
		if src == "" {
			src = "/folder"
		}
		segs, err := sesame.SplitPath(src, p.ParentPath)
		if err != nil {
			return out, err
		}
		dir, err := st.mkdirs(ctx, tx, r, bucketID, segs, src)
		if err != nil {
			return out, err
		}
		if p.HasParentID && dir.id != out.id {
			return out, sesame.FieldErr("MutuallyExclusive", src, "%s names a different folder from parent_id", strings.TrimPrefix(src, "/"))
		}
		out = dir
	}
	return out, nil
}

// mkdirs walks segs from the root, creating missing folders, which
// inherit the TTL in force where they are made.
func (st *Store) mkdirs(ctx context.Context, tx *sqlx.Tx, rp *reaper, bucketID string, segs []string, source string) (parentDir, error) {
	dir := parentDir{id: sesame.RootParentID, path: sesame.RootFolderPath}
	now := sesame.FormatTime(st.nowUTC())
	for _, name := range segs {
		p := path.Join(dir.path, name)
		if err := st.reapName(ctx, tx, rp, bucketID, dir.id, name); err != nil {
			return dir, err
		}
		var r struct {
			ID   string `db:"id"`
			Type string `db:"type"`
			From string `db:"ttl_from"`
			TTL  string `db:"ttl_effective"`
		}
		err := tx.GetContext(ctx, &r, tx.Rebind(`SELECT id, type, ttl_from, ttl_effective FROM objects WHERE bucket_id = ? AND parent_id = ? AND name = ?`), bucketID, dir.id, name)
		switch {
		case err == sql.ErrNoRows:
			r.ID, r.From, r.TTL = sesame.NewID(sesame.PrefixObject), dir.ttl.From, string(dir.ttl.TTL)
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO objects (id, bucket_id, parent_id, name, type, path, created_at, updated_at, ttl_from, ttl_effective)
VALUES (?, ?, ?, ?, 'folder', ?, ?, ?, ?, ?)`), r.ID, bucketID, dir.id, name, p, now, now, r.From, r.TTL); err != nil {
				return dir, fmt.Errorf("store: create folder %s: %w", p, err)
			}
		case err != nil:
			return dir, fmt.Errorf("store: find folder %s: %w", p, err)
		case r.Type != string(sesame.TypeFolder):
			return dir, sesame.FieldErr("BadState", source, "%s is a file, not a folder", p)
		}
		dir = parentDir{id: r.ID, path: p, ttl: sesame.TTLSource{TTL: sesame.FileTTL(r.TTL), From: r.From}}
	}
	return dir, nil
}

func nameTaken(source, name, dir string) error {
	e := sesame.FieldErr("BadState", source, "an object named %q already exists in %s", name, dir)
	return e.WithKind(sesame.Conflict)
}

func (st *Store) insertObject(ctx context.Context, tx *sqlx.Tx, o *sesame.Object, nameSource string) error {
	if len([]rune(o.Path)) > sesame.MaxPathLen {
		return sesame.FieldErr("AboveMaxLength", nameSource, "the full path must be at most %d characters", sesame.MaxPathLen)
	}
	vault, err := encodeLock(o.Lock)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO objects (`+objectCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		o.ID, o.BucketID, o.ParentID, o.Name, o.Type, o.Path, o.Size, o.MimeType, o.MD5, o.SHA1, o.SHA256, o.SHA512, o.CRC32C,
		encodeJSON(o.Metadata, o.Metadata != nil), encodeJSON(o.Tags, o.Tags != nil), o.BlobKey,
		sesame.FormatTime(o.Created), sesame.FormatTime(o.Updated), o.FileTTL, o.TTL.From, o.TTL.TTL, expiresColumn(o), vault)
	if sesame.KindOf(translate(err)) == sesame.Conflict {
		return nameTaken(nameSource, o.Name, path.Dir(o.Path))
	}
	if err != nil {
		return fmt.Errorf("store: insert object: %w", err)
	}
	st.ttl.report(o)
	return nil
}

func nameSource(p sesame.Placement) string {
	if p.NameSource != "" {
		return p.NameSource
	}
	return "/name"
}

// CreateFolder implements sesame.ObjectWriter.
func (st *Store) CreateFolder(ctx context.Context, in sesame.FolderCreate) (*sesame.Object, error) {
	bucketID := st.bucketOrDefault(in.BucketID)
	if err := st.checkBucket(ctx, st.db, bucketID); err != nil {
		return nil, err
	}
	if err := sesame.CheckName(nameSource(in.Placement), in.Name); err != nil {
		return nil, err
	}
	var out *sesame.Object
	var rp reaper
	err := st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		rp = reaper{}
		dir, err := st.resolveParent(ctx, tx, &rp, bucketID, in.Placement)
		if err != nil {
			return err
		}
		if err := st.reapName(ctx, tx, &rp, bucketID, dir.id, in.Name); err != nil {
			return err
		}
		now := st.nowUTC()
		o := &sesame.Object{ID: sesame.NewID(sesame.PrefixObject), BucketID: bucketID, ParentID: dir.id, Name: in.Name,
			Type: sesame.TypeFolder, Path: path.Join(dir.path, in.Name), Metadata: in.Metadata, Tags: in.Tags, Created: now, Updated: now}
		inherit(o, in.FileTTL, dir.ttl)
		if err := st.insertObject(ctx, tx, o, nameSource(in.Placement)); err != nil {
			return err
		}
		if err := st.noteChange(ctx, tx, "", o.ID); err != nil {
			return err
		}
		out = o
		return nil
	})
	if err == nil {
		st.removeBlobs(ctx, rp.keys)
	}
	return out, err
}

// CreateFile implements sesame.ObjectWriter.
func (st *Store) CreateFile(ctx context.Context, in sesame.FileCreate, u *sesame.Upload) (obj *sesame.Object, err error) {
	committed := false
	defer func() {
		if !committed {
			if derr := st.Discard(ctx, u); derr != nil {
				st.log.WarnContext(ctx, "discard upload", "error", derr)
			}
		}
	}()
	bucketID := st.bucketOrDefault(in.BucketID)
	if err := st.checkBucket(ctx, st.db, bucketID); err != nil {
		return nil, err
	}
	if err := sesame.CheckName(nameSource(in.Placement), in.Name); err != nil {
		return nil, err
	}
	if err := checkDeclared(in.Declared, u); err != nil {
		return nil, err
	}
	key := st.blobs.keyFor(u.Ref)
	var rp reaper
	err = st.withTx(ctx, func(ctx context.Context, tx *sqlx.Tx) error {
		rp = reaper{}
		dir, err := st.resolveParent(ctx, tx, &rp, bucketID, in.Placement)
		if err != nil {
			return err
		}
		if err := st.reapName(ctx, tx, &rp, bucketID, dir.id, in.Name); err != nil {
			return err
		}
		name := in.Name
		if in.AutoRename {
			if name, err = freeName(ctx, tx, bucketID, dir.id, name); err != nil {
				return err
			}
		}
		now := st.nowUTC()
		o := &sesame.Object{ID: sesame.NewID(sesame.PrefixObject), BucketID: bucketID, ParentID: dir.id, Name: name,
			Type: sesame.TypeFile, Path: path.Join(dir.path, name), Size: u.Size, MimeType: u.MimeType,
			MD5: u.MD5, SHA1: u.SHA1, SHA256: u.SHA256, SHA512: u.SHA512, CRC32C: u.CRC32C,
			Metadata: in.Metadata, Tags: in.Tags, BlobKey: key, Lock: u.Lock, Created: now, Updated: now}
		inherit(o, in.FileTTL, dir.ttl)
		if err := st.insertObject(ctx, tx, o, nameSource(in.Placement)); err != nil {
			return err
		}
		if err := st.noteChange(ctx, tx, "", o.ID); err != nil {
			return err
		}
		if err := st.recordOwnerUpload(ctx, tx, o); err != nil {
			return err
		}
		if err := st.publishUpload(ctx, tx, o); err != nil {
			return err
		}
		// The blob moves into place inside the transaction: if the commit
		// fails it is removed below, and if the process dies first the next
		// sweep removes it.
		if err := st.blobs.commit(ctx, u.Ref, key); err != nil {
			return err
		}
		committed = true
		obj = o
		return nil
	})
	if err != nil && committed {
		st.removeBlob(ctx, key)
		committed = false
		obj = nil
	}
	if err == nil {
		st.removeBlobs(ctx, rp.keys)
	}
	return obj, err
}

// freeName returns name, or the first of "name (1).ext", "name (2).ext", …
// that no sibling in the folder has.
func freeName(ctx context.Context, tx *sqlx.Tx, bucketID, parentID, name string) (string, error) {
	ext := path.Ext(name)
	if ext == name {
		ext = ""
	}
	stem := strings.TrimSuffix(name, ext)
	cand := name
	for i := 1; i < 10000; i++ {
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM objects WHERE bucket_id = ? AND parent_id = ? AND name = ?`), bucketID, parentID, cand); err != nil {
			return "", fmt.Errorf("store: free name: %w", err)
		}
		if n == 0 {
			return cand, nil
		}
		cand = fmt.Sprintf("%s (%d)%s", stem, i, ext)
	}
	return "", sesame.Errorf(sesame.Conflict, "Too many files are named %s here.", name)
}

// checkDeclared compares what the client said about an upload with what arrived.
func checkDeclared(d sesame.Declared, u *sesame.Upload) error {
	if d.Size != nil && *d.Size != u.Size {
		return sesame.FieldErr("BadState", "/size", "size is %d but %d bytes were received", *d.Size, u.Size)
	}
	for _, h := range []struct{ field, want, got string }{
		{"md5", d.MD5, u.MD5}, {"sha1", d.SHA1, u.SHA1}, {"sha256", d.SHA256, u.SHA256},
		{"sha512", d.SHA512, u.SHA512}, {"crc32c", d.CRC32C, u.CRC32C},
	} {
		if h.want != "" && !strings.EqualFold(h.want, h.got) {
			return sesame.FieldErr("BadState", "/"+h.field, "%s does not match the received bytes (got %s)", h.field, h.got)
		}
	}
	if d.MimeType != "" {
		want, got := mediaType(d.MimeType), mediaType(u.MimeType)
		if want != got && got != "application/octet-stream" && got != "text/plain" {
			return sesame.FieldErr("BadState", "/mimetype", "mimetype is %s but the content is %s", d.MimeType, got)
		}
	}
	if d.Format != "" {
		if got := formatOf(u.MimeType); got != "" && !strings.EqualFold(got, d.Format) {
			return sesame.FieldErr("BadState", "/format", "format is %s but the content is %s", d.Format, got)
		}
	}
	return nil
}

func mediaType(s string) string {
	base, _, _ := strings.Cut(s, ";")
	return strings.ToLower(strings.TrimSpace(base))
}

// formatOf maps a sniffed MIME type to Pangea's Format names, for the types
// that sniffing recognises with confidence.
func formatOf(mimeType string) string {
	switch mediaType(mimeType) {
	case "application/pdf":
		return "PDF"
	case "image/png":
		return "PNG"
	case "image/jpeg":
		return "JPG"
	case "image/gif":
		return "GIF"
	case "image/webp":
		return "WEBP"
	case "image/bmp":
		return "BMP"
	case "application/zip":
		return "ZIP"
	case "application/x-gzip":
		return "GZ"
	case "application/wasm":
		return "WASM"
	case "audio/wave":
		return "WAV"
	case "video/webm":
		return "WEBM"
	case "font/woff":
		return "WOFF"
	case "font/woff2":
		return "WOFF2"
	}
	return ""
}
