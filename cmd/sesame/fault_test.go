package main

// Fault tests: the server killed with SIGKILL in the middle of uploads and
// with mail queued, a full disk, and SQLite under heavy write contention.
// Run them with
//
//	CGO_ENABLED=1 go test -race -run Fault -v ./cmd/sesame/
//
// The servers that get killed run in a child process (see
// fault_helpers_test.go); the others run in this process through run, as in
// serve_test.go.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-share/sesame"
	"github.com/sesame-share/sesame/internal/testrig"
)

// TestFault_KillDuringUploads kills the server (SIGKILL) while 50 uploads are
// in flight, about half of them acknowledged, and checks after a restart that
// every acknowledged upload is whole, that nothing partial was kept, and that
// the start-up sweep left no orphan blob and no staged file.
func TestFault_KillDuringUploads(t *testing.T) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	token := createToken(t, dir)
	srv := startProc(t, dir)
	a := newAPI(srv.base, token, 64)
	defer a.close()

	const n = 50
	rng := rand.New(rand.NewPCG(1, 2))
	files := make([]payload, n)
	hashes := make([]string, n)
	byHash := map[string]int{}
	for i := range files {
		files[i] = payload{seed: uint64(1000 + i), size: 2<<20 + rng.Int64N(2<<20)}
		hashes[i] = files[i].sha256()
		byHash[hashes[i]] = i
	}
	name := func(i int) string { return fmt.Sprintf("f%02d.bin", i) }

	type outcome struct {
		code   int    // the status, when an answer arrived
		status string // its envelope status
		body   string
		id     string // the object id of a 200
		cutErr error  // no complete answer: the server died first
		badErr error  // an answer that is wrong in itself
	}
	outcomes := make([]outcome, n)
	acks := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every third upload trickles in 32 KiB pieces, so that some
			// are certainly mid-flight when the server dies.
			chunk, pause := 256<<10, time.Duration(0)
			if i%3 == 0 {
				chunk, pause = 32<<10, 10*time.Millisecond
			}
			req := map[string]any{"folder": "/up", "name": name(i), "sha256": hashes[i], "size": files[i].size}
			body, ct := multipartPut(req, name(i), files[i], chunk, pause)
			hr, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.base+"/v1/put", body)
			if err != nil {
				outcomes[i].badErr = err
				return
			}
			hr.Header.Set("Content-Type", ct)
			r, err := a.do(hr)
			o := outcome{code: r.Code, status: r.Env.Status, body: string(r.Body), cutErr: err}
			if err == nil && r.Code == http.StatusOK {
				var res struct {
					Object wireObject `json:"object"`
				}
				if jerr := json.Unmarshal(r.Env.Result, &res); jerr != nil || res.Object.ID == "" {
					o.badErr = fmt.Errorf("a 200 without an object id: %s (%v)", r.Env.Result, jerr)
				} else {
					o.id = res.Object.ID
					if res.Object.SHA256 != hashes[i] || res.Object.Size != files[i].size {
						o.badErr = fmt.Errorf("acknowledged as %d bytes sha256 %s, sent %d bytes sha256 %s", res.Object.Size, res.Object.SHA256, files[i].size, hashes[i])
					}
				}
			}
			outcomes[i] = o
			if o.id != "" {
				acks <- i
			}
		}()
	}

	// Kill the server once half the uploads are acknowledged.
	acked := 0
	wait := time.NewTimer(40 * time.Second)
	defer wait.Stop()
	for acked < n/2 {
		select {
		case <-acks:
			acked++
		case <-wait.C:
			srv.kill()
			wg.Wait()
			t.Fatalf("only %d of %d uploads acknowledged after 40s; server stderr:\n%s", acked, n, srv.stderr.String())
		}
	}
	srv.kill()
	killedAt := time.Since(began)
	wg.Wait()

	ackedIDs := map[int]string{}
	var cut []int
	for i, o := range outcomes {
		switch {
		case o.badErr != nil:
			t.Errorf("upload %s: %v", name(i), o.badErr)
		case o.id != "":
			ackedIDs[i] = o.id
		case o.cutErr != nil:
			cut = append(cut, i)
		default:
			// A complete answer other than success before the server
			// died: nothing in this test should be refused.
			t.Errorf("upload %s: got %d %s before the kill, want 200; body %.300s", name(i), o.code, o.status, o.body)
		}
	}
	// What the crash left, before the restart sweeps it (the database is
	// not opened here: closing the last connection would checkpoint the
	// WAL and spare the server the recovery this test is about).
	staged := filesUnder(t, filepath.Join(dir, "tmp"))
	blobsBefore := filesUnder(t, filepath.Join(dir, "blobs"))
	t.Logf("killed the server %v after the start with %d uploads acknowledged (%d by the time every client had returned), %d cut off; "+
		"the crash left %d staged files in tmp/ and %d files in blobs/",
		killedAt.Round(time.Millisecond), acked, len(ackedIDs), len(cut), len(staged), len(blobsBefore))

	// Restart on the same data directory.
	srv2 := startProc(t, dir)
	a2 := newAPI(srv2.base, token, 8)
	defer a2.close()
	objs := a2.listAll(t, ctx)

	files2 := map[string]wireObject{} // file objects by id
	late := 0                         // committed, but the answer never arrived
	for _, o := range objs {
		if o.Type != "file" {
			if o.Type != "folder" || o.Name != "up" {
				t.Errorf("unexpected object after the restart: %+v", o)
			}
			continue
		}
		files2[o.ID] = o
		i, ok := byHash[o.SHA256]
		switch {
		case !ok || o.Name != name(i) || o.Size != files[i].size:
			t.Errorf("object %s %q (%d bytes, sha256 %s) matches no file that was sent: a partial or corrupt object", o.ID, o.Name, o.Size, o.SHA256)
		case ackedIDs[i] == "":
			late++
		case ackedIDs[i] != o.ID:
			t.Errorf("%s: listed as %s, acknowledged as %s", name(i), o.ID, ackedIDs[i])
		}
	}
	for i, id := range ackedIDs {
		if _, ok := files2[id]; !ok {
			t.Errorf("acknowledged upload %s (%s) is missing after the restart", name(i), id)
		}
	}
	t.Logf("after the restart: %d file objects: %d acknowledged, %d committed just before the kill without an answer", len(files2), len(files2)-late, late)

	// Every object's bytes are those that were sent.
	for id, o := range files2 {
		size, sum, err := a2.download(ctx, id)
		i, known := byHash[o.SHA256]
		switch {
		case err != nil:
			t.Errorf("download %s (%s): %v", o.Name, id, err)
		case !known:
		case size != files[i].size || sum != hashes[i]:
			t.Errorf("download %s (%s): got %d bytes sha256 %s, want %d bytes sha256 %s", o.Name, id, size, sum, files[i].size, hashes[i])
		}
	}

	// One blob per file object, no orphans; nothing left in tmp.
	db := testrig.OpenDB(t, dir)
	rows, err := db.QueryContext(ctx, `SELECT id, blob_key FROM objects WHERE type = 'file'`)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for rows.Next() {
		var id, key string
		if err := rows.Scan(&id, &key); err != nil {
			t.Fatal(err)
		}
		keys[key] = id
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	blobs := filesUnder(t, filepath.Join(dir, "blobs"))
	for k, id := range keys {
		if _, ok := blobs[k]; !ok {
			t.Errorf("object %s: blob %s is missing from blobs/", id, k)
		}
	}
	for k, p := range blobs {
		if _, ok := keys[k]; !ok {
			t.Errorf("orphan blob after the restart: %s", p)
		}
	}
	t.Logf("the restart swept %d orphan blobs and %d staged files", len(blobsBefore)-len(blobs), len(staged))
	if len(blobs) != len(files2) {
		t.Errorf("blobs/ holds %d files, want %d (one per file object)", len(blobs), len(files2))
	}
	if left := filesUnder(t, filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Errorf("tmp/ after the restart: got %d files (%v), want none", len(left), slices.Collect(maps.Keys(left)))
	}
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}
	t.Logf("took %v", time.Since(began).Round(time.Millisecond))
}

