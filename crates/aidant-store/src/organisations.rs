//! Organisations and users; credentials are in identity.rs, sessions in sessions.rs.

use aidant_core::audit::{AuditAction, AuditActor, AuditRecordKind};
use aidant_core::ids::{OrganisationId, UserId};
use aidant_core::organisation::{OrganisationKind, Role};
use sqlx::{AnyConnection, Row};

use crate::{Store, StoreError, flag, now_ms};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    pub kind: OrganisationKind,
    /// Owns the public reports (the force whose control room triages them).
    pub receives_public_reports: bool,
    /// Its users must use a TOTP second factor.
    pub require_second_factor: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub organisation_id: OrganisationId,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub disabled: bool,
}

const ORGANISATION_COLUMNS: &str = "id, name, kind, receives_public_reports, require_second_factor";

fn organisation_from_row(row: &sqlx::any::AnyRow) -> Result<Organisation, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(Organisation {
        id: crate::named(row, "id")?,
        name: row.try_get("name")?,
        kind: kind.parse().map_err(|error: aidant_core::organisation::UnknownName| StoreError::Corrupt(error.to_string()))?,
        receives_public_reports: flag(row.try_get("receives_public_reports")?),
        require_second_factor: flag(row.try_get("require_second_factor")?),
    })
}

impl Store {
    pub async fn create_organisation(&self, name: &str, kind: OrganisationKind) -> Result<Organisation, StoreError> {
        let id: OrganisationId = crate::new_record_id();
        sqlx::query("INSERT INTO organisations (id, name, kind, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id.as_str())
            .bind(name)
            .bind(kind.as_str())
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(Organisation { id, name: name.to_owned(), kind, receives_public_reports: false, require_second_factor: false })
    }

    pub async fn list_organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {ORGANISATION_COLUMNS} FROM organisations ORDER BY name")).fetch_all(&self.pool).await?;
        rows.iter().map(organisation_from_row).collect()
    }

    pub async fn find_organisation(&self, id: &OrganisationId) -> Result<Option<Organisation>, StoreError> {
        let id = id.as_str();
        let row = sqlx::query(&format!("SELECT {ORGANISATION_COLUMNS} FROM organisations WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(organisation_from_row).transpose()
    }

    pub async fn find_organisation_by_name(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ORGANISATION_COLUMNS} FROM organisations WHERE lower(name) = lower($1)"))
            .bind(name.trim())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(organisation_from_row).transpose()
    }

    /// Makes `organisation_id` the owner of public reports: those arriving
    /// from now on, and any that arrived while no organisation received them.
    pub async fn set_receiving_organisation(&self, organisation_id: &OrganisationId, actor: &AuditActor) -> Result<u64, StoreError> {
        let organisation_id = organisation_id.as_str();
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE organisations SET receives_public_reports = CASE WHEN id = $1 THEN 1 ELSE 0 END")
            .bind(organisation_id)
            .execute(&mut *transaction)
            .await?;
        let claimed = sqlx::query("UPDATE reports SET owning_organisation_id = $1 WHERE owning_organisation_id IS NULL")
            .bind(organisation_id)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("UPDATE search_documents SET owner_organisation_id = $1 WHERE record_kind = 'report' AND owner_organisation_id IS NULL")
            .bind(organisation_id)
            .execute(&mut *transaction)
            .await?;
        crate::audit::append(
            &mut transaction,
            &crate::audit::AuditEvent {
                actor,
                action: AuditAction::OrganisationReceivePublicReports,
                record_kind: AuditRecordKind::Organisation,
                record_id: organisation_id,
                reason: None,
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(claimed.rows_affected())
    }

    /// Requires (or stops requiring) a second factor for an organisation.
    pub async fn set_require_second_factor(&self, organisation_id: &OrganisationId, required: bool, actor: &AuditActor) -> Result<(), StoreError> {
        let organisation_id = organisation_id.as_str();
        let mut transaction = self.pool.begin().await?;
        sqlx::query("UPDATE organisations SET require_second_factor = $1 WHERE id = $2")
            .bind(i64::from(required))
            .bind(organisation_id)
            .execute(&mut *transaction)
            .await?;
        let action = if required { AuditAction::OrganisationSecondFactorRequired } else { AuditAction::OrganisationSecondFactorOptional };
        crate::audit::append(
            &mut transaction,
            &crate::audit::AuditEvent { actor, action, record_kind: AuditRecordKind::Organisation, record_id: organisation_id, reason: None },
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    pub async fn find_user(&self, user_id: &UserId) -> Result<Option<User>, StoreError> {
        let user_id = user_id.as_str();
        Ok(self.users_where("u.id = $1", user_id).await?.into_iter().next())
    }

    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        Ok(self.users_where("lower(u.email) = lower($1)", email.trim()).await?.into_iter().next())
    }

    pub async fn list_users_in(&self, organisation_id: &OrganisationId) -> Result<Vec<User>, StoreError> {
        let organisation_id = organisation_id.as_str();
        self.users_where("u.organisation_id = $1", organisation_id).await
    }

    async fn users_where(&self, condition: &str, value: &str) -> Result<Vec<User>, StoreError> {
        users_where(&mut *self.pool.acquire().await?, condition, value).await
    }

    /// Creates a user and their roles in one transaction.
    pub async fn create_user(&self, organisation_id: &OrganisationId, email: &str, display_name: &str, roles: &[Role]) -> Result<User, StoreError> {
        let id: UserId = crate::new_record_id();
        let mut transaction = self.pool.begin().await?;
        sqlx::query("INSERT INTO users (id, organisation_id, email, display_name, disabled, created_at) VALUES ($1, $2, $3, $4, 0, $5)")
            .bind(id.as_str())
            .bind(organisation_id.as_str())
            .bind(email)
            .bind(display_name)
            .bind(now_ms())
            .execute(&mut *transaction)
            .await?;
        for role in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)").bind(id.as_str()).bind(role.as_str()).execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(User {
            id,
            organisation_id: organisation_id.clone(),
            email: email.to_owned(),
            display_name: display_name.to_owned(),
            roles: roles.to_vec(),
            disabled: false,
        })
    }

    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query("SELECT id, organisation_id, email, display_name, disabled FROM users ORDER BY email").fetch_all(&self.pool).await?;
        let role_rows = sqlx::query("SELECT user_id, role FROM user_roles ORDER BY role").fetch_all(&self.pool).await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: UserId = crate::named(row, "id")?;
            let mut roles = Vec::new();
            for role_row in &role_rows {
                let user_id: String = role_row.try_get("user_id")?;
                if user_id == id.as_str() {
                    let role: String = role_row.try_get("role")?;
                    roles.push(role.parse().map_err(|error: aidant_core::organisation::UnknownName| StoreError::Corrupt(error.to_string()))?);
                }
            }
            users.push(User {
                id,
                organisation_id: crate::named(row, "organisation_id")?,
                email: row.try_get("email")?,
                display_name: row.try_get("display_name")?,
                roles,
                disabled: flag(row.try_get("disabled")?),
            });
        }
        Ok(users)
    }
}

