//! Intelligence grading: the national 3x5x2 model, and the legacy 5x5x5
//! model kept for historic records.
//!
//! 3x5x2 (College of Policing APP, Intelligence management):
//! - source evaluation 1 reliable, 2 untested, 3 not reliable;
//! - intelligence assessment A known directly to the source, B known
//!   indirectly to the source but corroborated, C known indirectly to the
//!   source, D not known, E suspected to be false or malicious;
//! - handling code P (lawful sharing permitted) or C (lawful sharing
//!   permitted with conditions, which must be stated).
//!
//! 5x5x5 grades are stored and shown as they were given. The two models do
//! not map onto each other (5x5x5 handling codes 2 to 5 have no 3x5x2
//! equivalent), so nothing here converts one into the other.

use std::collections::BTreeSet;
use std::fmt;

use crate::ids::OrganisationId;
use crate::policy::{Handling, SharingConditions};
use crate::text::{BoundedText, Lines, TextError};

/// The longest handling condition text.
pub const CONDITIONS_LIMIT: usize = 1_000;

/// 3x5x2 source evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceEvaluation {
    Reliable,
    Untested,
    NotReliable,
}

/// 3x5x2 intelligence assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntelligenceAssessment {
    KnownDirectly,
    KnownIndirectlyCorroborated,
    KnownIndirectly,
    NotKnown,
    SuspectedFalse,
}

impl SourceEvaluation {
    pub const ALL: [SourceEvaluation; 3] = [SourceEvaluation::Reliable, SourceEvaluation::Untested, SourceEvaluation::NotReliable];

    pub fn code(self) -> &'static str {
        match self {
            SourceEvaluation::Reliable => "1",
            SourceEvaluation::Untested => "2",
            SourceEvaluation::NotReliable => "3",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SourceEvaluation::Reliable => "Reliable",
            SourceEvaluation::Untested => "Untested",
            SourceEvaluation::NotReliable => "Not reliable",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|grade| grade.code() == code.trim())
    }
}

impl IntelligenceAssessment {
    pub const ALL: [IntelligenceAssessment; 5] = [
        IntelligenceAssessment::KnownDirectly,
        IntelligenceAssessment::KnownIndirectlyCorroborated,
        IntelligenceAssessment::KnownIndirectly,
        IntelligenceAssessment::NotKnown,
        IntelligenceAssessment::SuspectedFalse,
    ];

    pub fn code(self) -> &'static str {
        match self {
            IntelligenceAssessment::KnownDirectly => "A",
            IntelligenceAssessment::KnownIndirectlyCorroborated => "B",
            IntelligenceAssessment::KnownIndirectly => "C",
            IntelligenceAssessment::NotKnown => "D",
            IntelligenceAssessment::SuspectedFalse => "E",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            IntelligenceAssessment::KnownDirectly => "Known directly to the source",
            IntelligenceAssessment::KnownIndirectlyCorroborated => "Known indirectly to the source but corroborated",
            IntelligenceAssessment::KnownIndirectly => "Known indirectly to the source",
            IntelligenceAssessment::NotKnown => "Not known",
            IntelligenceAssessment::SuspectedFalse => "Suspected to be false or malicious",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|grade| grade.code().eq_ignore_ascii_case(code.trim()))
    }
}

/// A grading as recorded on an intelligence record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grading {
    /// The national model since 2016.
    ThreeFiveTwo { source: SourceEvaluation, intelligence: IntelligenceAssessment, handling: Handling, conditions_text: Option<String> },
    /// A historic 5x5x5 grading, kept exactly as given: source A-E,
    /// intelligence 1-5, handling 1-5.
    Legacy5x5x5 { source: char, intelligence: u8, handling: u8 },
}

impl Grading {
    /// The short code shown in lists: `2 B C` or `B 2 4 (5x5x5)`.
    pub fn code(&self) -> String {
        match self {
            Grading::ThreeFiveTwo { source, intelligence, handling, .. } => {
                let handling = if matches!(handling, Handling::Permitted) { "P" } else { "C" };
                format!("{} {} {handling}", source.code(), intelligence.code())
            }
            Grading::Legacy5x5x5 { source, intelligence, handling } => format!("{source} {intelligence} {handling} (5x5x5)"),
        }
    }

