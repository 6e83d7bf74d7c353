// Package conformance holds the test that judges sesame's API by Pangea's
// OpenAPI document (testdata/share.openapi.json) and the one table of the
// ways sesame differs from it on purpose. It has no code of its own.
package conformance