/// An organisation's users, with their roles, on a connection or in a transaction.
pub(crate) async fn load_users_in(connection: &mut AnyConnection, organisation_id: &OrganisationId) -> Result<Vec<User>, StoreError> {
    let organisation_id = organisation_id.as_str();
    users_where(connection, "u.organisation_id = $1", organisation_id).await
}

async fn users_where(connection: &mut AnyConnection, condition: &str, value: &str) -> Result<Vec<User>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT u.id, u.organisation_id, u.email, u.display_name, u.disabled, r.role FROM users u LEFT JOIN user_roles r ON r.user_id = u.id
             WHERE {condition} ORDER BY u.email, r.role"
    ))
    .bind(value)
    .fetch_all(&mut *connection)
    .await?;
    let mut users: Vec<User> = Vec::new();
    for row in &rows {
        let id: UserId = crate::named(row, "id")?;
        if users.last().is_none_or(|user| user.id != id) {
            users.push(User {
                id,
                organisation_id: crate::named(row, "organisation_id")?,
                email: row.try_get("email")?,
                display_name: row.try_get("display_name")?,
                roles: Vec::new(),
                disabled: flag(row.try_get("disabled")?),
            });
        }
        if let Some(role) = row.try_get::<Option<String>, _>("role")?
            && let Some(user) = users.last_mut()
        {
            user.roles.push(role.parse().map_err(|error: aidant_core::organisation::UnknownName| StoreError::Corrupt(error.to_string()))?);
        }
    }
    Ok(users)
}

impl Store {
    /// Disables a user, ends their sessions and revokes their tokens.
    pub async fn disable_user(&self, user_id: &UserId, actor: &AuditActor) -> Result<bool, StoreError> {
        let user_id = user_id.as_str();
        let mut transaction = self.pool.begin().await?;
        let changed = sqlx::query("UPDATE users SET disabled = 1 WHERE id = $1").bind(user_id).execute(&mut *transaction).await?;
        if changed.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1").bind(user_id).execute(&mut *transaction).await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(user_id)
            .execute(&mut *transaction)
            .await?;
        crate::audit::append(
            &mut transaction,
            &crate::audit::AuditEvent { actor, action: AuditAction::UserDisable, record_kind: AuditRecordKind::User, record_id: user_id, reason: None },
        )
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Re-enables a disabled user.
    pub async fn enable_user(&self, user_id: &UserId, actor: &AuditActor) -> Result<bool, StoreError> {
        let user_id = user_id.as_str();
        let mut transaction = self.pool.begin().await?;
        let changed = sqlx::query("UPDATE users SET disabled = 0, failed_sign_ins = 0, locked_until = NULL WHERE id = $1")
            .bind(user_id)
            .execute(&mut *transaction)
            .await?;
        if changed.rows_affected() == 0 {
            return Ok(false);
        }
        crate::audit::append(
            &mut transaction,
            &crate::audit::AuditEvent { actor, action: AuditAction::UserEnable, record_kind: AuditRecordKind::User, record_id: user_id, reason: None },
        )
        .await?;
        transaction.commit().await?;
        Ok(true)
    }
}
