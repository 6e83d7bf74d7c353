package conformance

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the deviation list in README.md from the table")

const (
	readmeFile  = "../../README.md"
	readmeBegin = "<!-- deviations: begin (generated from internal/conformance/deviations_test.go by `go test ./internal/conformance -run TestDeviationsInREADME -update`) -->\n"
	readmeEnd   = "<!-- deviations: end -->\n"
)

// renderDeviations writes the table as the README shows it.
func renderDeviations() string {
	var b strings.Builder
	for _, g := range []group{extension, difference, notYet} {
		var lines []string
		for _, d := range deviations {
			if d.group == g {
				lines = append(lines, "- "+d.what+" — "+d.why+".\n")
			}
		}
		if len(lines) > 0 { // a group with nothing in it is left out
			b.WriteString("\n" + groupTitles[g] + ":\n\n" + strings.Join(lines, ""))
		}
	}
	b.WriteString("\n")
	return b.String()
}

// TestDeviationsInREADME keeps the README's list of deviations equal to
// the table that the conformance test applies.
func TestDeviationsInREADME(t *testing.T) {
	raw, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	head, rest, ok := strings.Cut(readme, readmeBegin)
	if !ok {
		t.Fatalf("README.md has no line %q", strings.TrimSpace(readmeBegin))
	}
	listed, tail, ok := strings.Cut(rest, readmeEnd)
	if !ok {
		t.Fatalf("README.md has no line %q", strings.TrimSpace(readmeEnd))
	}
	want := renderDeviations()
	if listed == want {
		return
	}
	if *update {
		if err := os.WriteFile(readmeFile, []byte(head+readmeBegin+want+readmeEnd+tail), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md lists other deviations than deviations_test.go; run go test ./internal/conformance -run TestDeviationsInREADME -update\ngot:\n%s\nwant:\n%s", listed, want)
}