// TestFault_DiskFull fills the disk that holds the blobs and the staging
// directory: the upload that does not fit gets a 507 ServiceNotAvailable
// envelope, the earlier files and the database are intact, and once a file
// is deleted uploads work again.
//
// The data directory is an 8 MiB tmpfs; the database file is a symlink to a
// directory on the ordinary disk (SQLite follows it, so its WAL is there
// too), so the test is about blob space, not about SQLite running out of it.
// It needs root (mount); without it the test is skipped.
func TestFault_DiskFull(t *testing.T) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	base := t.TempDir()
	dir, dbDir := filepath.Join(base, "data"), filepath.Join(base, "db")
	for _, d := range []string{dir, dbDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	mountTmpfs(t, dir, "8m")
	if err := os.Symlink(filepath.Join(dbDir, "sesame.db"), filepath.Join(dir, "sesame.db")); err != nil {
		t.Fatal(err)
	}
	token := createToken(t, dir)
	for _, f := range []string{"sesame.db-wal", "sesame.db-shm"} {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			t.Fatalf("%s is on the tmpfs: SQLite did not follow the symlink, so a full disk would hit the database too", f)
		}
	}
	// No reserve: this test is about the disk itself filling up
	// (TestReserve_APIUploads in gateway covers storage.min_free_space).
	s := startServeEnv(t, dir, []string{"SESAME_STORAGE_MIN_FREE_SPACE=0"})
	a := newAPI(s.base, token, 4)
	defer a.close()

	// Files just under the 1 MiB staging chunk: each arrives in one read,
	// so the server has read the whole body when the write fails and the
	// client reads the answer rather than a reset.
	const size = 1000 << 10
	put := func(i int) apiReply {
		t.Helper()
		p := payload{seed: uint64(5000 + i), size: size}
		req := map[string]any{"folder": "/full", "name": fmt.Sprintf("f%02d.bin", i), "sha256": p.sha256()}
		body, ct := multipartPut(req, fmt.Sprintf("f%02d.bin", i), p, 64<<10, 0)
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/v1/put", body)
		if err != nil {
			t.Fatal(err)
		}
		hr.Header.Set("Content-Type", ct)
		r, err := a.do(hr)
		if err != nil {
			t.Fatalf("put f%02d: %v", i, err)
		}
		return r
	}
	stored := map[string]payload{} // object id -> what was sent
	var full apiReply
	i := 0
	for ; i < 20; i++ {
		r := put(i)
		if r.Code != http.StatusOK {
			full = r
			break
		}
		var res struct {
			Object wireObject `json:"object"`
		}
		if err := json.Unmarshal(r.Env.Result, &res); err != nil {
			t.Fatal(err)
		}
		stored[res.Object.ID] = payload{seed: uint64(5000 + i), size: size}
	}
	if full.Code == 0 {
		t.Fatalf("20 uploads of %d bytes all fit on an 8 MiB filesystem", size)
	}
	t.Logf("upload %d of %d bytes failed with %d %s: %s", i+1, size, full.Code, full.Env.Status, full.Env.Summary)
	if full.Code != http.StatusInsufficientStorage || full.Env.Status != "ServiceNotAvailable" || !strings.Contains(strings.ToLower(full.Env.Summary), "space") {
		t.Errorf("the upload that did not fit: got %d %s %q, want 507 ServiceNotAvailable saying there is no space; body %s",
			full.Code, full.Env.Status, full.Env.Summary, full.Body)
	}
	if len(stored) < 5 {
		t.Errorf("only %d uploads fit before the disk was full; want about 7", len(stored))
	}
	if left := filesUnder(t, filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Errorf("tmp/ after the failed upload: got %v, want the partial file removed", slices.Collect(maps.Keys(left)))
	}

	// The database and the stored files are intact.
	checkStored := func(when string) {
		t.Helper()
		objs := a.listAll(t, ctx)
		nfiles := 0
		for _, o := range objs {
			if o.Type == "file" {
				nfiles++
				if _, ok := stored[o.ID]; !ok {
					t.Errorf("%s: unexpected object %s %q", when, o.ID, o.Name)
				}
			}
		}
		if nfiles != len(stored) {
			t.Errorf("%s: %d files listed, want %d", when, nfiles, len(stored))
		}
		for id, p := range stored {
			n, sum, err := a.download(ctx, id)
			if err != nil {
				t.Errorf("%s: %v", when, err)
			} else if n != p.size || sum != p.sha256() {
				t.Errorf("%s: download %s: got %d bytes sha256 %s, want %d bytes %s", when, id, n, sum, p.size, p.sha256())
			}
		}
	}
	checkStored("after the disk filled")
	var check string
	if err := testrig.OpenDB(t, dir).QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}

	// Deleting a file makes room again.
	var victim string
	for id := range stored {
		victim = id
		break
	}
	a.mustPost(t, ctx, "/v1/delete", map[string]any{"id": victim})
	delete(stored, victim)
	r := put(100)
	if r.Code != http.StatusOK {
		t.Fatalf("upload after a delete: got %d %s %q, want 200", r.Code, r.Env.Status, r.Env.Summary)
	}
	var res struct {
		Object wireObject `json:"object"`
	}
	if err := json.Unmarshal(r.Env.Result, &res); err != nil {
		t.Fatal(err)
	}
	stored[res.Object.ID] = payload{seed: 5100, size: size}
	checkStored("after a delete and a new upload")
	t.Logf("took %v", time.Since(began).Round(time.Millisecond))
}

