//! Retention review, after the Management of Police Information (MoPI):
//! records are reviewed, not kept forever. Each kind of record has a review
//! period (configuration; the MoPI groups that fix them are the force's to
//! confirm); when it has passed, a supervisor of the owning force decides to
//! keep the record for a stated reason (and it comes back after another
//! period) or to delete it. Deleting removes the record's data and its
//! sealed values with their keys; the audit log keeps that it was deleted,
//! by whom and why.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::report::FieldError;

/// Review periods in months, by kind of record.
///
/// The defaults are MoPI's usual first review for information that is not
/// about a conviction for a serious offence (group 3: six years); a force
/// whose records fall in MoPI's groups 1 or 2 (public protection, serious
/// offences) sets longer periods here, with its information management lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewPeriods {
    /// A potential victim's case (identity, NRM referral, support), from
    /// when it was opened.
    pub victim_cases_months: u32,
    /// A public report, from when it was received.
    pub reports_months: u32,
    /// An intelligence record, from when it was written.
    pub intelligence_months: u32,
    /// An operation and everything recorded in it, from its last day.
    pub operations_months: u32,
}

impl Default for ReviewPeriods {
    /// Six years: MoPI's first review for most police information.
    fn default() -> Self {
        Self { victim_cases_months: 72, reports_months: 72, intelligence_months: 72, operations_months: 72 }
    }
}

impl ReviewPeriods {
    /// One line naming a period that cannot be right, if one is.
    pub fn check(&self) -> Result<(), String> {
        for kind in RecordKind::ALL {
            if !(1..=1200).contains(&self.months(*kind)) {
                return Err(format!("retention.{} must be between 1 and 1200", kind.setting()));
            }
        }
        Ok(())
    }

    /// The review period of a kind of record.
    pub fn months(&self, kind: RecordKind) -> u32 {
        match kind {
            RecordKind::VictimCase => self.victim_cases_months,
            RecordKind::Report => self.reports_months,
            RecordKind::Intelligence => self.intelligence_months,
            RecordKind::Operation => self.operations_months,
        }
    }
}

/// The kinds of record retention review covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    VictimCase,
    Report,
    Intelligence,
    Operation,
}

impl RecordKind {
    pub const ALL: &'static [RecordKind] = &[RecordKind::VictimCase, RecordKind::Report, RecordKind::Intelligence, RecordKind::Operation];

    /// How reviews store the kind.
    pub fn code(self) -> &'static str {
        match self {
            RecordKind::VictimCase => "victim_case",
            RecordKind::Report => "report",
            RecordKind::Intelligence => "intelligence",
            RecordKind::Operation => "operation",
        }
    }

    /// In the review pages' addresses.
    pub fn slug(self) -> &'static str {
        match self {
            RecordKind::VictimCase => "victim-cases",
            RecordKind::Report => "reports",
            RecordKind::Intelligence => "intelligence",
            RecordKind::Operation => "operations",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|kind| kind.slug() == slug)
    }

    /// The setting that holds its period.
    pub fn setting(self) -> &'static str {
        match self {
            RecordKind::VictimCase => "victim_cases_months",
            RecordKind::Report => "reports_months",
            RecordKind::Intelligence => "intelligence_months",
            RecordKind::Operation => "operations_months",
        }
    }

    /// What a supervisor reads: "potential victim's case", "report"...
    pub fn label(self) -> &'static str {
        match self {
            RecordKind::VictimCase => "Potential victim's case",
            RecordKind::Report => "Public report",
            RecordKind::Intelligence => "Intelligence record",
            RecordKind::Operation => "Operation",
        }
    }

    /// When its review clock starts, in words.
    pub fn clock_starts(self) -> &'static str {
        match self {
            RecordKind::VictimCase => "it was opened",
            RecordKind::Report => "it was received",
            RecordKind::Intelligence => "it was written",
            RecordKind::Operation => "its last day",
        }
    }
}

/// Adds whole calendar months to a time in milliseconds (UTC), keeping the
/// day where the month has it and the month's last day where it has not.
pub fn add_months(at_ms: i64, months: u32) -> i64 {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000) else { return at_ms };
    let total = i64::from(at.month() as u8) - 1 + i64::from(months);
    let year = i64::from(at.year()) + total.div_euclid(12);
    let Ok(month) = time::Month::try_from(total.rem_euclid(12) as u8 + 1) else { return at_ms };
    let Ok(year) = i32::try_from(year) else { return i64::MAX };
    let day = at.day().min(month.length(year));
    match time::Date::from_calendar_date(year, month, day) {
        Ok(date) => (at.replace_date(date).unix_timestamp_nanos() / 1_000_000) as i64,
        Err(_) => i64::MAX,
    }
}

macro_rules! reasons {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $code:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored and submitted form.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// What a supervisor reads, and what the audit log records.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }

            pub fn parse(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|reason| reason.code() == code)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.label())
            }
        }
    };
}

