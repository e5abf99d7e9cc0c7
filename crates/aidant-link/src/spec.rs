//! The model file: which fields `aidant link` compares, how each compares, and how candidate pairs
//! are found, written in TOML (`aidant link --model-spec FILE`).
//!
//! The built-in person fields (names, date of birth, postcode, address, phone, e-mail, identity
//! number, vehicle registration) keep their own parsers and comparison levels; a model file chooses
//! which of them to use and adds up to `MAX_EXTRA_FIELDS` fields of its own from any column: exact,
//! categorical with term frequencies, string similarity levels, numeric or date distance, or one of
//! the typed parsers (phone, postcode, registration, e-mail, name). Blocking rules can be declared
//! from the same fields. The default person model is itself such a file (`DEFAULT_MODEL_SPEC`).
//!
//! Pure: the caller reads the file and hands in its text.

use crate::blocking::{ALL_RULES, BlockingRule, RulePart};
use crate::compare::{ALL_FIELDS, Field, jaro_winkler_above};
use crate::dob::PartialDate;
use crate::email::Email;
use crate::features::{ABSENT, Interner};
use crate::name::{equivalent_group, fold_text};
use crate::phone::{PhoneE164, compact_phone};
use crate::postcode::Postcode;
use crate::vrm::Vrm;
use serde::{Deserialize, Serialize};

/// The most fields a model file may add to the built-in person fields.
pub const MAX_EXTRA_FIELDS: usize = 8;

/// The most thresholds a string, number or date comparison may have (each adds a level).
pub const MAX_THRESHOLDS: usize = 5;

/// The default person model, as a model file: what `aidant link` uses without `--model-spec`.
pub const DEFAULT_MODEL_SPEC: &str = include_str!("../data/person-model.toml");

/// How an added field's two values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// Equal or not, on the text folded to lower-case ASCII.
    Exact,
    /// Equal or not, with an agreement on a rare value worth more than one on a common value
    /// (term frequencies): a sex, a nationality, an occupation.
    Categorical,
    /// Jaro-Winkler similarity at the given thresholds (default 0.92 and 0.80), on folded text.
    String,
    /// Absolute difference of two numbers at the given thresholds (default 1 and 5): an age.
    Number,
    /// Days between two dates at the given thresholds (default 31 and 366); a year alone is taken
    /// as 1 July, a month and year as the 15th.
    Date,
    /// Telephone numbers read into E.164 (a national form is read as UK): exact, one digit apart.
    Phone,
    /// UK postcodes: exact, same sector, same district; others as written, exact only.
    Postcode,
    /// Vehicle registrations: exact, one character apart.
    Registration,
    /// E-mail addresses: exact, same local part.
    Email,
    /// A name (a middle name, a mother's maiden name): exact, equivalent by the names table,
    /// Jaro-Winkler 0.92 and 0.80, initial agrees.
    Name,
}

impl Comparison {
    fn default_thresholds(self) -> &'static [f64] {
        match self {
            Comparison::String => &[0.92, 0.80],
            Comparison::Number => &[1.0, 5.0],
            Comparison::Date => &[31.0, 366.0],
            _ => &[],
        }
    }

    fn takes_thresholds(self) -> bool {
        matches!(self, Comparison::String | Comparison::Number | Comparison::Date)
    }
}

/// A field a model file adds: where its values come from and how two of them compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraField {
    /// The field's name in the model, the summary and blocking rules.
    pub name: String,
    /// Input columns that may hold it, first found wins (compared as column names are, so
    /// "Place of Birth" is place_of_birth); by default the field's name.
    #[serde(default)]
    pub columns: Vec<String>,
    pub comparison: Comparison,
    /// String: Jaro-Winkler similarities, highest first; number: differences, smallest first;
    /// date: days apart, fewest first. Each adds a level between "exact" and "different".
    #[serde(default)]
    pub thresholds: Vec<f64>,
    /// Count an exact agreement on a common value for less than one on a rare value.
    #[serde(default)]
    pub term_frequencies: bool,
    /// Members of one household share it (a town, a religion): in the household stratum it is
    /// counted once, with the shared surname and address, rather than as new evidence.
    #[serde(default)]
    pub shared_in_household: bool,
}