// mountTmpfs mounts a tmpfs of the given size on dir for the test, or skips
// the test when mounting is not allowed.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := strings.ToLower(string(out))
		if os.Geteuid() != 0 || strings.Contains(msg, "permission") || strings.Contains(msg, "not permitted") || errors.Is(err, exec.ErrNotFound) {
			if os.Getenv("CI") != "" {
				t.Fatalf("CI is set but a tmpfs cannot be mounted (this test needs root and mount): %v: %s", err, out)
			}
			t.Skipf("cannot mount a tmpfs to fill (this test needs root and mount): %v: %s", err, out)
		}
		t.Fatalf("mount tmpfs on %s: %v: %s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
			exec.Command("umount", "-l", dir).Run()
		}
	})
}

// TestFault_SymlinkedBlobs moves blobs/ to another directory and leaves a
// symlink in its place, as an operator does to keep the files on a bigger
// volume. The start-up sweep must not take the symlink for an orphan blob.
func TestFault_SymlinkedBlobs(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	base := t.TempDir()
	dir, vol := filepath.Join(base, "data"), filepath.Join(base, "volume")
	if err := os.Mkdir(vol, 0o700); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, dir)
	token := tokenRE.FindString(s.stdout.String())
	a := newAPI(s.base, token, 2)
	defer a.close()
	p := payload{seed: 7, size: 4096}
	body, ct := multipartPut(map[string]any{"name": "kept.bin"}, "kept.bin", p, 4096, 0)
	hr, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/v1/put", body)
	hr.Header.Set("Content-Type", ct)
	r, err := a.do(hr)
	if err != nil || r.Code != http.StatusOK {
		t.Fatalf("put: %v %d %s", err, r.Code, r.Body)
	}
	var res struct {
		Object wireObject `json:"object"`
	}
	json.Unmarshal(r.Env.Result, &res)
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	a.close()

	if err := os.Rename(filepath.Join(dir, "blobs"), filepath.Join(vol, "blobs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(vol, "blobs"), filepath.Join(dir, "blobs")); err != nil {
		t.Fatal(err)
	}
	s2 := startServe(t, dir)
	if fi, err := os.Lstat(filepath.Join(dir, "blobs")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		what := fmt.Sprint(err)
		if err == nil {
			what = "mode " + fi.Mode().String()
		}
		t.Errorf("after the restart, data/blobs is no longer the symlink to %s (%s); server log:\n%s", filepath.Join(vol, "blobs"), what, s2.stderr.String())
	}
	a2 := newAPI(s2.base, token, 2)
	defer a2.close()
	if n, sum, err := a2.download(ctx, res.Object.ID); err != nil || n != p.size || sum != p.sha256() {
		t.Errorf("download after the restart: %d bytes, sha256 %s, %v; want %d bytes %s", n, sum, err, p.size, p.sha256())
	}
}

