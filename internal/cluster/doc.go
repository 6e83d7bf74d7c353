// Package cluster holds the cluster test: scripts/cluster.sh starts
// PostgreSQL, versitygw, two sesame replicas and nginx round-robin in
// front of them, and the test (build tag cluster, run by scripts/test.sh)
// checks that the replicas behave as one server: the Node SDK through the
// proxy, uploads and polls across replicas, exact caps, shared sessions,
// revocation and throttles, outbox delivery exactly once, and a replica
// killed during uploads.
package cluster
