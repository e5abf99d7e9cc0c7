//! Flood protection that every process on one database shares: how many
//! record-creating requests (or sign-in attempts) one client has made
//! lately, counted in `flood_limits` (migration 0025) so that a limit holds
//! however many `aidant serve` processes a load balancer spreads a client
//! over.
//!
//! Each client of each limiter is one row: a keyed hash of the client's
//! address (HMAC-SHA256 under the entity index key, which is sealed in the
//! database, so the row cannot be turned back into an address by hashing
//! the four billion IPv4 addresses) and the time at which the client's
//! allowance is next whole (a generic cell rate: every request moves it one
//! period on, and a request that would move it more than `burst` periods
//! past now is refused). Nothing else about a request is kept, and a row
//! is deleted once its allowance has recovered (`sweep_flood_limits`). On
//! PostgreSQL the table is `UNLOGGED`: a crash forgets the counts (every
//! client gets a fresh allowance), and counting a request waits for no
//! write-ahead log flush.

use crate::{Backend, Store, StoreError};

/// One limiter's rate: a request per `period_ms` sustained, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodRate {
    pub period_ms: i64,
    pub burst: i64,
}

impl Store {
    /// Counts one request by `client` (its address's bytes) against the
    /// limiter named `limiter` at `now_ms`: `true` when it is within the
    /// rate, `false` when it must be refused (and then nothing changes, so
    /// refused requests do not push the client's recovery further away).
    pub async fn take_flood_allowance(&self, limiter: &str, client: &[u8], rate: FloodRate, now_ms: i64) -> Result<bool, StoreError> {
        let client_hash = self.entity_index().await?.hash(&[b"flood\0", limiter.as_bytes(), b"\0", client]);
        let later = match self.backend {
            Backend::Postgres => "GREATEST(flood_limits.arrival, $3)",
            Backend::Sqlite => "MAX(flood_limits.arrival, $3)",
        };
        let sql = format!(
            "INSERT INTO flood_limits (limiter, client_hash, arrival) VALUES ($1, $2, $3 + $4) \
             ON CONFLICT (limiter, client_hash) DO UPDATE SET arrival = {later} + $4 WHERE {later} + $4 - $3 <= $5 \
             RETURNING arrival"
        );
        let taken: Option<i64> = sqlx::query_scalar(&sql)
            .bind(limiter)
            .bind(client_hash)
            .bind(now_ms)
            .bind(rate.period_ms)
            .bind(rate.period_ms.saturating_mul(rate.burst))
            .fetch_optional(&self.pool)
            .await?;
        Ok(taken.is_some())
    }

    /// Deletes every client whose allowance is whole again at `now_ms`
    /// (any process may run it; running it twice does no harm). Returns how
    /// many were forgotten.
    pub async fn sweep_flood_limits(&self, now_ms: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM flood_limits WHERE arrival <= $1").bind(now_ms).execute(&self.pool).await?.rows_affected())
    }
}
