package gateway

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-share/sesame"
)

// decodeJSON reports every problem, in the order of the body, each at its
// own pointer, and stops at sesame.MaxFieldErrors.
func TestDecodeJSON_Problems(t *testing.T) {
	ids := make([]string, 1001)
	for i := range ids {
		ids[i] = `"x"`
	}
	for _, tt := range []struct {
		name string
		body string
		new  func() any
		want []string
	}{
		{"ThreeWrongTypes", `{"name":5,"tags":"x","metadata":[]}`, func() any { return &folderCreateRequest{} },
			[]string{"InvalidString /name", "InvalidArray /tags", "InvalidObject /metadata"}},
		{"EscapedKeys", `{"a/b":1,"c~d":2,"n\u0061me":"ok","x\"y":3}`, func() any { return &folderCreateRequest{} },
			[]string{"UnexpectedProperty /a~1b", "UnexpectedProperty /c~0d", `UnexpectedProperty /x"y`}},
		{"Nested", `{"links":[{"targets":[1,"pos_x",true]},{"authenticators":[{"auth_type":1}]}]}`, func() any { return &linkCreateRequest{} },
			[]string{"InvalidString /links/0/targets/0", "InvalidString /links/0/targets/2", "InvalidString /links/1/authenticators/0/auth_type"}},
		{"RepeatedKey", `{"name":5,"name":"a"}`, func() any { return &folderCreateRequest{} }, []string{"InvalidString /name"}},
		{"TooManyItems", `{"ids":[` + strings.Join(ids, ",") + `]}`, func() any { return &archiveRequest{} }, []string{"AboveMaxItems /ids"}},
		{"TooManyMembers", `{"filter":{` + strings.Repeat(`"k":1,`, 1000) + `"k":1}}`, func() any { return &linkListRequest{} },
			[]string{"AboveMaxProperties /filter"}},
		{"OutOfRange", `{"size":9223372036854775808,"last":1}`, func() any { return &linkListRequest{} },
			[]string{"NotWithinRange /size", "InvalidString /last"}},
		{"Twenty", `{"ids":[` + strings.Repeat("0,", 30) + `0]}`, func() any { return &archiveRequest{} }, func() []string {
			var out []string
			for i := range sesame.MaxFieldErrors {
				out = append(out, fmt.Sprintf("InvalidString /ids/%d", i))
			}
			return out
		}()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := decodeJSON([]byte(tt.body), tt.new())
			e := sesame.AsError(err)
			if e == nil || e.Kind != sesame.Invalid {
				t.Fatalf("got %v, want an Invalid error", err)
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Code+" "+f.Source)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("AtTheCap", func(t *testing.T) {
		var req archiveRequest
		body := `{"ids":[` + strings.Join(ids[:1000], ",") + `],"format":"zip"}`
		if err := decodeJSON([]byte(body), &req); err != nil || len(req.IDs) != 1000 || *req.Format != "zip" {
			t.Fatalf("got %v with %d ids, want 1000 ids decoded", err, len(req.IDs))
		}
	})
}