impl ExtraField {
    /// The columns the field may be read from.
    pub fn column_names(&self) -> Vec<String> {
        if self.columns.is_empty() { vec![self.name.clone()] } else { self.columns.clone() }
    }

    /// Whether an exact agreement is adjusted by the value's frequency.
    pub fn uses_term_frequencies(&self) -> bool {
        self.term_frequencies || self.comparison == Comparison::Categorical
    }

    /// Whether the field's values are numbers (a number or a date) rather than interned text.
    pub fn is_numeric(&self) -> bool {
        matches!(self.comparison, Comparison::Number | Comparison::Date)
    }

    /// The names of the comparison levels, level 0 ("missing") first.
    pub fn level_names(&self) -> Vec<String> {
        let mut names = vec!["missing".to_string()];
        match self.comparison {
            Comparison::Exact | Comparison::Categorical => names.push("exact".into()),
            Comparison::String => {
                names.push("exact".into());
                names.extend(self.thresholds.iter().map(|threshold| format!("Jaro-Winkler >= {threshold}")));
            }
            Comparison::Number => {
                names.push("equal".into());
                names.extend(self.thresholds.iter().map(|threshold| format!("within {threshold}")));
            }
            Comparison::Date => {
                names.push("same date".into());
                names.extend(self.thresholds.iter().map(|threshold| format!("within {threshold} days")));
            }
            Comparison::Phone => names.extend(["exact".into(), "one digit apart".into()]),
            Comparison::Postcode => names.extend(["exact".into(), "same sector".into(), "same district".into()]),
            Comparison::Registration => names.extend(["exact".into(), "one character apart".into()]),
            Comparison::Email => names.extend(["exact".into(), "same local part".into()]),
            Comparison::Name => names.extend([
                "exact".into(),
                "equivalent name (table)".into(),
                "Jaro-Winkler >= 0.92".into(),
                "Jaro-Winkler >= 0.80".into(),
                "initial agrees".into(),
            ]),
        }
        names.push("different".into());
        names
    }

    pub fn level_count(&self) -> usize {
        self.level_names().len()
    }

    /// Reads one value as this field's comparison expects it: the text of the stored value, or
    /// why it could not be read (the record keeps no value for the field, and it is counted).
    pub fn normalise(&self, raw: &str) -> Result<String, String> {
        let raw = raw.trim();
        let folded = || Some(fold_text(raw)).filter(|text| !text.is_empty()).ok_or_else(|| "no letters or digits".to_string());
        match self.comparison {
            Comparison::Exact | Comparison::Categorical | Comparison::String | Comparison::Name => folded(),
            Comparison::Number => match raw.replace(',', "").parse::<f64>() {
                Ok(number) if number.is_finite() && (number as f32).is_finite() => Ok(format!("{}", number as f32)),
                _ => Err(format!("not a number: {}", raw.chars().count())),
            },
            Comparison::Date => PartialDate::parse(raw).map(|date| date.to_string()).map_err(|error| error.to_string()),
            Comparison::Phone => match PhoneE164::parse(raw, None) {
                Ok(phone) => Ok(phone.as_str().to_string()),
                Err(_) => {
                    let digits: String = compact_phone(raw).chars().filter(char::is_ascii_digit).collect();
                    if digits.len() >= 6 { Ok(digits) } else { Err("too few digits for a phone number".into()) }
                }
            },
            Comparison::Postcode => match Postcode::parse(raw) {
                Ok(postcode) => Ok(postcode.to_string()),
                Err(_) => {
                    let kept: String = raw.chars().filter(|character| character.is_alphanumeric()).flat_map(char::to_uppercase).collect();
                    if kept.is_empty() { Err("no letters or digits".into()) } else { Ok(kept) }
                }
            },
            Comparison::Registration => {
                Vrm::parse_uk(raw).map(|vrm| vrm.compact().to_string()).or_else(|_| crate::vrm::compact_mark(raw)).map_err(|error| error.to_string())
            }
            Comparison::Email => Email::parse(raw).map(|email| email.as_str().to_string()).map_err(|error| error.to_string()),
        }
    }