// TestFault_SQLiteBusy fires 200 concurrent writers at one server, each
// creating a folder, putting a file in it, sharing it and tagging it, and
// checks that no request fails with a 5xx (503 included: the database is
// busy, not down) and that everything created is there.
func TestFault_SQLiteBusy(t *testing.T) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	s := startServe(t, dir)
	token := tokenRE.FindString(s.stdout.String())
	const workers = 200
	a := newAPI(s.base, token, workers)
	defer a.close()

	var (
		mu       sync.Mutex
		statuses = map[string]map[int]int{} // route -> status -> count
		failures []string
		answered []string // request ids of the requests that got an answer
		slowest  = map[string]time.Duration{}
	)
	record := func(route string, r apiReply, err error, w int, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		slowest[route] = max(slowest[route], took)
		if statuses[route] == nil {
			statuses[route] = map[int]int{}
		}
		statuses[route][r.Code]++
		if id := r.Header.Get("x-request-id"); id != "" {
			answered = append(answered, id)
		}
		switch {
		case err != nil:
			failures = append(failures, fmt.Sprintf("worker %d %s: no answer: %v", w, route, err))
		case r.Code >= 500:
			failures = append(failures, fmt.Sprintf("worker %d %s: a server error under contention: %d (Retry-After %q) %.400s",
				w, route, r.Code, r.Header.Get("Retry-After"), r.Body))
		case r.Code != http.StatusOK:
			failures = append(failures, fmt.Sprintf("worker %d %s: %d, want 200: %.300s", w, route, r.Code, r.Body))
		}
	}
	type made struct{ folder, file, link string }
	results := make([]made, workers)
	updated := make([]bool, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			wname := fmt.Sprintf("w%03d", w)
			t0 := time.Now()
			r, err := a.post(ctx, "/v1/folder/create", map[string]any{"folder": "/busy", "name": wname})
			record("folder/create", r, err, w, time.Since(t0))
			if err != nil || r.Code != http.StatusOK {
				return
			}
			var fo struct {
				Object wireObject `json:"object"`
			}
			json.Unmarshal(r.Env.Result, &fo)
			results[w].folder = fo.Object.ID

			content := []byte(fmt.Sprintf("written by worker %d\n", w))
			sum := sha256.Sum256(content)
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			rw, _ := mw.CreateFormField("request")
			json.NewEncoder(rw).Encode(map[string]any{"parent_id": fo.Object.ID, "name": "f.txt", "sha256": hex.EncodeToString(sum[:])})
			fw, _ := mw.CreateFormFile("file", "f.txt")
			fw.Write(content)
			mw.Close()
			hr, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/v1/put", &body)
			hr.Header.Set("Content-Type", mw.FormDataContentType())
			t0 = time.Now()
			r, err = a.do(hr)
			record("put", r, err, w, time.Since(t0))
			if err != nil || r.Code != http.StatusOK {
				return
			}
			var put struct {
				Object wireObject `json:"object"`
			}
			json.Unmarshal(r.Env.Result, &put)
			results[w].file = put.Object.ID

			t0 = time.Now()
			r, err = a.post(ctx, "/v1/share/link/create", map[string]any{"links": []any{map[string]any{
				"targets":        []string{put.Object.ID},
				"authenticators": []any{map[string]any{"auth_type": "email_otp", "auth_context": wname + "@example.com"}},
			}}})
			record("share/link/create", r, err, w, time.Since(t0))
			if err == nil && r.Code == http.StatusOK {
				var lk struct {
					Links []struct {
						ID string `json:"id"`
					} `json:"share_link_objects"`
				}
				json.Unmarshal(r.Env.Result, &lk)
				if len(lk.Links) == 1 {
					results[w].link = lk.Links[0].ID
				}
			}

			t0 = time.Now()
			r, err = a.post(ctx, "/v1/update", map[string]any{"id": put.Object.ID, "add_tags": []string{"busy"}, "add_metadata": map[string]string{"worker": strconv.Itoa(w)}})
			record("update", r, err, w, time.Since(t0))
			updated[w] = err == nil && r.Code == http.StatusOK
		}()
	}
	fired := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(fired)

	routes := slices.Sorted(maps.Keys(statuses))
	var seen []string
	total := 0
	for _, route := range routes {
		codes := []int{}
		for c := range statuses[route] {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		for _, c := range codes {
			seen = append(seen, fmt.Sprintf("%s %d×%d", route, c, statuses[route][c]))
			total += statuses[route][c]
		}
	}
	t.Logf("%d requests from %d writers in %v; statuses seen: %s", total, workers, elapsed.Round(time.Millisecond), strings.Join(seen, ", "))
	var lat []string
	for _, route := range routes {
		lat = append(lat, fmt.Sprintf("%s %v", route, slowest[route].Round(time.Millisecond)))
	}
	t.Logf("slowest answer per route (SQLite gives up on a lock after _busy_timeout, 10s): %s", strings.Join(lat, ", "))
	for i, f := range failures {
		if i == 20 {
			t.Errorf("... and %d more failures", len(failures)-20)
			break
		}
		t.Errorf("%s", f)
	}
	// What the server logged as going wrong (the in-process server logs
	// at info; warnings and errors are what matter here).
	problems := map[string]int{}
	var examples []string
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		if !strings.Contains(line, "level=WARN") && !strings.Contains(line, "level=ERROR") {
			continue
		}
		msg := logMsgRE.FindString(line)
		if problems[msg] == 0 && len(examples) < 6 {
			examples = append(examples, line)
		}
		problems[msg]++
	}
	if len(problems) > 0 {
		t.Logf("the server logged these warnings and errors (count by message): %v; first of each:\n%s", problems, strings.Join(examples, "\n"))
	}

	// Every request that was answered left its audit event.
	db := testrig.OpenDB(t, dir)
	audited := map[string]bool{}
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT request_id FROM audit_events`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		audited[id] = true
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for _, id := range answered {
		if !audited[id] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d answered requests left no audit event (the audit write failed after the answer, and was only logged)", lost, len(answered))
	}

	// Everything that was created is there.
	objs := a.listAll(t, ctx)
	byID := map[string]wireObject{}
	for _, o := range objs {
		byID[o.ID] = o
	}
	for w, m := range results {
		// A step that failed was reported above; what it would have
		// created is not looked for.
		wname := fmt.Sprintf("w%03d", w)
		if m.folder == "" {
			continue
		}
		if fo, ok := byID[m.folder]; !ok || fo.Name != wname || fo.Folder != "/busy" {
			t.Errorf("worker %d: folder %s missing or wrong after it was acknowledged (%+v)", w, m.folder, fo)
		}
		if m.file == "" {
			continue
		}
		fi, ok := byID[m.file]
		if !ok || fi.Folder != "/busy/"+wname || fi.Name != "f.txt" {
			t.Errorf("worker %d: file %s missing or wrong after it was acknowledged (%+v)", w, m.file, fi)
			continue
		}
		if !slices.Contains(fi.Tags, "busy") && updated[w] {
			t.Errorf("worker %d: file tags %v after an acknowledged update, want busy", w, fi.Tags)
		}
		if m.link != "" && !slices.Contains(fi.ShareLinkIDs, m.link) {
			t.Errorf("worker %d: file share links %v, want %s", w, fi.ShareLinkIDs, m.link)
		}
	}
	t.Logf("took %v", time.Since(began).Round(time.Millisecond))
}

// logMsgRE finds the message of a text log line.
var logMsgRE = regexp.MustCompile(`msg=("[^"]*"|\S+)`)

