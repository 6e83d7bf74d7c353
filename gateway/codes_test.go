package gateway_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// documentCodes is the enum of errors[].code in Pangea's OpenAPI document
// (the copy the conformance test judges by).
var documentCodes = sync.OnceValues(func() (map[string]bool, error) {
	raw, err := os.ReadFile(filepath.Join("..", "internal", "conformance", "testdata", "share.openapi.json"))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Components struct {
			Schemas struct {
				Errors struct {
					Properties struct {
						Result struct {
							Properties struct {
								Errors struct {
									Items struct {
										Properties struct {
											Code struct {
												Enum []string `json:"enum"`
											} `json:"code"`
										} `json:"properties"`
									} `json:"items"`
								} `json:"errors"`
							} `json:"properties"`
						} `json:"result"`
					} `json:"properties"`
				} `json:"pangea-validation-errors"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	codes := map[string]bool{}
	for _, c := range doc.Components.Schemas.Errors.Properties.Result.Properties.Errors.Items.Properties.Code.Enum {
		codes[c] = true
	}
	return codes, nil
})

// wantDocumentCode fails unless code is in the document's enum.
func wantDocumentCode(t *testing.T, code string) {
	t.Helper()
	codes, err := documentCodes()
	if err != nil || len(codes) == 0 {
		t.Fatalf("read the document's code enum: %v", err)
	}
	if !codes[code] {
		t.Errorf("error code %q is not in the OpenAPI document's enum", code)
	}
}