    /// The number a normalised number or date stands for, as stored in a record's features: the
    /// number's `f32` bits, or a date's days since 1 January of year 0 (a year alone on 1 July, a
    /// month and year on the 15th).
    pub fn numeric_value(&self, normalised: &str) -> Option<u32> {
        match self.comparison {
            Comparison::Number => normalised.parse::<f32>().ok().filter(|number| number.is_finite()).map(f32::to_bits),
            Comparison::Date => {
                let date = PartialDate::parse(normalised).ok()?;
                let (month, day) = match (date.month, date.day) {
                    (Some(month), Some(day)) => (month, day),
                    (Some(month), None) => (month, 15),
                    _ => (7, 1),
                };
                Some(days_from_year_zero(i64::from(date.year), i64::from(month), i64::from(day)))
            }
            _ => None,
        }
    }

    /// The agreement level of two stored values (ids of text in `interner`, or `numeric_value`s).
    /// `ABSENT` on either side is level 0, missing.
    pub fn compare(&self, left: u32, right: u32, interner: &Interner) -> u8 {
        let resolve = |id: u32| interner.resolve(id);
        if left == ABSENT || right == ABSENT {
            return 0;
        }
        let different = (self.level_count() - 1) as u8;
        let banded = |distance: f64| -> u8 {
            if distance == 0.0 {
                return 1;
            }
            self.thresholds.iter().position(|threshold| distance <= *threshold).map_or(different, |band| band as u8 + 2)
        };
        match self.comparison {
            Comparison::Number => banded(f64::from((f32::from_bits(left) - f32::from_bits(right)).abs())),
            Comparison::Date => banded(f64::from(left.abs_diff(right))),
            _ if left == right => 1,
            Comparison::Exact | Comparison::Categorical => different,
            Comparison::String => {
                let lowest = self.thresholds.iter().copied().fold(1.0, f64::min);
                let similarity = jaro_winkler_above(resolve(left), resolve(right), lowest);
                self.thresholds.iter().position(|threshold| similarity >= *threshold).map_or(different, |band| band as u8 + 2)
            }
            Comparison::Phone | Comparison::Registration => {
                if crate::compare::within_one_edit(resolve(left), resolve(right)) {
                    2
                } else {
                    different
                }
            }
            Comparison::Postcode => {
                let (left, right) = (resolve(left), resolve(right));
                match (left.split_once(' '), right.split_once(' ')) {
                    (Some((left_out, left_in)), Some((right_out, right_in))) if left_out == right_out => {
                        if left_in.get(..1) == right_in.get(..1) {
                            2
                        } else {
                            3
                        }
                    }
                    _ => different,
                }
            }
            Comparison::Email => {
                let (left, right) = (resolve(left), resolve(right));
                let local = |text: &str| text.split_once('@').map_or(text.len(), |(local, _)| local.len());
                if left[..local(left)] == right[..local(right)] { 2 } else { different }
            }
            Comparison::Name => compare_folded_names(resolve(left), resolve(right)),
        }
    }
}

/// Levels of an added name field: 1 exact, 2 equivalent, 3 and 4 Jaro-Winkler, 5 initial, 6 different.
fn compare_folded_names(left: &str, right: &str) -> u8 {
    let first = |text: &str| text.split(' ').next().unwrap_or_default().to_string();
    let (left_first, right_first) = (first(left), first(right));
    if left_first.len() == 1 || right_first.len() == 1 {
        return if left_first.get(..1) == right_first.get(..1) { 5 } else { 6 };
    }
    if let (Some(left_group), Some(right_group)) = (equivalent_group(&left_first), equivalent_group(&right_first))
        && left_group == right_group
    {
        return 2;
    }
    let similarity = jaro_winkler_above(left, right, 0.80);
    if similarity >= 0.92 {
        3
    } else if similarity >= 0.80 {
        4
    } else {
        6
    }
}

