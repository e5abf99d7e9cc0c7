-- Single sign-on (OpenID Connect): which user an identity provider's
-- subject is. A user signs in through at most one provider; the subject is
-- the provider's stable, opaque id for them (never the e-mail, which can be
-- reassigned). A session opened through a provider is marked, because the
-- provider, not Aidant, asked for its second factor.
CREATE TABLE federated_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    linked_at BIGINT NOT NULL,
    last_sign_in_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);

ALTER TABLE staff_sessions ADD COLUMN federated BIGINT NOT NULL DEFAULT 0;