reasons! {
    /// Why a record is kept past its review date. Fixed wording, so that the
    /// audit log never holds free text about a person.
    RetainReason {
        LiveInvestigation => "live_investigation", "An investigation or prosecution is still open";
        SafeguardingConcern => "safeguarding_concern", "A safeguarding concern for the person remains";
        LinkedToLiveCase => "linked_to_live_case", "It is linked to a live case, operation or organised crime group";
        LegalHold => "legal_hold", "A court, inquiry or disclosure duty requires it";
        NrmDecisionPending => "nrm_decision_pending", "A National Referral Mechanism decision or appeal is pending";
    }
}

reasons! {
    /// Why a record is deleted at review.
    DeleteReason {
        NoPolicingPurpose => "no_policing_purpose", "No longer needed for a policing purpose";
        NoFurtherConcern => "no_further_concern", "The review period passed with no further concern";
        CreatedInError => "created_in_error", "The record was created in error";
        LawfulRequest => "lawful_request", "The person asked for erasure and the law allows it";
    }
}

/// A supervisor's decision at review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewDecision {
    Retain(RetainReason),
    Delete(DeleteReason),
}

/// The review form as submitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ReviewAnswers {
    /// `retain` or `delete`.
    pub decision: String,
    pub retain_reason: String,
    pub delete_reason: String,
    /// For a deletion: `yes` once the supervisor has confirmed it.
    pub confirm: String,
}

impl ReviewDecision {
    /// The decision, or every problem by field (the GOV.UK error summary's).
    pub fn parse(answers: &ReviewAnswers) -> Result<Self, Vec<FieldError>> {
        let problem = |field: &str, message: &str| vec![FieldError { field: field.to_owned(), message: message.to_owned() }];
        match answers.decision.trim() {
            "retain" => RetainReason::parse(answers.retain_reason.trim())
                .map(ReviewDecision::Retain)
                .ok_or_else(|| problem("retain_reason", "Choose why the record must be kept")),
            "delete" => {
                let Some(reason) = DeleteReason::parse(answers.delete_reason.trim()) else {
                    return Err(problem("delete_reason", "Choose why the record can be deleted"));
                };
                if answers.confirm.trim() != "yes" {
                    return Err(problem("confirm", "Confirm that the record and everything in it will be deleted for good"));
                }
                Ok(ReviewDecision::Delete(reason))
            }
            _ => Err(problem("decision", "Choose whether to keep or delete the record")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(date: &str) -> i64 {
        let date = time::Date::parse(date, &time::format_description::well_known::Iso8601::DATE).unwrap();
        (date.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64
    }

    #[test]
    fn months_are_calendar_months_clamped_to_the_month_end() {
        assert_eq!(add_months(ms("2020-01-31"), 1), ms("2020-02-29"));
        assert_eq!(add_months(ms("2020-01-15"), 72), ms("2026-01-15"));
        assert_eq!(add_months(ms("2019-11-30"), 3), ms("2020-02-29"));
        assert_eq!(add_months(ms("2020-12-01"), 12), ms("2021-12-01"));
    }

    #[test]
    fn a_decision_needs_a_reason_and_a_deletion_a_confirmation() {
        let answers = |decision: &str, retain: &str, delete: &str, confirm: &str| ReviewAnswers {
            decision: decision.into(),
            retain_reason: retain.into(),
            delete_reason: delete.into(),
            confirm: confirm.into(),
        };
        let field = |result: Result<ReviewDecision, Vec<FieldError>>| result.unwrap_err()[0].field.clone();
        assert_eq!(field(ReviewDecision::parse(&answers("", "", "", ""))), "decision");
        assert_eq!(field(ReviewDecision::parse(&answers("retain", "because", "", ""))), "retain_reason");
        assert_eq!(ReviewDecision::parse(&answers("retain", "legal_hold", "", "")), Ok(ReviewDecision::Retain(RetainReason::LegalHold)));
        assert_eq!(field(ReviewDecision::parse(&answers("delete", "", "", "yes"))), "delete_reason");
        assert_eq!(field(ReviewDecision::parse(&answers("delete", "", "created_in_error", ""))), "confirm");
        assert_eq!(ReviewDecision::parse(&answers("delete", "", "created_in_error", "yes")), Ok(ReviewDecision::Delete(DeleteReason::CreatedInError)));
        for reason in RetainReason::ALL {
            assert_eq!(RetainReason::parse(reason.code()), Some(*reason));
        }
        for reason in DeleteReason::ALL {
            assert_eq!(DeleteReason::parse(reason.code()), Some(*reason));
        }
    }

    #[test]
    fn periods_are_checked() {
        assert!(ReviewPeriods::default().check().is_ok());
        assert!(ReviewPeriods { victim_cases_months: 0, ..ReviewPeriods::default() }.check().is_err());
        let error = ReviewPeriods { operations_months: 1201, ..ReviewPeriods::default() }.check().unwrap_err();
        assert!(error.contains("retention.operations_months"), "{error}");
        for kind in RecordKind::ALL {
            assert_eq!(RecordKind::from_slug(kind.slug()), Some(*kind));
        }
        assert_eq!(RecordKind::from_slug("victims"), None);
    }
}
