//! Safeguarding potential victims: the age path, the Home Office's
//! exploitation types, and the National Referral Mechanism's clock.
//!
//! The clock's rules (domain.md section 4, the Modern Slavery statutory
//! guidance): the Home Office aims to make a Reasonable Grounds (RG)
//! decision within five working days of a referral; a positive RG starts a
//! recovery period of at least 30 days; the Conclusive Grounds (CG)
//! decision comes no sooner than 30 days after the RG. A child referred who
//! turns 18 before the CG moves to adult support, which needs planning.

pub mod calendar;
pub mod case;
pub mod referral;
pub mod statistics;

use time::{Date, Duration, Month};

use crate::organisation::named_enum;

/// Working days the Home Office aims to take over a Reasonable Grounds
/// decision.
pub const RG_TARGET_WORKING_DAYS: u32 = 5;

/// The shortest recovery period after a positive Reasonable Grounds
/// decision, in days.
pub const RECOVERY_PERIOD_DAYS: i64 = 30;

/// The fewest days between a Reasonable Grounds and a Conclusive Grounds
/// decision.
pub const CG_EARLIEST_DAYS_AFTER_RG: i64 = 30;

/// How far ahead a child's 18th birthday is flagged while a Conclusive
/// Grounds decision is awaited, so the move to adult support is planned.
pub const TRANSITION_NOTICE_DAYS: i64 = 90;

named_enum! {
    /// What is known of a person's age, which decides the path: a child
    /// (or possibly a child) needs no consent and must be referred, with a
    /// safeguarding referral to the local authority.
    AgeAssessment {
        Adult => "adult", "18 or over";
        Child => "child", "Under 18";
        PossiblyChild => "possibly_child", "Possibly under 18 (age not known or disputed)";
    }
}

impl AgeAssessment {
    /// Whether the child path applies: under 18, or possibly under 18.
    pub fn is_child_path(self) -> bool {
        !matches!(self, AgeAssessment::Adult)
    }
}

named_enum! {
    /// Exploitation types in the Home Office's categories (the NRM form and
    /// its statistics). County lines is a flag on criminal exploitation.
    ExploitationType {
        Labour => "labour", "Labour exploitation";
        Sexual => "sexual", "Sexual exploitation";
        Criminal => "criminal", "Criminal exploitation";
        DomesticServitude => "domestic_servitude", "Domestic servitude";
        OrganRemoval => "organ_removal", "Organ removal";
        Other => "other", "Other";
    }
}

named_enum! {
    /// A Home Office decision, Reasonable or Conclusive Grounds.
    GroundsDecision {
        Positive => "positive", "Positive";
        Negative => "negative", "Negative";
    }
}

named_enum! {
    /// Where a potential victim's case stands, worked out from its dates.
    Stage {
        Identified => "identified", "Identified, not referred";
        DutyToNotify => "duty_to_notify", "Duty to Notify sent (anonymous)";
        AwaitingRg => "awaiting_rg", "Referred, awaiting Reasonable Grounds";
        RecoveryPeriod => "recovery_period", "Positive Reasonable Grounds, awaiting Conclusive Grounds";
        NegativeRg => "negative_rg", "Negative Reasonable Grounds";
        PositiveCg => "positive_cg", "Positive Conclusive Grounds";
        NegativeCg => "negative_cg", "Negative Conclusive Grounds";
        Withdrawn => "withdrawn", "Withdrawn";
    }
}

/// The dates a case's clock runs on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseDates {
    pub born_on: Option<Date>,
    pub referred_on: Option<Date>,
    pub duty_to_notify_on: Option<Date>,
    pub reasonable_grounds: Option<(Date, GroundsDecision)>,
    pub conclusive_grounds: Option<(Date, GroundsDecision)>,
    pub withdrawn_on: Option<Date>,
}

/// What the clock says about a case on a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub stage: Stage,
    /// When the Reasonable Grounds decision is due, while it is awaited.
    pub rg_due: Option<Date>,
    /// Awaited past its due day.
    pub rg_overdue: bool,
    /// Working days from referral to the Reasonable Grounds decision, once
    /// made.
    pub rg_working_days: Option<u32>,
    /// The earliest end of the recovery period after a positive RG.
    pub recovery_until: Option<Date>,
    /// The earliest day a Conclusive Grounds decision may be made.
    pub cg_not_before: Option<Date>,
    /// The 18th birthday, when the date of birth is known.
    pub turns_18_on: Option<Date>,
    /// Referred as a child and turning 18 before a Conclusive Grounds
    /// decision (already, or within `TRANSITION_NOTICE_DAYS` while it is
    /// awaited).
    pub turns_18_before_cg: bool,
}

