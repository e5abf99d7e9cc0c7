//! The ids of Aidant's records, one type per kind of record, so a user's id
//! can never be passed where an organisation's is meant. Every id is a
//! UUID in its canonical text form (the store makes them, time-ordered);
//! `parse` accepts nothing else, so an address with a malformed id is
//! refused before it reaches the database.

use std::fmt;

/// A text that is not a record id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} ids are UUIDs such as 0190f1c2-7a6b-7cde-8f01-23456789abcd")]
pub struct IdError {
    pub kind: &'static str,
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(position, byte)| match position {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

macro_rules! record_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses an id, in any case; it is kept in lower case.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                let text = raw.trim();
                if is_uuid(text) { Ok($name(text.to_ascii_lowercase())) } else { Err(IdError { kind: $kind }) }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(raw: &str) -> Result<Self, IdError> {
                Self::parse(raw)
            }
        }
    };
}

record_id!(
    /// A public report.
    ReportId,
    "report"
);
record_id!(
    /// An intelligence record.
    IntelligenceId,
    "intelligence"
);
record_id!(
    /// A member of staff.
    UserId,
    "user"
);
record_id!(
    /// An organisation: a police force, an agency or a charity.
    OrganisationId,
    "organisation"
);
record_id!(
    /// An entity: a phone, vehicle, address, business, email or online
    /// account that records mention.
    EntityId,
    "entity"
);
record_id!(
    /// A saved link chart.
    ChartId,
    "chart"
);
record_id!(
    /// A saved organised-crime-group analysis.
    AnalysisId,
    "network analysis"
);
record_id!(
    /// A potential victim's case.
    VictimId,
    "potential victim"
);
record_id!(
    /// A referral of a potential victim to a support organisation.
    SupportReferralId,
    "support referral"
);
record_id!(
    /// An operation: a planned day or week of action.
    OperationId,
    "operation"
);
record_id!(
    /// A site in an operation's plan.
    SiteId,
    "operation site"
);
record_id!(
    /// A team in an operation's plan.
    TeamId,
    "operation team"
);
record_id!(
    /// A record made in the field, its id made on the phone.
    FieldRecordId,
    "field record"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_in_lower_case() {
        let id = ReportId::parse(" 0190F1C2-7A6B-7CDE-8F01-23456789ABCD ").unwrap();
        assert_eq!(id.as_str(), "0190f1c2-7a6b-7cde-8f01-23456789abcd");
        assert_eq!(id.to_string().parse::<ReportId>(), Ok(id));
        for bad in
            ["", "1", "../../etc/passwd", "0190f1c2-7a6b-7cde-8f01-23456789abcg", "0190f1c27a6b7cde8f0123456789abcd", "0190f1c2-7a6b-7cde-8f01-23456789abcd0"]
        {
            assert_eq!(UserId::parse(bad), Err(IdError { kind: "user" }), "{bad:?}");
        }
    }
}