/// Days from 1 March of year 0 in the proleptic Gregorian calendar, shifted to stay positive:
/// only differences are used.
fn days_from_year_zero(year: i64, month: i64, day: i64) -> u32 {
    let month = month.clamp(1, 12);
    let day = day.clamp(1, 31);
    let (year, month) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let days = 365 * year + year.div_euclid(4) - year.div_euclid(100) + year.div_euclid(400) + (153 * month + 2) / 5 + day;
    u32::try_from(days + 1_000_000).unwrap_or(0)
}

/// Blocking settings of a model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingSpec {
    /// Keep the built-in rules (names, dates, places and contacts in their tolerant forms).
    #[serde(default = "default_true")]
    pub built_in_rules: bool,
    /// Rules of one to three parts each; two records are compared when they agree exactly on
    /// every part of any rule.
    #[serde(default)]
    pub rules: Vec<Vec<String>>,
}

fn default_true() -> bool {
    true
}

impl Default for BlockingSpec {
    fn default() -> Self {
        BlockingSpec { built_in_rules: true, rules: Vec::new() }
    }
}

/// A model file, read and checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// The model file's format; 1 is the only one.
    pub version: u32,
    /// The built-in person fields compared, by name (`Field::name`).
    #[serde(default = "all_person_field_names")]
    pub person_fields: Vec<String>,
    #[serde(default, rename = "field")]
    pub fields: Vec<ExtraField>,
    #[serde(default)]
    pub blocking: BlockingSpec,
}

fn all_person_field_names() -> Vec<String> {
    ALL_FIELDS.iter().map(|field| field.name().to_string()).collect()
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec { version: 1, person_fields: all_person_field_names(), fields: Vec::new(), blocking: BlockingSpec::default() }
    }
}

/// Why a model file was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    #[error("the model file is not valid TOML for a model: {0}")]
    Toml(String),
    #[error("the model file has version {0}; this build reads version 1 (write `version = 1`)")]
    Version(u32),
    #[error("person_fields: {0:?} is not a person field; the person fields are {1}")]
    UnknownPersonField(String, String),
    #[error("person_fields: given_name and family_name are needed: records are matched on names first")]
    NamesRequired,
    #[error("field {0:?}: a field of that name exists already (names are unique, and the person fields' names are taken)")]
    DuplicateName(String),
    #[error("field {0:?}: a name is letters, digits and underscores, starting with a letter")]
    BadName(String),
    #[error("at most {MAX_EXTRA_FIELDS} fields may be added; this model file has {0}")]
    TooManyFields(usize),
    #[error("field {name:?}: {message}")]
    BadThresholds { name: String, message: String },
    #[error("blocking rule {rule}: {message}")]
    BadRule { rule: usize, message: String },
}

impl ModelSpec {
    /// Reads and checks a model file.
    pub fn from_toml(text: &str) -> Result<Self, SpecError> {
        let mut spec: ModelSpec = toml::from_str(text).map_err(|error| SpecError::Toml(error.to_string()))?;
        spec.check_and_fill()?;
        Ok(spec)
    }

