//! Who a member of staff is: their password (Argon2id, with lockout after
//! repeated failures) and their second factor (TOTP, RFC 6238), and the
//! reporter's keep-in-contact passphrase, hashed the same way.
//!
//! This is the identity side of signing in and nothing else: a check here
//! ends in `SignInOutcome::Accepted` with a user id, and `sessions.rs` turns
//! a proven identity into a session. A single sign-on (OpenID Connect) sign-in
//! sits beside `check_password` as another way to reach that outcome; the
//! sessions and the access policy do not change. The TOTP secret must be
//! read back, so it is sealed with the master key like other identities.

use aidant_core::ids::UserId;
use std::time::Duration;

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use sqlx::Row;
use totp_rs::{Algorithm, TOTP};

use crate::audit::AuditEvent;
use crate::sessions::sha256_hex;
use crate::{Store, StoreError, flag, now_ms};

/// Shortest password accepted (NCSC: length, not composition rules).
pub const MIN_PASSWORD_CHARS: usize = 12;

pub const MAX_PASSWORD_CHARS: usize = 128;

/// How sign-in protects itself.
#[derive(Debug, Clone, Copy)]
pub struct SignInPolicy {
    /// Consecutive wrong passwords before the account locks.
    pub max_failures: i64,
    /// How long a locked account stays locked.
    pub lockout: Duration,
    /// A session unused for this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however busy.
    pub absolute_timeout: Duration,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lockout: Duration::from_secs(15 * 60),
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 60 * 60),
        }
    }
}

/// A one-time password an administrator passes on: 20 characters from an
/// alphabet without look-alikes (about 100 bits).
pub fn temporary_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY3479";
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Why a password was refused when it was set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRule {
    #[error("Password must be {MIN_PASSWORD_CHARS} characters or more")]
    TooShort,
    #[error("Password must be {MAX_PASSWORD_CHARS} characters or fewer")]
    TooLong,
}

/// Checks a new password against the rules.
pub fn check_new_password(password: &str) -> Result<(), PasswordRule> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        Err(PasswordRule::TooShort)
    } else if length > MAX_PASSWORD_CHARS {
        Err(PasswordRule::TooLong)
    } else {
        Ok(())
    }
}

/// The outcome of a password check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInOutcome {
    /// Right password; `needs_second_factor` when a TOTP code must follow.
    Accepted { user_id: UserId, needs_second_factor: bool, must_enrol_second_factor: bool },
    /// Wrong email or password (never says which).
    Refused,
    /// Too many failures: locked until this time (Unix ms).
    Locked { until_ms: i64 },
    /// The account is disabled.
    Disabled,
}

/// The outcome of a user changing their own password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChange {
    Changed,
    /// The current password given was wrong.
    WrongCurrent,
    /// Too many wrong passwords: locked until this time (Unix ms).
    Locked {
        until_ms: i64,
    },
    /// The new password is the one being replaced.
    SameAsCurrent,
    /// The new password breaks a rule.
    Rejected(PasswordRule),
}

/// An Argon2id hash of a password (RFC 9106 defaults of the argon2 crate).
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string()).map_err(|error| StoreError::Corrupt(error.to_string()))
}

