-- Social authenticators: an OpenID Connect provider vouches for the
-- email address in context.
--
-- SQLite cannot change a CHECK constraint, so link_authenticators is
-- rebuilt with auth_type 'social' allowed (no table refers to it).

CREATE TABLE link_authenticators_new (
    id           TEXT PRIMARY KEY,
    link_id      TEXT NOT NULL REFERENCES links (id),
    position     INTEGER NOT NULL,
    auth_type    TEXT NOT NULL CHECK (auth_type IN ('password', 'email_otp', 'sms_otp', 'social')),
    context      TEXT NOT NULL,
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_at    TEXT,
    locked_until TEXT,
    lock_count   INTEGER NOT NULL DEFAULT 0
);
INSERT INTO link_authenticators_new (id, link_id, position, auth_type, context, failures, locked_at, locked_until, lock_count)
    SELECT id, link_id, position, auth_type, context, failures, locked_at, locked_until, lock_count FROM link_authenticators;
DROP TABLE link_authenticators;
ALTER TABLE link_authenticators_new RENAME TO link_authenticators;
CREATE INDEX link_authenticators_link ON link_authenticators (link_id, position);

-- Sign-ins at OpenID Connect providers in progress. A row lives from
-- the moment the visitor is sent to the provider until the provider sends
-- them back, at most ten minutes; the callback deletes it in one
-- statement, so each is used once on whichever replica the callback
-- lands. state_mac is the MAC of the state the browser carries; sealed
-- holds the link token and the PKCE verifier under the master key.

CREATE TABLE oidc_states (
    state_mac  BLOB PRIMARY KEY,
    auth_id    TEXT NOT NULL,
    provider   TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    sealed     BLOB NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX oidc_states_expires ON oidc_states (expires_at);