    /// How the access policy treats the record. A legacy record is handled
    /// with conditions naming no recipient beyond explicit shares: it is
    /// never widened by a conversion nobody made.
    pub fn handling(&self) -> Handling {
        match self {
            Grading::ThreeFiveTwo { handling, .. } => handling.clone(),
            Grading::Legacy5x5x5 { handling: 1, .. } => Handling::Permitted,
            Grading::Legacy5x5x5 { .. } => {
                Handling::Conditional(SharingConditions { no_onward_sharing: true, sanitised_only: true, ..SharingConditions::default() })
            }
        }
    }
}

/// The fields of a grading form, as typed.
#[derive(Debug, Clone, Default)]
pub struct GradingAnswers<'a> {
    /// `3x5x2` or `5x5x5`.
    pub scheme: &'a str,
    pub source: &'a str,
    pub intelligence: &'a str,
    pub handling: &'a str,
    pub conditions_text: &'a str,
    /// Organisation ids the conditions name.
    pub recipient_organisations: Vec<OrganisationId>,
    pub no_onward_sharing: bool,
    pub originator_consent_required: bool,
    /// Already parsed by the caller (a date field), Unix ms.
    pub expires_at_ms: Option<i64>,
}

/// A grading problem, naming the form field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradingError {
    pub field: &'static str,
    pub message: String,
}

impl fmt::Display for GradingError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.field, self.message)
    }
}

fn error(field: &'static str, message: &str) -> GradingError {
    GradingError { field, message: message.to_owned() }
}

/// Parses a grading; every problem is reported, not only the first.
pub fn parse_grading(answers: &GradingAnswers<'_>) -> Result<Grading, Vec<GradingError>> {
    match answers.scheme {
        "3x5x2" => parse_three_five_two(answers),
        "5x5x5" => parse_legacy(answers),
        _ => Err(vec![error("scheme", "Select the grading model")]),
    }
}

fn parse_three_five_two(answers: &GradingAnswers<'_>) -> Result<Grading, Vec<GradingError>> {
    let mut errors = Vec::new();
    let source = SourceEvaluation::parse(answers.source);
    if source.is_none() {
        errors.push(error("source", "Select the source evaluation: 1, 2 or 3"));
    }
    let intelligence = IntelligenceAssessment::parse(answers.intelligence);
    if intelligence.is_none() {
        errors.push(error("intelligence", "Select the intelligence assessment: A, B, C, D or E"));
    }
    let (handling, conditions_text) = match answers.handling.trim() {
        "P" | "p" => (Some(Handling::Permitted), None),
        "C" | "c" => {
            let text = match BoundedText::parse(answers.conditions_text, CONDITIONS_LIMIT, Lines::Multiple) {
                Ok(text) => Some(text.as_str().to_owned()),
                Err(TextError::Empty) => {
                    errors.push(error("conditions_text", "Enter the handling conditions, for example \u{201c}GLAA only\u{201d}"));
                    None
                }
                Err(TextError::TooLong { max, .. }) => {
                    errors.push(GradingError { field: "conditions_text", message: format!("Handling conditions must be {max} characters or fewer") });
                    None
                }
                Err(_) => {
                    errors.push(error("conditions_text", "Handling conditions must be plain text"));
                    None
                }
            };
            if answers.recipient_organisations.is_empty() {
                errors.push(error("recipients", "Select at least one organisation the conditions allow it to be shared with"));
            }
            let conditions = SharingConditions {
                recipient_organisations: answers.recipient_organisations.iter().cloned().collect::<BTreeSet<_>>(),
                no_onward_sharing: answers.no_onward_sharing,
                originator_consent_required: answers.originator_consent_required,
                sanitised_only: true,
                expires_at_ms: answers.expires_at_ms,
            };
            (Some(Handling::Conditional(conditions)), text)
        }
        _ => {
            errors.push(error("handling", "Select the handling code: P or C"));
            (None, None)
        }
    };
    match (source, intelligence, handling) {
        (Some(source), Some(intelligence), Some(handling)) if errors.is_empty() => {
            Ok(Grading::ThreeFiveTwo { source, intelligence, handling, conditions_text })
        }
        _ => Err(errors),
    }
}

