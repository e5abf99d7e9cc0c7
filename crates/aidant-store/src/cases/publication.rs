//! Publishing the force's potential victims' data for researchers and the
//! public (`aidant_core::publication`): k-anonymised with k = 11, or
//! synthetic from ε-differentially private counts. Each file is recorded in
//! the disclosure log (kind `publication`, with what it holds and its
//! SHA-256) and the audit log in one transaction before it is returned.

use aidant_core::audit::{AuditAction, AuditRecordKind};
use aidant_core::organisation::OrganisationKind;
use aidant_core::policy::Capability;
use aidant_core::publication::{self, VictimFacts};
use sha2::{Digest, Sha256};
use time::Date;

use super::{Caller, CaseResult, Subject, record, require};
use crate::package::Disclosure;
use crate::victims::{self as rows, VictimCase};
use crate::{Store, StoreError, now_ms};

/// Which file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicationKind {
    /// Real people, k-anonymised.
    KAnonymised,
    /// Synthetic people, with differential privacy.
    Synthetic,
}

impl PublicationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PublicationKind::KAnonymised => "k-anonymised",
            PublicationKind::Synthetic => "synthetic",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [PublicationKind::KAnonymised, PublicationKind::Synthetic].into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A published file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub id: String,
    pub kind: PublicationKind,
    pub csv: String,
    pub rows: usize,
    /// What the disclosure log says of it.
    pub summary: String,
    pub sha256: String,
}

/// The year a case counts in: its referral's (or notification's), else the
/// year it was opened.
fn year_of(case: &VictimCase) -> i32 {
    case.dates.referred_on.or(case.dates.duty_to_notify_on).map_or_else(|| aidant_core::insight::day_of_ms(case.created_at_ms).year(), Date::year)
}

/// Whole years from `born` to `on`.
fn age_on(born: Date, on: Date) -> Option<u8> {
    let mut years = on.year() - born.year();
    if (on.month() as u8, on.day()) < (born.month() as u8, born.day()) {
        years -= 1;
    }
    u8::try_from(years).ok()
}

/// What may be published of each of the organisation's cases.
async fn facts(store: &Store, caller: &Caller) -> CaseResult<Vec<VictimFacts>> {
    let mut connection = store.pool.acquire().await.map_err(StoreError::Database)?;
    let cases = rows::victims_of_organisation(&mut connection, caller.organisation_id()).await?;
    drop(connection);
    let keyring = store.keyring()?;
    let area = store.find_organisation(caller.organisation_id()).await?.map(|organisation| organisation.name);
    let mut facts = Vec::with_capacity(cases.len());
    for case in &cases {
        let identity = rows::open_identity(keyring, case)?;
        let year = year_of(case);
        let on = case.dates.referred_on.or(case.dates.duty_to_notify_on).unwrap_or_else(|| aidant_core::insight::day_of_ms(case.created_at_ms));
        let age = identity.born_on().and_then(|born| age_on(born, on)).or(identity.estimated_age);
        facts.push(VictimFacts {
            year: Some(year),
            gender: identity.gender.clone(),
            age,
            minor: Some(case.age.is_child_path()),
            nationality: identity.nationality.clone(),
            exploitation: case.exploitation_types.clone(),
            area: area.clone(),
        });
    }
    Ok(facts)
}

/// Makes and records one publication of the caller's organisation's cases.
pub async fn publish(store: &Store, caller: &Caller, kind: PublicationKind) -> CaseResult<Publication> {
    require(store, caller, Capability::PublishStatistics).await?;
    let people = facts(store, caller).await?;
    let (csv, rows, contents, summary) = match kind {
        PublicationKind::KAnonymised => {
            let published = publication::k_anonymise(&people);
            let summary = format!(
                "k-anonymised (k = {}): {} rows published, {} people left out; {}",
                publication::K,
                published.rows.len(),
                published.suppressed,
                published.levels.describe()
            );
            let contents = serde_json::json!({
                "publication": kind.as_str(), "k": publication::K, "rows": published.rows.len(),
                "suppressed": published.suppressed, "generalised": published.levels.describe(),
            });
            (publication::to_csv(&published.rows), published.rows.len(), contents, summary)
        }
        PublicationKind::Synthetic => {
            let this_year = aidant_core::insight::day_of_ms(now_ms()).year();
            let years: Vec<i32> = (this_year - 9..=this_year).collect();
            let areas: Vec<String> = store
                .list_organisations()
                .await?
                .into_iter()
                .filter(|organisation| organisation.kind == OrganisationKind::PoliceForce)
                .map(|organisation| organisation.name)
                .collect();
            let synthetic = publication::synthesise(&people, &years, &areas, &mut rand::rng());
            let (numerator, denominator) = synthetic.epsilon;
            let epsilon = format!("{}", numerator as f64 / denominator as f64);
            let summary = format!(
                "synthetic (differential privacy, ε = {epsilon}, discrete Laplace noise of scale {} on six tables of counts): {} rows, none equal to a real person's ({} drawn again, {} given up)",
                synthetic.scale,
                synthetic.rows.len(),
                synthetic.redrawn,
                synthetic.given_up
            );
            let contents = serde_json::json!({
                "publication": kind.as_str(), "epsilon": epsilon, "scale": synthetic.scale, "rows": synthetic.rows.len(), "redrawn": synthetic.redrawn, "given_up": synthetic.given_up,
            });
            (publication::to_csv(&synthetic.rows), synthetic.rows.len(), contents, summary)
        }
    };
    let sha256 = hex::encode(Sha256::digest(csv.as_bytes()));
    let id = crate::new_id();
    let disclosure = Disclosure {
        id: id.clone(),
        recipient_organisation_id: caller.organisation_id().clone(),
        created_by: caller.user_id.clone(),
        created_at_ms: now_ms(),
        contents: contents.to_string(),
        package_sha256: sha256.clone(),
        kind: "publication".to_owned(),
    };
    let (_turn, mut transaction) = store.begin_write().await?;
    crate::package::insert_disclosure(&mut transaction, caller.organisation_id(), &disclosure).await?;
    record(
        &mut transaction,
        caller,
        AuditAction::PublicationMake,
        Subject { kind: AuditRecordKind::DisclosureLog, id: &id },
        Some(&format!("{summary}; sha256 {sha256}")),
    )
    .await?;
    transaction.commit().await?;
    Ok(Publication { id, kind, csv, rows, summary, sha256 })
}
