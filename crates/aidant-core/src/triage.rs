//! Triage: how urgently staff must look at a report, and why.
//!
//! The rules are fixed in shape and set in weight by the catalogue:
//! 1. a reporter saying someone is in immediate danger, or any sign marked
//!    `escalation = "immediate"` (people locked in a lorry), is Immediate;
//! 2. a child involved (an age group under 18, or a sign marked
//!    `escalation = "child"`) is at least High;
//! 3. otherwise the score is the sum of the signs' weights plus
//!    `points_per_ilo_indicator` for each distinct ILO indicator they evidence,
//!    compared with the catalogue's `high_at` and `medium_at`.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::catalogue::{Catalogue, Escalation};
use crate::organisation::UnknownName;

/// How urgently a report needs a person to look at it; ordered from most to least urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RiskLevel {
    Immediate,
    High,
    Medium,
    Low,
}

impl RiskLevel {
    pub const ALL: [RiskLevel; 4] = [RiskLevel::Immediate, RiskLevel::High, RiskLevel::Medium, RiskLevel::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Immediate => "immediate",
            RiskLevel::High => "high",
            RiskLevel::Medium => "medium",
            RiskLevel::Low => "low",
        }
    }

    /// Sort key for queues: Immediate first.
    pub fn rank(self) -> i64 {
        self as i64
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for RiskLevel {
    type Err = UnknownName;
    fn from_str(raw: &str) -> Result<Self, UnknownName> {
        RiskLevel::ALL.into_iter().find(|level| level.as_str() == raw).ok_or_else(|| UnknownName { kind: "risk level", value: raw.to_owned() })
    }
}

/// What triage looks at. Built from a parsed report, so every sign id is known
/// to be in the catalogue.
#[derive(Debug, Clone, Default)]
pub struct TriageInput<'a> {
    pub immediate_danger: bool,
    pub child_reported: bool,
    pub sign_ids: Vec<&'a str>,
}

/// The outcome: a level, the score behind it and reasons a person can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triage {
    pub level: RiskLevel,
    pub score: u32,
    pub reasons: Vec<String>,
}