/// A reporter's keep-in-contact passphrase as it is compared: case, spaces
/// and the separator used do not matter.
pub fn normalise_passphrase(passphrase: &str) -> String {
    passphrase
        .split(|character: char| character.is_whitespace() || character == '-' || character == ',' || character == '.')
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// An Argon2id hash of a reporter's passphrase, normalised first.
pub fn hash_passphrase(passphrase: &str) -> Result<String, StoreError> {
    hash_password(&normalise_passphrase(passphrase))
}

/// Whether a passphrase (normalised first) matches a stored hash.
pub fn passphrase_matches(passphrase: &str, stored: &str) -> bool {
    password_matches(&normalise_passphrase(passphrase), stored)
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| argon2::Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A hash of a password nobody has, checked when the email is unknown so
/// that timing does not reveal which accounts exist.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("not a password anyone holds").unwrap_or_default())
}

fn totp_binding(user_id: &str) -> String {
    format!("user:{user_id}:totp")
}

/// A TOTP generator (RFC 6238: SHA-1, 6 digits, 30 s steps, one step of
/// clock skew either way), as every authenticator app expects.
fn totp(secret: Vec<u8>) -> Result<TOTP, StoreError> {
    TOTP::new(Algorithm::SHA1, 6, 1, 30, secret).map_err(|error| StoreError::Corrupt(format!("a TOTP secret is unusable: {error}")))
}

/// A new TOTP secret: 160 random bits, as RFC 4226 recommends.
pub fn new_totp_secret() -> Vec<u8> {
    let mut secret = vec![0; 20];
    rand::rng().fill_bytes(&mut secret);
    secret
}

/// The secret in base32, as typed into an authenticator app.
pub fn totp_secret_base32(secret: &[u8]) -> String {
    totp_rs::Secret::Raw(secret.to_vec()).to_encoded().to_string()
}

/// A base32 secret as shown by `totp_secret_base32`, if it is one of at
/// least 128 bits.
pub fn decode_totp_secret(text: &str) -> Option<Vec<u8>> {
    totp_rs::Secret::Encoded(text.trim().to_owned()).to_bytes().ok().filter(|bytes| bytes.len() >= 16)
}

/// The `otpauth://` address an authenticator app can take as a link.
pub fn totp_uri(secret: &[u8], account: &str) -> String {
    let account: String = account.chars().filter(|character| character.is_ascii_alphanumeric() || "@.-_+".contains(*character)).collect();
    format!("otpauth://totp/Aidant:{account}?secret={}&issuer=Aidant&algorithm=SHA1&digits=6&period=30", totp_secret_base32(secret))
}

/// The code an authenticator shows for `secret` at `unix_seconds` (tests
/// and the demo use it).
pub fn totp_code(secret: &[u8], unix_seconds: u64) -> Result<String, StoreError> {
    Ok(totp(secret.to_vec())?.generate(unix_seconds))
}

/// The 30-second step a code belongs to, if it is valid at `unix_seconds`.
fn matching_step(generator: &TOTP, code: &str, unix_seconds: u64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    [0i64, -1, 1].into_iter().map(|offset| (unix_seconds / 30) as i64 + offset).find(|step| {
        *step >= 0 && {
            let expected = generator.generate((*step as u64) * 30);
            expected.len() == code.len() && expected.bytes().zip(code.bytes()).fold(0u8, |difference, (a, b)| difference | (a ^ b)) == 0
        }
    })
}

impl Store {
    /// Sets a password its holder chose (or that automation sets, as the
    /// demo does) and ends the user's sessions.
    pub async fn set_password(&self, user_id: &UserId, password: &str, actor: &AuditActor) -> Result<(), StoreError> {
        self.store_password(user_id, password, actor, false).await
    }

    /// Sets a one-time password an administrator passes on (a new account or
    /// a reset): sessions end, personal API tokens are revoked, and the
    /// holder must choose their own password before the workspace opens.
    pub async fn set_temporary_password(&self, user_id: &UserId, password: &str, actor: &AuditActor) -> Result<(), StoreError> {
        self.store_password(user_id, password, actor, true).await
    }

    async fn store_password(&self, user_id: &UserId, password: &str, actor: &AuditActor, temporary: bool) -> Result<(), StoreError> {
        let user_id = user_id.as_str();
        let hash = hash_password(password)?;
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1, failed_sign_ins = 0, locked_until = NULL, must_change_password = $2 WHERE id = $3")
            .bind(&hash)
            .bind(i64::from(temporary))
            .bind(user_id)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1").bind(user_id).execute(&mut *transaction).await?;
        if temporary {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now_ms())
                .bind(user_id)
                .execute(&mut *transaction)
                .await?;
        }
        let action = if temporary { AuditAction::UserPasswordReset } else { AuditAction::UserPasswordSet };
        crate::audit::append(&mut transaction, &AuditEvent { actor, action, record_kind: AuditRecordKind::User, record_id: user_id, reason: None }).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// A signed-in user replaces their own password, proving they know the
    /// current one. Every other session of theirs ends; the one making the
    /// change (`keep_session`, a cookie value) stays signed in. Wrong
    /// current passwords count towards the lockout like failed sign-ins.
    pub async fn change_own_password(
        &self,
        user_id: &UserId,
        current: &str,
        new: &str,
        keep_session: &str,
        policy: &SignInPolicy,
    ) -> Result<PasswordChange, StoreError> {
        let Some(user) = self.find_user(user_id).await? else { return Ok(PasswordChange::WrongCurrent) };
        let user_id = user_id.as_str();
        match self.check_password(&user.email, current, policy).await? {
            SignInOutcome::Accepted { .. } => {}
            SignInOutcome::Locked { until_ms } => return Ok(PasswordChange::Locked { until_ms }),
            SignInOutcome::Refused | SignInOutcome::Disabled => return Ok(PasswordChange::WrongCurrent),
        }
        if current == new {
            return Ok(PasswordChange::SameAsCurrent);
        }
        if let Err(rule) = check_new_password(new) {
            return Ok(PasswordChange::Rejected(rule));
        }
        let hash = hash_password(new)?;
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 0 WHERE id = $2").bind(&hash).bind(user_id).execute(&mut *transaction).await?;
        sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(user_id)
            .bind(sha256_hex(keep_session))
            .execute(&mut *transaction)
            .await?;
        crate::audit::append(&mut transaction, &AuditEvent::new(&AuditActor::user(user_id), AuditAction::UserPasswordChanged, AuditRecordKind::User, user_id))
            .await?;
        transaction.commit().await?;
        Ok(PasswordChange::Changed)
    }

    /// Checks an email and password, counting failures and pausing
    /// password-only sign-in after `policy.max_failures` in a row. A paused
    /// account whose owner has a second factor still accepts the right
    /// password, with the code to follow: someone who only knows an email
    /// address cannot lock its owner out, and the password alone is not
    /// enough while the pause lasts.
    pub async fn check_password(&self, email: &str, password: &str, policy: &SignInPolicy) -> Result<SignInOutcome, StoreError> {
        let row = sqlx::query(
            "SELECT u.id, u.password_hash, u.disabled, u.locked_until, u.totp_sealed, o.require_second_factor
             FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE lower(u.email) = lower($1)",
        )
        .bind(email.trim())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            let _ = password_matches(password, decoy_hash());
            return Ok(SignInOutcome::Refused);
        };
        let user_id: UserId = crate::named(&row, "id")?;
        let now = now_ms();
        let has_second_factor = row.try_get::<Option<Vec<u8>>, _>("totp_sealed")?.is_some();
        let paused_until = row.try_get::<Option<i64>, _>("locked_until")?.filter(|until_ms| *until_ms > now);
        if let Some(until_ms) = paused_until
            && !has_second_factor
        {
            // Spend the same effort as a check, so timing does not tell.
            let _ = password_matches(password, decoy_hash());
            return Ok(SignInOutcome::Locked { until_ms });
        }
        let stored: Option<String> = row.try_get("password_hash")?;
        let matches = password_matches(password, stored.as_deref().unwrap_or_else(|| decoy_hash())) && stored.is_some();
        if flag(row.try_get("disabled")?) {
            return Ok(SignInOutcome::Disabled);
        }
        if let Some(until_ms) = paused_until
            && !matches
        {
            // Paused: a wrong password neither counts nor extends the pause.
            return Ok(SignInOutcome::Locked { until_ms });
        }
        if !matches {
            let lockout_ms = policy.lockout.as_millis() as i64;
            let locked = sqlx::query(
                "UPDATE users SET failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= $1 THEN 0 ELSE failed_sign_ins + 1 END,
                     locked_until = CASE WHEN failed_sign_ins + 1 >= $1 THEN $2 ELSE locked_until END
                 WHERE id = $3 RETURNING locked_until",
            )
            .bind(policy.max_failures)
            .bind(now + lockout_ms)
            .bind(user_id.as_str())
            .fetch_one(&self.pool)
            .await?;
            let until: Option<i64> = locked.try_get("locked_until")?;
            self.audit(&AuditEvent::new(&AuditActor::user(user_id.as_str()), AuditAction::UserSignInFailed, AuditRecordKind::User, user_id.as_str())).await?;
            return Ok(match until {
                Some(until_ms) if until_ms > now => SignInOutcome::Locked { until_ms },
                _ => SignInOutcome::Refused,
            });
        }
        // During a pause the count and the pause stay until the code is given
        // (`verify_totp` clears them); otherwise the right password clears them.
        if paused_until.is_none() {
            sqlx::query("UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1").bind(user_id.as_str()).execute(&self.pool).await?;
        }
        let required = flag(row.try_get("require_second_factor")?);
        Ok(SignInOutcome::Accepted { user_id, needs_second_factor: has_second_factor, must_enrol_second_factor: required && !has_second_factor })
    }

    /// Checks a TOTP code for a user, refusing a code (or an earlier one)
    /// that was already used, so a code seen over a shoulder is spent. A
    /// right code ends any pause of password sign-in and clears its count.
    pub async fn verify_totp(&self, user_id: &UserId, code: &str, unix_seconds: u64) -> Result<bool, StoreError> {
        let user_id = user_id.as_str();
        let row = sqlx::query("SELECT totp_sealed, totp_last_step FROM users WHERE id = $1").bind(user_id).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(false) };
        let Some(sealed) = row.try_get::<Option<Vec<u8>>, _>("totp_sealed")? else { return Ok(false) };
        let secret = self.keyring()?.open(&sealed, &totp_binding(user_id))?;
        let Some(step) = matching_step(&totp(secret)?, code, unix_seconds) else { return Ok(false) };
        let used = sqlx::query(
            "UPDATE users SET totp_last_step = $1, failed_sign_ins = 0, locked_until = NULL WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(used.rows_affected() == 1)
    }

    /// Turns on a second factor after the user proved their app has the
    /// secret by typing a valid code for it.
    pub async fn enrol_totp(&self, user_id: &UserId, secret: &[u8], code: &str, unix_seconds: u64) -> Result<bool, StoreError> {
        let user_id = user_id.as_str();
        let Some(step) = matching_step(&totp(secret.to_vec())?, code, unix_seconds) else { return Ok(false) };
        let sealed = self.keyring()?.seal(secret, &totp_binding(user_id));
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE users SET totp_sealed = $1, totp_last_step = $2 WHERE id = $3")
            .bind(sealed)
            .bind(step)
            .bind(user_id)
            .execute(&mut *transaction)
            .await?;
        crate::audit::append(
            &mut transaction,
            &AuditEvent::new(&AuditActor::user(user_id), AuditAction::UserSecondFactorEnrolled, AuditRecordKind::User, user_id),
        )
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Whether a user has a second factor set up.
    pub async fn find_session_user_factor(&self, user_id: &UserId) -> Result<bool, StoreError> {
        let user_id = user_id.as_str();
        let row = sqlx::query("SELECT totp_sealed FROM users WHERE id = $1").bind(user_id).fetch_optional(&self.pool).await?;
        Ok(row.map(|row| row.try_get::<Option<Vec<u8>>, _>("totp_sealed")).transpose()?.flatten().is_some())
    }

    /// Removes a user's second factor (an administrator's action when a
    /// phone is lost); they enrol again at next sign-in if required.
    pub async fn reset_second_factor(&self, user_id: &UserId, actor: &AuditActor) -> Result<(), StoreError> {
        let user_id = user_id.as_str();
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE users SET totp_sealed = NULL, totp_last_step = NULL WHERE id = $1").bind(user_id).execute(&mut *transaction).await?;
        sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1").bind(user_id).execute(&mut *transaction).await?;
        crate::audit::append(
            &mut transaction,
            &AuditEvent { actor, action: AuditAction::UserSecondFactorReset, record_kind: AuditRecordKind::User, record_id: user_id, reason: None },
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules_count_characters_not_bytes() {
        assert_eq!(check_new_password("short"), Err(PasswordRule::TooShort));
        assert_eq!(check_new_password("ștefanțăranu"), Ok(()));
        assert_eq!(check_new_password(&"x".repeat(129)), Err(PasswordRule::TooLong));
    }

    #[test]
    fn totp_accepts_one_step_of_skew_and_nothing_more() {
        let secret = new_totp_secret();
        let generator = totp(secret.clone()).unwrap();
        let now = 1_800_000_000;
        let code = totp_code(&secret, now).unwrap();
        assert_eq!(matching_step(&generator, &code, now), Some((now / 30) as i64));
        assert!(matching_step(&generator, &code, now + 30).is_some());
        assert!(matching_step(&generator, &code, now + 90).is_none());
        assert!(matching_step(&generator, "000000x", now).is_none());
        assert!(totp_uri(&secret, "a@b.example").starts_with("otpauth://totp/Aidant:a@b.example?secret="));
    }
}
