-- Social authenticators: an OpenID Connect provider vouches for the
-- email address in context.

ALTER TABLE link_authenticators DROP CONSTRAINT link_authenticators_auth_type_check;
ALTER TABLE link_authenticators ADD CONSTRAINT link_authenticators_auth_type_check
    CHECK (auth_type IN ('password', 'email_otp', 'sms_otp', 'social'));

-- Sign-ins at OpenID Connect providers in progress. A row lives from
-- the moment the visitor is sent to the provider until the provider sends
-- them back, at most ten minutes; the callback deletes it in one
-- statement, so each is used once on whichever replica the callback
-- lands. state_mac is the MAC of the state the browser carries; sealed
-- holds the link token and the PKCE verifier under the master key.

CREATE TABLE oidc_states (
    state_mac  BYTEA PRIMARY KEY,
    auth_id    TEXT COLLATE "C" NOT NULL,
    provider   TEXT COLLATE "C" NOT NULL,
    nonce      TEXT COLLATE "C" NOT NULL,
    sealed     BYTEA NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX oidc_states_expires ON oidc_states (expires_at);