/// Triages a report against the catalogue's rules.
pub fn triage(input: &TriageInput<'_>, catalogue: &Catalogue) -> Triage {
    let rules = &catalogue.triage;
    let mut reasons = Vec::new();
    let mut forced_immediate = false;
    let mut child = false;

    if input.immediate_danger {
        forced_immediate = true;
        reasons.push("The reporter said someone is in immediate danger.".to_owned());
    }
    if input.child_reported {
        child = true;
        reasons.push("The reporter said a person there may be under 18.".to_owned());
    }

    let mut score = 0;
    let mut ilo_evidenced = BTreeSet::new();
    let mut unique_signs = BTreeSet::new();
    for sign_id in &input.sign_ids {
        if !unique_signs.insert(*sign_id) {
            continue;
        }
        let Some(indicator) = catalogue.indicator(sign_id) else {
            continue;
        };
        score += indicator.weight;
        ilo_evidenced.extend(indicator.ilo.iter().map(String::as_str));
        match indicator.escalation {
            Some(Escalation::Immediate) => {
                forced_immediate = true;
                reasons.push(format!("Sign needing immediate action: {}.", indicator.staff));
            }
            Some(Escalation::Child) => {
                child = true;
                reasons.push(format!("Sign that a child may be involved: {}.", indicator.staff));
            }
            None => {}
        }
    }
    score += rules.points_per_ilo_indicator * ilo_evidenced.len() as u32;

    if !unique_signs.is_empty() {
        reasons.push(format!(
            "{} sign(s) reported, evidencing {} of the 11 ILO indicators of forced labour; score {score}.",
            unique_signs.len(),
            ilo_evidenced.len()
        ));
    }
    if !ilo_evidenced.is_empty() {
        let names: Vec<&str> = ilo_evidenced.iter().filter_map(|id| catalogue.ilo_indicator(id)).map(|ilo| ilo.name.as_str()).collect();
        reasons.push(format!("ILO indicators: {}.", names.join("; ")));
    }

    let by_score = if score >= rules.high_at {
        RiskLevel::High
    } else if score >= rules.medium_at {
        RiskLevel::Medium
    } else {
        RiskLevel::Low
    };
    let level = if forced_immediate {
        RiskLevel::Immediate
    } else if child {
        by_score.min(RiskLevel::High)
    } else {
        by_score
    };
    if unique_signs.is_empty() && !forced_immediate && !child {
        reasons.push("No signs were ticked; a person should read the account.".to_owned());
    }
    Triage { level, score, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::tests::shipped;

    struct Case {
        name: &'static str,
        immediate_danger: bool,
        child_reported: bool,
        signs: &'static [&'static str],
        expected: RiskLevel,
    }

    #[test]
    fn table_of_triage_outcomes() {
        let catalogue = shipped();
        let cases = [
            Case { name: "nothing ticked", immediate_danger: false, child_reported: false, signs: &[], expected: RiskLevel::Low },
            Case { name: "one mild sign", immediate_danger: false, child_reported: false, signs: &["cash_only_unusually_cheap"], expected: RiskLevel::Low },
            Case { name: "reporter says danger now", immediate_danger: true, child_reported: false, signs: &[], expected: RiskLevel::Immediate },
            Case {
                name: "banging inside a lorry",
                immediate_danger: false,
                child_reported: false,
                signs: &["banging_from_inside_lorry"],
                expected: RiskLevel::Immediate,
            },
            Case { name: "child age group alone", immediate_danger: false, child_reported: true, signs: &[], expected: RiskLevel::High },
            Case { name: "child sign alone", immediate_danger: false, child_reported: false, signs: &["workers_look_under_16"], expected: RiskLevel::High },
            Case { name: "child and danger", immediate_danger: true, child_reported: true, signs: &[], expected: RiskLevel::Immediate },
            Case {
                name: "several strong signs across ILO indicators",
                immediate_danger: false,
                child_reported: false,
                signs: &["someone_else_holds_passport", "cannot_leave_work_or_home", "owes_debt_to_employer", "injuries_from_assault"],
                expected: RiskLevel::High,
            },
            Case {
                name: "two moderate signs",
                immediate_danger: false,
                child_reported: false,
                signs: &["workers_living_on_site", "controlling_manager"],
                expected: RiskLevel::Medium,
            },
            Case {
                name: "repeated sign counts once",
                immediate_danger: false,
                child_reported: false,
                signs: &["cash_only_unusually_cheap", "cash_only_unusually_cheap", "cash_only_unusually_cheap"],
                expected: RiskLevel::Low,
            },
        ];
        for case in cases {
            let input = TriageInput { immediate_danger: case.immediate_danger, child_reported: case.child_reported, sign_ids: case.signs.to_vec() };
            let outcome = triage(&input, &catalogue);
            assert_eq!(outcome.level, case.expected, "{}: score {} reasons {:?}", case.name, outcome.score, outcome.reasons);
            assert!(!outcome.reasons.is_empty(), "{} gives no reasons", case.name);
        }
    }

    #[test]
    fn reasons_name_the_escalating_sign() {
        let catalogue = shipped();
        let input = TriageInput { sign_ids: vec!["banging_from_inside_lorry"], ..TriageInput::default() };
        let outcome = triage(&input, &catalogue);
        let staff_wording = &catalogue.indicator("banging_from_inside_lorry").unwrap().staff;
        assert!(outcome.reasons.iter().any(|reason| reason.contains(staff_wording.as_str())), "{:?}", outcome.reasons);
    }

    #[test]
    fn weights_come_from_the_catalogue() {
        let mut catalogue = shipped();
        let input = TriageInput { sign_ids: vec!["cash_only_unusually_cheap"], ..TriageInput::default() };
        assert_eq!(triage(&input, &catalogue).level, RiskLevel::Low);
        catalogue.triage.medium_at = 1;
        catalogue.triage.high_at = 2;
        assert_eq!(triage(&input, &catalogue).level, RiskLevel::Medium);
        catalogue.indicators.iter_mut().find(|indicator| indicator.id == "cash_only_unusually_cheap").unwrap().weight = 2;
        assert_eq!(triage(&input, &catalogue).level, RiskLevel::High);
    }

    #[test]
    fn levels_order_from_most_urgent() {
        assert!(RiskLevel::Immediate < RiskLevel::High && RiskLevel::High < RiskLevel::Medium && RiskLevel::Medium < RiskLevel::Low);
        for level in RiskLevel::ALL {
            assert_eq!(level.as_str().parse::<RiskLevel>(), Ok(level));
        }
    }
}