/// The day a person born on `born_on` turns `years` old. Someone born on
/// 29 February comes of age on 1 March in a common year.
pub fn birthday(born_on: Date, years: i32) -> Option<Date> {
    let year = born_on.year().checked_add(years)?;
    Date::from_calendar_date(year, born_on.month(), born_on.day()).ok().or_else(|| Date::from_calendar_date(year, Month::March, 1).ok())
}

/// Whole years of age on `on`.
pub fn age_on(born_on: Date, on: Date) -> i32 {
    let mut age = on.year() - born_on.year();
    if birthday(born_on, age).is_none_or(|anniversary| anniversary > on) {
        age -= 1;
    }
    age
}

/// Works out a case's stage and deadlines on `today`.
pub fn clock(dates: &CaseDates, today: Date) -> Clock {
    let rg = dates.reasonable_grounds;
    let cg = dates.conclusive_grounds;
    let stage = if dates.withdrawn_on.is_some() {
        Stage::Withdrawn
    } else if let Some((_, decision)) = cg {
        if decision == GroundsDecision::Positive { Stage::PositiveCg } else { Stage::NegativeCg }
    } else if let Some((_, decision)) = rg {
        if decision == GroundsDecision::Positive { Stage::RecoveryPeriod } else { Stage::NegativeRg }
    } else if dates.referred_on.is_some() {
        Stage::AwaitingRg
    } else if dates.duty_to_notify_on.is_some() {
        Stage::DutyToNotify
    } else {
        Stage::Identified
    };
    let rg_due = match (stage, dates.referred_on) {
        (Stage::AwaitingRg, Some(referred)) => Some(calendar::add_working_days(referred, RG_TARGET_WORKING_DAYS)),
        _ => None,
    };
    let positive_rg = rg.filter(|(_, decision)| *decision == GroundsDecision::Positive).map(|(day, _)| day);
    let turns_18_on = dates.born_on.and_then(|born| birthday(born, 18));
    let referred_as_child = matches!((turns_18_on, dates.referred_on), (Some(adult), Some(referred)) if referred < adult);
    let turns_18_before_cg = referred_as_child
        && match (turns_18_on, cg) {
            (Some(adult), Some((decided, _))) => adult <= decided,
            (Some(adult), None) => {
                matches!(stage, Stage::AwaitingRg | Stage::RecoveryPeriod) && adult <= today.saturating_add(Duration::days(TRANSITION_NOTICE_DAYS))
            }
            (None, _) => false,
        };
    Clock {
        stage,
        rg_due,
        rg_overdue: rg_due.is_some_and(|due| today > due),
        rg_working_days: match (dates.referred_on, rg) {
            (Some(referred), Some((decided, _))) => Some(calendar::working_days_between(referred, decided)),
            _ => None,
        },
        recovery_until: positive_rg.map(|day| day.saturating_add(Duration::days(RECOVERY_PERIOD_DAYS))),
        cg_not_before: positive_rg.map(|day| day.saturating_add(Duration::days(CG_EARLIEST_DAYS_AFTER_RG))),
        turns_18_on,
        turns_18_before_cg,
    }
}

/// A problem with a case's dates or age, for the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message: String,
}

fn problem(field: &'static str, message: impl Into<String>) -> FieldProblem {
    FieldProblem { field, message: message.into() }
}

fn written(date: Date) -> String {
    format!("{} {} {}", date.day(), date.month(), date.year())
}

