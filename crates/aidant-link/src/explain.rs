//! Match explanations: the prior and each field's contribution to a pair's weight, as a waterfall.

use crate::features::{Interner, RecordFeatures};
use crate::model::{AddedFieldContribution, FieldContribution, Scorer, Stratum, probability_of_weight};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// Why a pair scored what it did. Holds levels and parameters only, never the compared values, so it
/// can be logged and shared without exposing personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub left_record_id: String,
    pub right_record_id: String,
    pub stratum: Stratum,
    /// log2 prior odds of a match for a pair of this stratum.
    pub prior_log2_odds: f64,
    pub contributions: Vec<FieldContribution>,
    /// The model file's added fields, in its order (none for the person model).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added_fields: Vec<AddedFieldContribution>,
    pub match_weight: f64,
    pub match_probability: f64,
}

/// Explains the score of one pair.
pub fn explain_pair(scorer: &Scorer, interner: &Interner, left: (&str, &RecordFeatures), right: (&str, &RecordFeatures)) -> Explanation {
    let gamma = scorer.compare(interner, left.1, right.1);
    let (stratum, prior_log2_odds, contributions) = scorer.contributions(&gamma, left.1);
    let added_fields = scorer.added_contributions(&gamma, left.1);
    let match_weight = scorer.weight(&gamma, left.1);
    Explanation {
        left_record_id: left.0.to_string(),
        right_record_id: right.0.to_string(),
        stratum,
        prior_log2_odds,
        contributions,
        added_fields,
        match_weight,
        match_probability: probability_of_weight(match_weight),
    }
}

impl Explanation {
    /// The explanation as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A text waterfall: the running total after the prior and each field, with a bar per step.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let stratum = match self.stratum {
            Stratum::Population => "population model",
            Stratum::Household => "household model: shared surname, address and phone count once, in the prior",
            Stratum::Sibling => "sibling model: same family name and date of birth with different given names; only an identity number or e-mail can join them",
        };
        let _ = writeln!(text, "Pair {} / {} ({stratum})", self.left_record_id, self.right_record_id);
        let bar = |weight: f64| {
            let length = (weight.abs().min(30.0)).round() as usize;
            if weight >= 0.0 { format!("{:>30}|{}", "", "+".repeat(length)) } else { format!("{:>30}|", "-".repeat(length)) }
        };
        let mut running = self.prior_log2_odds;
        let _ = writeln!(text, "  {:<12} {:<34} {:>+8.2} {:>8.2}  {}", "prior", "", self.prior_log2_odds, running, bar(self.prior_log2_odds));
        let added = self.added_fields.iter().map(|added| {
            (added.name.as_str(), added.level, added.level_name.as_str(), added.counted, added.log2_bayes_factor, added.term_frequency_adjustment)
        });
        let rows = self
            .contributions
            .iter()
            .map(|contribution| {
                (
                    contribution.field.name(),
                    contribution.level,
                    contribution.level_name.as_str(),
                    contribution.counted,
                    contribution.log2_bayes_factor,
                    contribution.term_frequency_adjustment,
                )
            })
            .chain(added);
        for (name, level_number, level_name, counted, log2_bayes_factor, term_frequency_adjustment) in rows {
            let step = log2_bayes_factor + term_frequency_adjustment;
            running += step;
            let level = if counted {
                level_name.to_string()
            } else if level_number == 0 {
                "missing".to_string()
            } else {
                format!("{level_name} (in prior)")
            };
            let term_frequency = if term_frequency_adjustment.abs() > 1e-9 { format!(" (tf {term_frequency_adjustment:+.2})") } else { String::new() };
            let _ = writeln!(text, "  {:<12} {:<34} {:>+8.2} {:>8.2}  {}{}", name, level, step, running, bar(step), term_frequency);
        }
        let _ = writeln!(text, "  match weight {:+.2}, probability {:.4}", self.match_weight, self.match_probability);
        text
    }
}
