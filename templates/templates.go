// Package templates holds every page and message body sesame renders,
// embedded in the binary: recipient pages (layouts/, pages/), their static
// assets (static/), notification bodies (messages/) and the
// translations of all their sentences (locales/). The packages that
// know what a message means render it; nothing is read from disk at run
// time.
package templates

import "embed"

// FS holds the templates and static assets.
//
//go:embed messages/* layouts/*.html pages/*.html static/* locales/*.yaml
var FS embed.FS
