// Package testrig is what the tests of gateway, notify and cmd/sesame share:
// one injected clock, fakes at the process boundaries (a real SMTP server and
// an HTTP server that answers like the Twilio API), an environment builder
// that serves the gateway over a real store in a temp dir, a JSON client for
// the API, and a visitor that reads the recipient pages with
// golang.org/x/net/html.
//
// Only tests import it: scripts/check-imports.sh refuses it in product code.
// It may import every package of the module, as cmd does.
package testrig
