//! The official calendar's years, as text blocks an administrator can add or correct.

use chrono::{DateTime, Utc};

use crate::{Db, Result, Tx, on_db, on_tx};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct CalendarYear {
    pub year: i32,
    pub body: String,
    /// Whether the text is the one shipped with the release (not edited here).
    pub shipped: bool,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

pub async fn years(db: &Db) -> Result<Vec<CalendarYear>> {
    Ok(on_db!(db, |c| sqlx::query_as(
        "SELECT year, body, shipped, updated_at, updated_by FROM calendar_year ORDER BY year"
    )
    .fetch_all(c)
    .await?))
}

pub async fn year(db: &Db, year: i32) -> Result<Option<CalendarYear>> {
    Ok(on_db!(db, |c| sqlx::query_as(
        "SELECT year, body, shipped, updated_at, updated_by FROM calendar_year WHERE year = $1"
    )
    .bind(year)
    .fetch_optional(c)
    .await?))
}

pub async fn year_tx(tx: &mut Tx, year: i32) -> Result<Option<CalendarYear>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT year, body, shipped, updated_at, updated_by FROM calendar_year WHERE year = $1"
    )
    .bind(year)
    .fetch_optional(c)
    .await?))
}

pub async fn put_year(tx: &mut Tx, year: i32, body: &str, shipped: bool, by: &str, now: DateTime<Utc>) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO calendar_year (year, body, shipped, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (year) DO UPDATE SET body = excluded.body, shipped = excluded.shipped,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(year)
        .bind(body)
        .bind(shipped)
        .bind(now)
        .bind(by)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(())
}
