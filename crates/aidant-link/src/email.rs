//! Email addresses: trimmed, lower-cased and checked for a plausible shape (not full RFC 5322, on purpose).

use serde::{Deserialize, Serialize};
use std::fmt;

/// An email address in lower case, e.g. `ion.popescu@example.ro`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Email(String);

/// Why an email address was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("the email address is empty")]
    Empty,
    #[error("{0:?} must contain exactly one @ with text on both sides")]
    MissingAt(String),
    #[error("{0:?} contains a space or control character")]
    InvalidCharacter(String),
    #[error("the domain of {0:?} has no dot or an empty label")]
    InvalidDomain(String),
}

impl Email {
    /// Parses an address; lower-casing the local part too, because reporters never mean case to matter.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let mut trimmed = raw.trim();
        // `mailto:` in any case, as often as it was pasted: the address is
        // lower-cased below, so a prefix left in capitals would become one.
        while trimmed.get(..7).is_some_and(|prefix| prefix.eq_ignore_ascii_case("mailto:")) {
            trimmed = &trimmed[7..];
        }
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.chars().any(|character| character.is_whitespace() || character.is_control()) {
            return Err(EmailError::InvalidCharacter(trimmed.to_string()));
        }
        let lower = trimmed.to_lowercase();
        let mut parts = lower.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(EmailError::MissingAt(trimmed.to_string()));
        };
        if local.is_empty() || domain.is_empty() {
            return Err(EmailError::MissingAt(trimmed.to_string()));
        }
        let domain = domain.trim_end_matches('.');
        if !domain.contains('.') || domain.split('.').any(str::is_empty) {
            return Err(EmailError::InvalidDomain(trimmed.to_string()));
        }
        Ok(Email(format!("{local}@{domain}")))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the @, compared fuzzily when whole addresses differ.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or("")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Found by the `email` fuzz target: a prefix in mixed case was kept and
    /// then lower-cased into `mailto:`, so the address parsed differently
    /// the second time.
    #[test]
    fn a_mailto_prefix_in_any_case_is_dropped_and_parsing_is_idempotent() {
        let expected = Email::parse("ion@mail.example.ro").unwrap();
        for raw in ["maIlto:Ion@Mail.Example.RO", "MAILTO:ion@mail.example.ro", "mailto:mailto:Ion@mail.example.ro"] {
            let parsed = Email::parse(raw).unwrap();
            assert_eq!(parsed, expected, "{raw}");
            assert_eq!(Email::parse(parsed.as_str()).unwrap(), parsed);
        }
    }

    #[test]
    fn normalises_case_and_surrounding_space() {
        let email = Email::parse("  Ion.Popescu@Example.RO ").expect("valid address");
        assert_eq!(email.as_str(), "ion.popescu@example.ro");
        assert_eq!(email.local_part(), "ion.popescu");
        assert_eq!(Email::parse("mailto:a@b.co").expect("mailto form").as_str(), "a@b.co");
    }

    #[test]
    fn rejects_malformed_addresses() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert!(matches!(Email::parse("ion.example.ro"), Err(EmailError::MissingAt(_))));
        assert!(matches!(Email::parse("a@b@c.ro"), Err(EmailError::MissingAt(_))));
        assert!(matches!(Email::parse("@example.ro"), Err(EmailError::MissingAt(_))));
        assert!(matches!(Email::parse("ion@localhost"), Err(EmailError::InvalidDomain(_))));
        assert!(matches!(Email::parse("ion@a..ro"), Err(EmailError::InvalidDomain(_))));
        assert!(matches!(Email::parse("i on@a.ro"), Err(EmailError::InvalidCharacter(_))));
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_input(raw in "\\PC{0,30}") {
            let _ = Email::parse(&raw);
        }

        #[test]
        fn parsing_is_idempotent(local in "[a-zA-Z0-9._+-]{1,12}", domain in "[a-zA-Z0-9-]{1,10}\\.[a-z]{2,4}") {
            let email = Email::parse(&format!("{local}@{domain}")).expect("generated address");
            prop_assert_eq!(Email::parse(email.as_str()).expect("reparses"), email);
        }
    }
}