    /// Checks a spec and gives comparisons without thresholds their defaults.
    pub fn check_and_fill(&mut self) -> Result<(), SpecError> {
        if self.version != 1 {
            return Err(SpecError::Version(self.version));
        }
        let names = all_person_field_names();
        for field in &self.person_fields {
            if !names.contains(field) {
                return Err(SpecError::UnknownPersonField(field.clone(), names.join(", ")));
            }
        }
        if !(self.person_fields.iter().any(|field| field == "given_name") && self.person_fields.iter().any(|field| field == "family_name")) {
            return Err(SpecError::NamesRequired);
        }
        if self.fields.len() > MAX_EXTRA_FIELDS {
            return Err(SpecError::TooManyFields(self.fields.len()));
        }
        let mut seen: Vec<String> = names;
        seen.extend(["full_name", "record_id", "country"].map(String::from));
        for field in &mut self.fields {
            let valid_name = field.name.chars().next().is_some_and(|first| first.is_ascii_alphabetic())
                && field.name.chars().all(|character| character.is_ascii_alphanumeric() || character == '_');
            if !valid_name {
                return Err(SpecError::BadName(field.name.clone()));
            }
            if seen.contains(&field.name) {
                return Err(SpecError::DuplicateName(field.name.clone()));
            }
            seen.push(field.name.clone());
            let bad = |message: String| SpecError::BadThresholds { name: field.name.clone(), message };
            if !field.comparison.takes_thresholds() {
                if !field.thresholds.is_empty() {
                    return Err(bad(format!("a {:?} comparison takes no thresholds", field.comparison).to_lowercase()));
                }
                continue;
            }
            if field.thresholds.is_empty() {
                field.thresholds = field.comparison.default_thresholds().to_vec();
            }
            if field.thresholds.len() > MAX_THRESHOLDS {
                return Err(bad(format!("at most {MAX_THRESHOLDS} thresholds")));
            }
            let ordered = match field.comparison {
                Comparison::String => {
                    field.thresholds.iter().all(|threshold| *threshold > 0.0 && *threshold < 1.0) && field.thresholds.windows(2).all(|pair| pair[0] > pair[1])
                }
                _ => {
                    field.thresholds.iter().all(|threshold| threshold.is_finite() && *threshold > 0.0)
                        && field.thresholds.windows(2).all(|pair| pair[0] < pair[1])
                }
            };
            if !ordered {
                let expected = match field.comparison {
                    Comparison::String => "similarities between 0 and 1, highest first, such as [0.92, 0.80]",
                    Comparison::Number => "positive differences, smallest first, such as [1, 5]",
                    _ => "positive numbers of days, fewest first, such as [31, 366]",
                };
                return Err(bad(format!("thresholds are {expected}")));
            }
        }
        for (index, rule) in self.blocking.rules.iter().enumerate() {
            self.rule_parts(rule).map_err(|message| SpecError::BadRule { rule: index + 1, message })?;
        }
        if !self.blocking.built_in_rules && self.blocking.rules.is_empty() {
            return Err(SpecError::BadRule { rule: 0, message: "with built_in_rules = false, declare at least one rule".into() });
        }
        Ok(())
    }

    /// The built-in person fields this spec compares.
    pub fn person_field_list(&self) -> Vec<Field> {
        ALL_FIELDS.iter().copied().filter(|field| self.person_fields.iter().any(|name| name == field.name())).collect()
    }