// TestFault_OutboxCrash queues link emails while the mail server refuses
// them, kills the server (SIGKILL), lets the mail server accept, restarts,
// and checks that every message arrives exactly once.
//
// The first refusal schedules the retry a minute later (notify.retryDelays).
// Instead of waiting, the test rewrites next_attempt_at in the database
// while the server is down: that stands in for the clock moving on.
func TestFault_OutboxCrash(t *testing.T) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	mail := testrig.NewSMTPServer(t)
	mail.Refuse(testrig.SMTPTryLater)
	env := []string{"SESAME_NOTIFY_EMAIL=smtp", "SESAME_SMTP_HOST=" + mail.Host, "SESAME_SMTP_PORT=" + strconv.Itoa(mail.Port),
		"SESAME_SMTP_TLS=none", "SESAME_SMTP_FROM=share@example.com", "SESAME_NOTIFY_INTERVAL=200ms"}
	dir := t.TempDir()
	token := createToken(t, dir)
	srv := startProc(t, dir, env...)
	a := newAPI(srv.base, token, 4)
	defer a.close()

	folder := a.mustPost(t, ctx, "/v1/folder/create", map[string]any{"folder": "/", "name": "shared"})
	var fo struct {
		Object wireObject `json:"object"`
	}
	json.Unmarshal(folder.Result, &fo)
	const n = 5
	recipients := make([]string, n)
	var items []any
	for i := range recipients {
		recipients[i] = fmt.Sprintf("rcpt%d@example.com", i)
		items = append(items, map[string]any{"targets": []string{fo.Object.ID}, "title": fmt.Sprintf("Report %d", i),
			"authenticators": []any{map[string]any{"auth_type": "email_otp", "auth_context": recipients[i]}}})
	}
	created := a.mustPost(t, ctx, "/v1/share/link/create", map[string]any{"links": items})
	var links struct {
		Links []struct {
			ID   string `json:"id"`
			Link string `json:"link"`
		} `json:"share_link_objects"`
	}
	if err := json.Unmarshal(created.Result, &links); err != nil || len(links.Links) != n {
		t.Fatalf("link/create: %v %s", err, created.Result)
	}
	var send []any
	for i, l := range links.Links {
		send = append(send, map[string]any{"id": l.ID, "email": recipients[i]})
	}
	a.mustPost(t, ctx, "/v1/share/link/send", map[string]any{"links": send, "sender_email": "alice@example.com", "sender_name": "Alice"})

	// Wait until every message has been tried once, refused, and put back
	// in the queue for later.
	db := testrig.OpenDB(t, dir)
	queuedAfterOneTry := func() int {
		var c int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE status = ? AND attempts = 1 AND last_error != ''`, sesame.OutboxQueued).Scan(&c); err != nil {
			t.Fatalf("outbox: %v", err)
		}
		return c
	}
	deadline := time.Now().Add(20 * time.Second)
	for queuedAfterOneTry() < n {
		if time.Now().After(deadline) {
			t.Fatalf("after 20s, %d of %d messages were refused and queued again (refused: %v); server stderr:\n%s",
				queuedAfterOneTry(), n, mail.Refused(), srv.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := len(mail.Messages()); got != 0 {
		t.Fatalf("the refusing mail server accepted %d messages", got)
	}
	srv.kill()
	a.close()
	t.Logf("%d messages refused and queued; server killed %v after the start", len(mail.Refused()), time.Since(began).Round(time.Millisecond))

	mail.Refuse(nil)
	// The clock moves on: the retries are due.
	res, err := db.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ? WHERE status = ?`,
		sesame.FormatTime(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)), sesame.OutboxQueued)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := res.RowsAffected(); c != n {
		t.Fatalf("made %d queued messages due, want %d", c, n)
	}

	srv2 := startProc(t, dir, env...)
	deadline = time.Now().Add(20 * time.Second)
	for len(mail.Messages()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("after 20s the mail server has %d of %d messages; server stderr:\n%s", len(mail.Messages()), n, srv2.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	delivered := time.Since(began)
	time.Sleep(3 * time.Second) // nothing more may come
	msgs := mail.Messages()
	per := map[string]int{}
	for _, m := range msgs {
		if len(m.To) != 1 {
			t.Errorf("a message to %v, want exactly one recipient each", m.To)
			continue
		}
		per[m.To[0]]++
		i := slices.Index(recipients, m.To[0])
		if i < 0 {
			t.Errorf("a message to an unknown recipient %s", m.To[0])
			continue
		}
		// The body (possibly quoted-printable, with soft line breaks)
		// carries the recipient's own link.
		text := strings.ReplaceAll(string(m.Data), "=\r\n", "")
		token := links.Links[i].Link[strings.LastIndex(links.Links[i].Link, "/")+1:]
		if !strings.Contains(text, token) {
			t.Errorf("the message to %s does not carry its link %s", m.To[0], links.Links[i].Link)
		}
	}
	for _, r := range recipients {
		if per[r] != 1 {
			t.Errorf("%s got %d messages, want exactly 1", r, per[r])
		}
	}
	if len(msgs) != n {
		t.Errorf("the mail server got %d messages in all, want %d", len(msgs), n)
	}

	rows, err := db.QueryContext(ctx, `SELECT recipient, status, attempts, sent_at, payload IS NULL FROM outbox ORDER BY recipient`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	count := 0
	for rows.Next() {
		var rcpt, status string
		var sentAt sql.NullString
		var attempts int
		var cleared bool
		if err := rows.Scan(&rcpt, &status, &attempts, &sentAt, &cleared); err != nil {
			t.Fatal(err)
		}
		count++
		if status != sesame.OutboxSent || attempts != 2 || !sentAt.Valid || !cleared {
			t.Errorf("outbox row for %s: status %s, attempts %d, sent_at %q, payload cleared %v; want sent after 2 attempts, payload cleared",
				rcpt, status, attempts, sentAt.String, cleared)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Errorf("the outbox holds %d rows, want %d", count, n)
	}
	t.Logf("all %d delivered %v after the start; took %v", n, delivered.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}
