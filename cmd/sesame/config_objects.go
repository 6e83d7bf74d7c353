package main

import (
	"fmt"

	"github.com/sesame-share/sesame"
)

// ObjectsConfig is the objects section: rules for the stored files.
type ObjectsConfig struct {
	// DefaultFileTTL is the file TTL of the service configuration: what
	// files inherit when no folder above them sets one. Empty or "never"
	// keeps them; a duration such as "30d" deletes each that long after
	// it was stored.
	DefaultFileTTL string `yaml:"default_file_ttl"`
}

// checkObjects checks the objects section.
func (c *Config) checkObjects() []error {
	ttl := c.Objects.DefaultFileTTL
	if _, err := sesame.ParseFileTTL("/objects/default_file_ttl", ttl); err != nil || sesame.FileTTL(ttl) == sesame.TTLInherited {
		return []error{fmt.Errorf("objects.default_file_ttl: %q must be empty, never or a duration such as 30d, 12h or 90m (units w, d, h, m, s)", ttl)}
	}
	return nil
}