    /// The position of an added field, by name.
    pub fn extra_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|field| field.name == name)
    }

    fn rule_parts(&self, rule: &[String]) -> Result<[RulePart; 3], String> {
        if rule.is_empty() || rule.len() > 3 {
            return Err(format!("a rule has one to three parts, not {}", rule.len()));
        }
        let mut parts = [RulePart::Unused; 3];
        for (slot, name) in parts.iter_mut().zip(rule) {
            *slot = match RulePart::built_in(name) {
                Some(part) => part,
                None => match self.extra_index(name) {
                    Some(index) => RulePart::Extra(index as u8),
                    None => return Err(format!("{name:?} is neither an added field nor one of {}", RulePart::BUILT_IN_NAMES.join(", "))),
                },
            };
        }
        Ok(parts)
    }

    /// The blocking rules: the built-in ones (when kept) and then the declared ones.
    pub fn blocking_rules(&self) -> Vec<BlockingRule> {
        let mut rules: Vec<BlockingRule> = if self.blocking.built_in_rules { ALL_RULES.to_vec() } else { Vec::new() };
        rules.extend(self.blocking.rules.iter().filter_map(|rule| self.rule_parts(rule).ok()).map(BlockingRule::Declared));
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(comparison: Comparison, thresholds: &[f64]) -> ExtraField {
        let mut spec = ModelSpec::default();
        spec.fields.push(ExtraField {
            name: "x".into(),
            columns: Vec::new(),
            comparison,
            thresholds: thresholds.to_vec(),
            term_frequencies: false,
            shared_in_household: false,
        });
        spec.check_and_fill().expect("valid");
        spec.fields.remove(0)
    }

    #[test]
    fn the_default_model_file_reads_as_the_person_model() {
        let spec = ModelSpec::from_toml(DEFAULT_MODEL_SPEC).expect("the shipped model file reads");
        assert_eq!(spec.person_field_list(), ALL_FIELDS.to_vec());
        assert!(spec.fields.is_empty());
        assert_eq!(spec.blocking_rules(), ALL_RULES.to_vec());
        assert_eq!(spec, ModelSpec::default());
    }

    #[test]
    fn numbers_and_dates_compare_by_distance() {
        let age = field(Comparison::Number, &[]);
        let value = |text: &str| age.numeric_value(&age.normalise(text).expect("a number")).expect("numeric");
        let no_text = &Interner::default();
        assert_eq!(age.compare(value("34"), value("34.0"), no_text), 1);
        assert_eq!(age.compare(value("34"), value("35"), no_text), 2);
        assert_eq!(age.compare(value("34"), value("38"), no_text), 3);
        assert_eq!(age.compare(value("34"), value("60"), no_text), 4);
        assert!(age.normalise("thirty").is_err());
        let baptism = field(Comparison::Date, &[]);
        let date = |text: &str| baptism.numeric_value(&baptism.normalise(text).expect("a date")).expect("numeric");
        assert_eq!(baptism.compare(date("1850-02-28"), date("1850-03-01"), no_text), 2, "a day apart across February");
        assert_eq!(baptism.compare(date("1852-02-28"), date("1852-03-01"), no_text), 2, "two days in a leap year");
        assert_eq!(baptism.compare(date("12/03/1850"), date("1850-03-12"), no_text), 1);
        assert_eq!(baptism.compare(date("1850"), date("1850-08-01"), no_text), 2, "a year alone sits mid-year");
        assert_eq!(baptism.compare(date("1850"), date("1850-12-01"), no_text), 3);
        assert_eq!(baptism.compare(date("1850"), date("1855"), no_text), 4);
    }

    #[test]
    fn a_bad_model_file_says_what_is_wrong() {
        let error = |text: &str| ModelSpec::from_toml(text).expect_err("refused").to_string();
        assert!(error("version = 2").contains("version 2"));
        assert!(error("version = 1\nperson_fields = [\"given_name\", \"family_name\", \"shoe_size\"]").contains("\"shoe_size\" is not a person field"));
        assert!(error("version = 1\nperson_fields = [\"dob\"]").contains("given_name and family_name"));
        assert!(error("version = 1\n[[field]]\nname = \"town\"\ncomparison = \"fuzzy\"").contains("not valid TOML"));
        assert!(error("version = 1\n[[field]]\nname = \"dob\"\ncomparison = \"exact\"").contains("exists already"));
        assert!(error("version = 1\n[[field]]\nname = \"town\"\ncomparison = \"string\"\nthresholds = [0.8, 0.9]").contains("highest first"));
        assert!(error("version = 1\n[[field]]\nname = \"sex\"\ncomparison = \"exact\"\nthresholds = [1]").contains("takes no thresholds"));
        assert!(error("version = 1\n[blocking]\nrules = [[\"town\"]]").contains("\"town\" is neither"));
        assert!(error("version = 1\n[blocking]\nbuilt_in_rules = false").contains("at least one rule"));
        assert!(error("version = 1\ncolour = \"blue\"").contains("unknown field"));
    }

    #[test]
    fn typed_fields_read_with_their_parsers() {
        let postcode = field(Comparison::Postcode, &[]);
        assert_eq!(postcode.normalise("lu1 1aa").as_deref(), Ok("LU1 1AA"));
        let phone = field(Comparison::Phone, &[]);
        assert_eq!(phone.normalise("07911 123456").as_deref(), Ok("+447911123456"));
        let registration = field(Comparison::Registration, &[]);
        assert_eq!(registration.normalise("ab12 cde").as_deref(), Ok("AB12CDE"));
        let email = field(Comparison::Email, &[]);
        assert!(email.normalise("not an address").is_err());
        let town = field(Comparison::String, &[0.9]);
        assert_eq!(town.normalise(" Bédford ").as_deref(), Ok("bedford"));
        assert_eq!(town.level_names(), vec!["missing", "exact", "Jaro-Winkler >= 0.9", "different"]);
    }
}
