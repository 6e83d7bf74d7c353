package testrig

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// API calls the JSON API of one server with a bearer token. Its methods
// take the test to fail, so that subtests report their own failures.
type API struct {
	URL    string // the server's base URL
	Token  string // sent by Post
	Client *http.Client
}

// Reply is a decoded Pangea envelope plus the raw response. The envelope
// fields are empty when the answer is not JSON.
type Reply struct {
	Code         int
	Header       http.Header
	Raw          []byte
	RequestID    string          `json:"request_id"`
	RequestTime  string          `json:"request_time"`
	ResponseTime string          `json:"response_time"`
	Status       string          `json:"status"`
	Summary      string          `json:"summary"`
	Result       json.RawMessage `json:"result"`
}

// ErrorItem is one entry of result.errors.
type ErrorItem struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Source string `json:"source"`
}

// Errors decodes result.errors.
func (r *Reply) Errors(t testing.TB) []ErrorItem {
	t.Helper()
	var res struct {
		Errors []ErrorItem `json:"errors"`
	}
	if err := json.Unmarshal(r.Result, &res); err != nil {
		t.Fatalf("result is not an error list: %s", r.Raw)
	}
	return res.Errors
}

// Into decodes result into v.
func (r *Reply) Into(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Result, v); err != nil {
		t.Fatalf("decode result: %v\n%s", err, r.Raw)
	}
}

// MustOK fails the test unless r is a 200 Success envelope.
func (r *Reply) MustOK(t testing.TB) {
	t.Helper()
	if r.Code != http.StatusOK || r.Status != "Success" {
		t.Fatalf("got %d %s, want 200 Success: %s", r.Code, r.Status, r.Raw)
	}
}

// Do sends req as it is and reads the answer; a JSON answer must be a JSON
// document.
func (a *API) Do(t testing.TB, req *http.Request) *Reply {
	t.Helper()
	resp, err := a.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := &Reply{Code: resp.StatusCode, Header: resp.Header, Raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, r); err != nil {
			t.Fatalf("response is not JSON: %v\n%s", err, raw)
		}
	}
	return r
}

// Post sends body with the API's token: a string or []byte as it is,
// anything else as JSON.
func (a *API) Post(t testing.TB, path string, body any) *Reply {
	t.Helper()
	return a.PostAs(t, a.Token, path, body)
}

// PostAs is Post with another token ("" sends none).
func (a *API) PostAs(t testing.TB, token, path string, body any) *Reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.URL+path, bytes.NewReader(JSONBody(t, body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.Do(t, req)
}

// JSONBody is body as bytes: a string or []byte as it is, anything else
// marshalled as JSON.
func JSONBody(t testing.TB, body any) []byte {
	t.Helper()
	switch v := body.(type) {
	case string:
		return []byte(v)
	case []byte:
		return v
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
