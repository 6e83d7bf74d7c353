package store

import "context"

// OpenAtVersion opens the store with the migrations applied up to
// version only, as a database of an older release would be.
func OpenAtVersion(ctx context.Context, cfg Config, version int) (*Store, error) {
	cfg.migrateTo = version
	return Open(ctx, cfg)
}