fn parse_legacy(answers: &GradingAnswers<'_>) -> Result<Grading, Vec<GradingError>> {
    let mut errors = Vec::new();
    let source = answers.source.trim().to_ascii_uppercase();
    let source = match source.as_str() {
        "A" | "B" | "C" | "D" | "E" => source.chars().next(),
        _ => {
            errors.push(error("source", "A 5x5x5 source evaluation is a letter from A to E"));
            None
        }
    };
    let digit = |raw: &str, field: &'static str, what: &str, errors: &mut Vec<GradingError>| match raw.trim().parse::<u8>() {
        Ok(value @ 1..=5) => Some(value),
        _ => {
            errors.push(GradingError { field, message: format!("A 5x5x5 {what} is a number from 1 to 5") });
            None
        }
    };
    let intelligence = digit(answers.intelligence, "intelligence", "intelligence evaluation", &mut errors);
    let handling = digit(answers.handling, "handling", "handling code", &mut errors);
    match (source, intelligence, handling) {
        (Some(source), Some(intelligence), Some(handling)) => Ok(Grading::Legacy5x5x5 { source, intelligence, handling }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLAA: &str = "0190f1c2-0000-7000-8000-000000000002";

    fn answers(scheme: &'static str, source: &'static str, intelligence: &'static str, handling: &'static str) -> GradingAnswers<'static> {
        GradingAnswers { scheme, source, intelligence, handling, ..GradingAnswers::default() }
    }

    #[test]
    fn every_three_five_two_grade_parses_and_shows_its_code() {
        for source in SourceEvaluation::ALL {
            for intelligence in IntelligenceAssessment::ALL {
                let grading = parse_grading(&answers("3x5x2", source.code(), intelligence.code(), "P")).unwrap();
                assert_eq!(grading.code(), format!("{} {} P", source.code(), intelligence.code()));
                assert_eq!(grading.handling(), Handling::Permitted);
            }
        }
    }

    #[test]
    fn handling_c_requires_conditions_and_recipients() {
        let errors = parse_grading(&answers("3x5x2", "2", "B", "C")).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|error| error.field).collect();
        assert_eq!(fields, ["conditions_text", "recipients"]);

        let with_conditions = GradingAnswers {
            conditions_text: "GLAA only",
            recipient_organisations: vec![OrganisationId::parse(GLAA).unwrap()],
            no_onward_sharing: true,
            ..answers("3x5x2", "2", "B", "C")
        };
        let grading = parse_grading(&with_conditions).unwrap();
        assert_eq!(grading.code(), "2 B C");
        let Handling::Conditional(conditions) = grading.handling() else { panic!("C grades are conditional") };
        assert_eq!(conditions.recipient_organisations, BTreeSet::from([OrganisationId::parse(GLAA).unwrap()]));
        assert!(conditions.no_onward_sharing && conditions.sanitised_only);
    }

    #[test]
    fn bad_grades_name_their_fields() {
        let errors = parse_grading(&answers("3x5x2", "4", "F", "X")).unwrap_err();
        assert_eq!(errors.iter().map(|error| error.field).collect::<Vec<_>>(), ["source", "intelligence", "handling"]);
        assert_eq!(parse_grading(&answers("6x6x6", "1", "A", "P")).unwrap_err()[0].field, "scheme");
        let legacy = parse_grading(&answers("5x5x5", "F", "0", "6")).unwrap_err();
        assert_eq!(legacy.iter().map(|error| error.field).collect::<Vec<_>>(), ["source", "intelligence", "handling"]);
    }

    #[test]
    fn legacy_grades_are_kept_as_given_and_never_widened() {
        let grading = parse_grading(&answers("5x5x5", "b", "2", "4")).unwrap();
        assert_eq!(grading, Grading::Legacy5x5x5 { source: 'B', intelligence: 2, handling: 4 });
        assert_eq!(grading.code(), "B 2 4 (5x5x5)");
        assert!(matches!(grading.handling(), Handling::Conditional(_)), "5x5x5 handling 4 is never read as P");
        assert_eq!(parse_grading(&answers("5x5x5", "A", "1", "1")).unwrap().handling(), Handling::Permitted);
    }
}