/// Checks a case's dates against each other, the calendar and the age
/// given, on `today`: every problem found, each for its field.
pub fn check_case(dates: &CaseDates, age: AgeAssessment, today: Date) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    let future = |field: &'static str, date: Option<Date>, what: &str, problems: &mut Vec<FieldProblem>| {
        if date.is_some_and(|day| day > today) {
            problems.push(problem(field, format!("{what} must be today or in the past")));
        }
    };
    future("born_on", dates.born_on, "The date of birth", &mut problems);
    future("referred_on", dates.referred_on, "The date of referral", &mut problems);
    future("duty_to_notify_on", dates.duty_to_notify_on, "The date of the Duty to Notify", &mut problems);
    future("rg_on", dates.reasonable_grounds.map(|(day, _)| day), "The Reasonable Grounds decision", &mut problems);
    future("cg_on", dates.conclusive_grounds.map(|(day, _)| day), "The Conclusive Grounds decision", &mut problems);
    future("withdrawn_on", dates.withdrawn_on, "The date of withdrawal", &mut problems);
    if let (Some(born), Some(referred)) = (dates.born_on, dates.referred_on)
        && referred < born
    {
        problems.push(problem("referred_on", "The date of referral must be after the date of birth"));
    }
    if let Some((rg_day, rg_decision)) = dates.reasonable_grounds {
        match dates.referred_on {
            None => problems.push(problem("rg_on", "A Reasonable Grounds decision needs the date of referral first")),
            Some(referred) if rg_day < referred => {
                problems.push(problem("rg_on", format!("The Reasonable Grounds decision must be on or after the referral ({})", written(referred))))
            }
            Some(_) => {}
        }
        if let Some((cg_day, _)) = dates.conclusive_grounds {
            if rg_decision == GroundsDecision::Negative {
                problems.push(problem("cg_on", "A Conclusive Grounds decision follows a positive Reasonable Grounds decision only"));
            } else if cg_day < rg_day {
                problems.push(problem("cg_on", "The Conclusive Grounds decision must be after the Reasonable Grounds decision"));
            } else if cg_day < rg_day.saturating_add(Duration::days(CG_EARLIEST_DAYS_AFTER_RG)) {
                problems.push(problem(
                    "cg_on",
                    format!(
                        "The Conclusive Grounds decision cannot be sooner than {CG_EARLIEST_DAYS_AFTER_RG} days after the Reasonable Grounds decision (on or after {})",
                        written(rg_day.saturating_add(Duration::days(CG_EARLIEST_DAYS_AFTER_RG)))
                    ),
                ));
            }
        }
    } else if dates.conclusive_grounds.is_some() {
        problems.push(problem("cg_on", "A Conclusive Grounds decision needs a Reasonable Grounds decision first"));
    }
    if let Some(withdrawn) = dates.withdrawn_on {
        let started = dates.referred_on.or(dates.duty_to_notify_on);
        match started {
            Some(start) if withdrawn < start => problems.push(problem("withdrawn_on", "The date of withdrawal must be on or after the referral")),
            None => problems.push(problem("withdrawn_on", "Only a referral can be withdrawn")),
            Some(_) => {}
        }
    }
    if let Some(born) = dates.born_on.filter(|born| *born <= today) {
        let on = dates.referred_on.unwrap_or(today);
        let age_then = age_on(born, on);
        if age == AgeAssessment::Adult && age_then < 18 {
            problems.push(problem("age", format!("The date of birth makes them {age_then} on {}: choose under 18", written(on))));
        }
        if age == AgeAssessment::Child && age_then >= 18 {
            problems.push(problem("age", format!("The date of birth makes them {age_then} on {}: if it may be wrong, choose possibly under 18", written(on))));
        }
    }
    if dates.duty_to_notify_on.is_some() && age.is_child_path() {
        problems.push(problem("duty_to_notify_on", "A child is referred, never notified anonymously: the Duty to Notify is for adults who do not consent"));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn referred(on: Date) -> CaseDates {
        CaseDates { referred_on: Some(on), ..CaseDates::default() }
    }

    #[test]
    fn a_referral_made_on_a_friday_is_due_the_next_friday() {
        let clock = clock(&referred(date!(2026 - 11 - 20)), date!(2026 - 11 - 23));
        assert_eq!(clock.stage, Stage::AwaitingRg);
        assert_eq!(clock.rg_due, Some(date!(2026 - 11 - 27)));
        assert!(!clock.rg_overdue);
        assert!(super::clock(&referred(date!(2026 - 11 - 20)), date!(2026 - 11 - 28)).rg_overdue, "the day after it was due");
    }

    #[test]
    fn a_referral_before_christmas_waits_for_the_bank_holidays() {
        // Friday 18 December 2026: Christmas Day and the Boxing Day
        // substitute (Monday 28th) are not working days.
        assert_eq!(clock(&referred(date!(2026 - 12 - 18)), date!(2026 - 12 - 18)).rg_due, Some(date!(2026 - 12 - 29)));
    }

    #[test]
    fn referrals_at_easter_and_early_may_skip_the_bank_holidays() {
        assert_eq!(clock(&referred(date!(2027 - 03 - 25)), date!(2027 - 03 - 25)).rg_due, Some(date!(2027 - 04 - 05)));
        assert_eq!(clock(&referred(date!(2026 - 04 - 30)), date!(2026 - 04 - 30)).rg_due, Some(date!(2026 - 05 - 08)));
    }

    #[test]
    fn a_positive_rg_on_31_january_gives_a_cg_in_march() {
        let dates = CaseDates { reasonable_grounds: Some((date!(2027 - 01 - 31), GroundsDecision::Positive)), ..referred(date!(2027 - 01 - 25)) };
        let clock = clock(&dates, date!(2027 - 02 - 10));
        assert_eq!(clock.stage, Stage::RecoveryPeriod);
        assert_eq!(clock.recovery_until, Some(date!(2027 - 03 - 02)));
        assert_eq!(clock.cg_not_before, Some(date!(2027 - 03 - 02)));
        assert_eq!(clock.rg_due, None, "decided");
        assert_eq!(clock.rg_working_days, Some(4), "Tuesday to Friday, then a Sunday");
        // In a leap year February has one more day.
        let leap = CaseDates { reasonable_grounds: Some((date!(2028 - 01 - 31), GroundsDecision::Positive)), ..referred(date!(2028 - 01 - 25)) };
        assert_eq!(super::clock(&leap, date!(2028 - 02 - 10)).cg_not_before, Some(date!(2028 - 03 - 01)));
    }

    #[test]
    fn a_negative_rg_has_no_recovery_period() {
        let dates = CaseDates { reasonable_grounds: Some((date!(2026 - 11 - 24), GroundsDecision::Negative)), ..referred(date!(2026 - 11 - 20)) };
        let clock = clock(&dates, date!(2026 - 12 - 01));
        assert_eq!(clock.stage, Stage::NegativeRg);
        assert_eq!((clock.recovery_until, clock.cg_not_before), (None, None));
    }

    #[test]
    fn a_child_turning_18_before_the_cg_is_flagged() {
        let born = date!(2009 - 03 - 15);
        let waiting =
            CaseDates { born_on: Some(born), reasonable_grounds: Some((date!(2026 - 10 - 01), GroundsDecision::Positive)), ..referred(date!(2026 - 09 - 24)) };
        // Awaiting the CG: flagged once the birthday is within 90 days.
        assert!(!clock(&waiting, date!(2026 - 12 - 01)).turns_18_before_cg);
        assert!(clock(&waiting, date!(2026 - 12 - 20)).turns_18_before_cg);
        assert_eq!(clock(&waiting, date!(2026 - 12 - 20)).turns_18_on, Some(date!(2027 - 03 - 15)));
        // Decided after the birthday: flagged; before it: not.
        let late = CaseDates { conclusive_grounds: Some((date!(2027 - 04 - 01), GroundsDecision::Positive)), ..waiting.clone() };
        assert!(clock(&late, date!(2027 - 04 - 02)).turns_18_before_cg);
        let early = CaseDates { conclusive_grounds: Some((date!(2027 - 02 - 01), GroundsDecision::Positive)), ..waiting.clone() };
        assert!(!clock(&early, date!(2027 - 04 - 02)).turns_18_before_cg);
        // Referred as an adult: nothing to flag.
        let adult = CaseDates { born_on: Some(date!(1990 - 01 - 01)), ..waiting };
        assert!(!clock(&adult, date!(2026 - 12 - 20)).turns_18_before_cg);
    }

    #[test]
    fn someone_born_on_29_february_comes_of_age_on_1_march() {
        assert_eq!(birthday(date!(2008 - 02 - 29), 18), Some(date!(2026 - 03 - 01)));
        assert_eq!(birthday(date!(2008 - 02 - 29), 20), Some(date!(2028 - 02 - 29)));
        assert_eq!(age_on(date!(2008 - 02 - 29), date!(2026 - 02 - 28)), 17);
        assert_eq!(age_on(date!(2008 - 02 - 29), date!(2026 - 03 - 01)), 18);
        assert_eq!(age_on(date!(2000 - 06 - 15), date!(2026 - 06 - 14)), 25);
    }

    #[test]
    fn stages_follow_the_dates() {
        let today = date!(2026 - 12 - 01);
        assert_eq!(clock(&CaseDates::default(), today).stage, Stage::Identified);
        assert_eq!(clock(&CaseDates { duty_to_notify_on: Some(today), ..CaseDates::default() }, today).stage, Stage::DutyToNotify);
        let decided = CaseDates {
            reasonable_grounds: Some((date!(2026 - 06 - 08), GroundsDecision::Positive)),
            conclusive_grounds: Some((date!(2026 - 09 - 01), GroundsDecision::Negative)),
            ..referred(date!(2026 - 06 - 01))
        };
        assert_eq!(clock(&decided, today).stage, Stage::NegativeCg);
        assert_eq!(clock(&CaseDates { withdrawn_on: Some(today), ..decided }, today).stage, Stage::Withdrawn);
    }

    fn fields(problems: &[FieldProblem]) -> Vec<&'static str> {
        problems.iter().map(|problem| problem.field).collect()
    }

    #[test]
    fn impossible_dates_are_named_by_field() {
        let today = date!(2026 - 12 - 01);
        let cg_before_rg = CaseDates {
            reasonable_grounds: Some((date!(2026 - 10 - 10), GroundsDecision::Positive)),
            conclusive_grounds: Some((date!(2026 - 10 - 01), GroundsDecision::Positive)),
            ..referred(date!(2026 - 10 - 05))
        };
        assert_eq!(fields(&check_case(&cg_before_rg, AgeAssessment::Adult, today)), ["cg_on"]);
        let cg_too_soon = CaseDates { conclusive_grounds: Some((date!(2026 - 11 - 08), GroundsDecision::Positive)), ..cg_before_rg.clone() };
        let problems = check_case(&cg_too_soon, AgeAssessment::Adult, today);
        assert_eq!(fields(&problems), ["cg_on"]);
        assert!(problems[0].message.contains("9 November 2026"), "{}", problems[0].message);
        let born_tomorrow = CaseDates { born_on: Some(date!(2026 - 12 - 02)), ..CaseDates::default() };
        assert_eq!(fields(&check_case(&born_tomorrow, AgeAssessment::PossiblyChild, today)), ["born_on"]);
        let rg_before_referral = CaseDates { reasonable_grounds: Some((date!(2026 - 10 - 01), GroundsDecision::Positive)), ..referred(date!(2026 - 10 - 05)) };
        assert_eq!(fields(&check_case(&rg_before_referral, AgeAssessment::Adult, today)), ["rg_on"]);
        let cg_alone = CaseDates { conclusive_grounds: Some((date!(2026 - 11 - 01), GroundsDecision::Positive)), ..referred(date!(2026 - 10 - 05)) };
        assert_eq!(fields(&check_case(&cg_alone, AgeAssessment::Adult, today)), ["cg_on"]);
        let fine = CaseDates { conclusive_grounds: Some((date!(2026 - 11 - 09), GroundsDecision::Positive)), ..cg_before_rg };
        assert!(check_case(&fine, AgeAssessment::Adult, today).is_empty());
    }

    #[test]
    fn dates_at_the_end_of_the_calendar_are_refused_not_a_panic() {
        let last = Date::MAX;
        let typed = CaseDates {
            reasonable_grounds: Some((last, GroundsDecision::Positive)),
            conclusive_grounds: Some((last, GroundsDecision::Positive)),
            ..referred(last)
        };
        let problems = check_case(&typed, AgeAssessment::Adult, date!(2026 - 12 - 01));
        assert!(fields(&problems).contains(&"rg_on") && fields(&problems).contains(&"cg_on"), "{problems:?}");
        assert_eq!(clock(&typed, date!(2026 - 12 - 01)).cg_not_before, Some(last));
    }

    #[test]
    fn a_child_marked_adult_is_caught() {
        let today = date!(2026 - 12 - 01);
        let sixteen = CaseDates { born_on: Some(date!(2010 - 05 - 01)), ..referred(date!(2026 - 11 - 30)) };
        let problems = check_case(&sixteen, AgeAssessment::Adult, today);
        assert_eq!(fields(&problems), ["age"]);
        assert!(problems[0].message.contains("16"), "{}", problems[0].message);
        assert!(check_case(&sixteen, AgeAssessment::Child, today).is_empty());
        assert!(check_case(&sixteen, AgeAssessment::PossiblyChild, today).is_empty());
        // Documents may be false: a disputed age may be possibly under 18
        // whatever the date of birth says, but not plainly under 18.
        let thirty = CaseDates { born_on: Some(date!(1996 - 05 - 01)), ..referred(date!(2026 - 11 - 30)) };
        assert_eq!(fields(&check_case(&thirty, AgeAssessment::Child, today)), ["age"]);
        assert!(check_case(&thirty, AgeAssessment::PossiblyChild, today).is_empty());
        let notified = CaseDates { duty_to_notify_on: Some(today), ..CaseDates::default() };
        assert_eq!(fields(&check_case(&notified, AgeAssessment::PossiblyChild, today)), ["duty_to_notify_on"]);
        assert!(check_case(&notified, AgeAssessment::Adult, today).is_empty());
    }
}
