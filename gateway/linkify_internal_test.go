package gateway

import "testing"

func TestLinkify(t *testing.T) {
	a := func(u string) string {
		return `<a href="` + u + `" rel="noopener noreferrer nofollow" target="_blank">` + u + `</a>`
	}
	tests := []struct{ name, in, want string }{
		{"Plain", "Hello Bob,\nthe figures.", "Hello Bob,\nthe figures."},
		{"Escaped", `<b>bold</b> & "quoted"`, `&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoted&#34;`},
		{"OneLink", "See https://example.com/a?b=1&c=2 for more", "See " + a("https://example.com/a?b=1&amp;c=2") + " for more"},
		{"SentenceEnd", "Read http://example.org/x.", "Read " + a("http://example.org/x") + "."},
		{"InParentheses", "(see https://example.org/doc)", "(see " + a("https://example.org/doc") + ")"},
		{"Two", "https://a.example and https://b.example!", a("https://a.example") + " and " + a("https://b.example") + "!"},
		{"NoScriptScheme", "javascript:alert(1) https://x.example", "javascript:alert(1) " + a("https://x.example")},
		{"QuoteEndsAddress", `https://x.example/"onmouseover="alert(1)`, a("https://x.example/") + `&#34;onmouseover=&#34;alert(1)`},
		{"TagEndsAddress", "https://x.example/<script>", a("https://x.example/") + "&lt;script&gt;"},
		{"NoHost", "http:///nothing here", "http:///nothing here"},
		{"OnlyPunctuation", "https://.", "https://."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(linkify(tt.in)); got != tt.want {
				t.Errorf("linkify(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}
