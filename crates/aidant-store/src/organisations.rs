//! Organisations and users (before sign-in exists).

use aidant_core::organisation::{OrganisationKind, Role};
use sqlx::Row;

use crate::{Store, StoreError, flag, new_id, now_ms};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub kind: OrganisationKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub organisation_id: String,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub disabled: bool,
}

impl Store {
    pub async fn create_organisation(&self, name: &str, kind: OrganisationKind) -> Result<Organisation, StoreError> {
        let id = new_id();
        sqlx::query("INSERT INTO organisations (id, name, kind, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(name)
            .bind(kind.as_str())
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(Organisation { id, name: name.to_owned(), kind })
    }

    pub async fn list_organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        let rows = sqlx::query("SELECT id, name, kind FROM organisations ORDER BY name").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                Ok(Organisation {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    kind: kind.parse().map_err(|error: aidant_core::organisation::UnknownName| StoreError::Corrupt(error.to_string()))?,
                })
            })
            .collect()
    }

    /// Creates a user and their roles in one transaction.
    pub async fn create_user(&self, organisation_id: &str, email: &str, display_name: &str, roles: &[Role]) -> Result<User, StoreError> {
        let id = new_id();
        let mut transaction = self.pool.begin().await?;
        sqlx::query("INSERT INTO users (id, organisation_id, email, display_name, disabled, created_at) VALUES ($1, $2, $3, $4, 0, $5)")
            .bind(&id)
            .bind(organisation_id)
            .bind(email)
            .bind(display_name)
            .bind(now_ms())
            .execute(&mut *transaction)
            .await?;
        for role in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)").bind(&id).bind(role.as_str()).execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(User {
            id,
            organisation_id: organisation_id.to_owned(),
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
            let id: String = row.try_get("id")?;
            let mut roles = Vec::new();
            for role_row in &role_rows {
                let user_id: String = role_row.try_get("user_id")?;
                if user_id == id {
                    let role: String = role_row.try_get("role")?;
                    roles.push(role.parse().map_err(|error: aidant_core::organisation::UnknownName| StoreError::Corrupt(error.to_string()))?);
                }
            }
            users.push(User {
                id,
                organisation_id: row.try_get("organisation_id")?,
                email: row.try_get("email")?,
                display_name: row.try_get("display_name")?,
                roles,
                disabled: flag(row.try_get("disabled")?),
            });
        }
        Ok(users)
    }
}
