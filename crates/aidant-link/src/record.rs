//! Person records: raw fields as given, their typed parse with per-field diagnostics, and input
//! read from CSV or from rows another format has split, with the column mapping and warnings.

use aidant_core::csv_quotes::{QuoteCheck, UnclosedQuote};

use crate::dob::PartialDate;
use crate::email::Email;
use crate::name::{PersonName, fold_text};
use crate::phone::{PhoneE164, PhoneError, compact_phone, is_plain_uk_number};
use crate::postcode::Postcode;
use crate::spec::{ExtraField, ModelSpec};
use crate::vrm::Vrm;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

/// The fields of one person as a report or a file gives them, before any parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawPerson {
    pub record_id: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Used when the name comes as one string; its order is inferred.
    pub full_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub vrm: Option<String>,
    /// Passport, national insurance or any other identity number.
    pub id_number: Option<String>,
    /// ISO region code used to read nationally written phone numbers (e.g. "RO").
    pub country: Option<String>,
    /// The values of a model file's added fields (`spec::ExtraField`), in its order.
    #[serde(default)]
    pub extra: Vec<Option<String>>,
}

/// A postcode: parsed when it is a UK one, otherwise kept as written (upper case, no spaces).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PostcodeValue {
    Uk(Postcode),
    Other(String),
}

/// A telephone number: E.164 when valid, otherwise its digits, so that two reports of the same
/// mistyped number still agree.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PhoneValue {
    E164(PhoneE164),
    Digits(String),
}

impl PhoneValue {
    pub fn key(&self) -> &str {
        match self {
            PhoneValue::E164(phone) => phone.as_str(),
            PhoneValue::Digits(digits) => digits,
        }
    }
}

/// A person record after parsing: every field typed or absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    pub record_id: String,
    /// Which input the record came from (file index in batch mode); link-only mode pairs across sources only.
    pub source: u16,
    pub name: Option<PersonName>,
    pub date_of_birth: Option<PartialDate>,
    /// Folded address text with common street abbreviations expanded.
    pub address: Option<String>,
    pub postcode: Option<PostcodeValue>,
    pub phone: Option<PhoneValue>,
    pub email: Option<Email>,
    pub vrm: Option<Vrm>,
    pub id_number: Option<String>,
    /// A model file's added fields, each read by `ExtraField::normalise`, in the model file's order.
    #[serde(default)]
    pub extra: Vec<Option<String>>,
}

/// The diagnostic column of a phone number read in a country guessed from the family name
/// (`origin::region_of_name`): a note, not a failure, so not counted as unparseable.
pub const PHONE_COUNTRY_GUESSED: &str = "phone (country guessed)";

/// A field that could not be parsed (the record is kept without it), or a date of birth kept as
/// written, or a phone number read in a guessed country (`PHONE_COUNTRY_GUESSED`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDiagnostic {
    pub record_id: String,
    /// The field (a person field's name, or an added field's).
    pub column: Cow<'static, str>,
    pub message: String,
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|text| !text.is_empty())
}

/// Expands the abbreviations reporters use, so "12 Station Rd" equals "12 station road".
pub fn normalise_address(raw: &str) -> String {
    fold_text(raw)
        .split(' ')
        .map(|word| match word {
            "rd" => "road",
            "st" => "street",
            "ave" | "av" => "avenue",
            "ln" => "lane",
            "dr" => "drive",
            "cl" => "close",
            "cres" => "crescent",
            "ct" => "court",
            "pl" => "place",
            "sq" => "square",
            "gdns" => "gardens",
            "hse" => "house",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl RawPerson {
    /// Parses every field; a field that fails becomes a diagnostic, never a failure of the record.
    pub fn parse(&self, source: u16) -> (PersonRecord, Vec<FieldDiagnostic>) {
        let (mut record, mut diagnostics) = self.parse_except_phone(source);
        self.attach_phone(&mut record, &mut diagnostics, &HashMap::new());
        (record, diagnostics)
    }

    /// The phone field's lookup key: the number's compact form (numbers with one compact form
    /// always parse alike) and the region hint.
    fn phone_key(&self) -> Option<(String, String)> {
        present(&self.phone).map(|raw| (compact_phone(raw).into_owned(), present(&self.country).unwrap_or("").to_string()))
    }

    /// Parses the phone number (taken from `parsed_phones` when it holds it) into `record`; its
    /// diagnostic goes where `parse` lists it, after those of the name and the date of birth.
    fn attach_phone(
        &self,
        record: &mut PersonRecord,
        diagnostics: &mut Vec<FieldDiagnostic>,
        parsed_phones: &HashMap<(String, String), Result<PhoneE164, PhoneError>>,
    ) {
        let Some(raw) = present(&self.phone) else { return };
        let hints: Vec<&str> = present(&self.country).into_iter().collect();
        let parsed = match self.phone_key().and_then(|key| parsed_phones.get(&key)) {
            Some(parsed) => parsed.clone().map_err(|error| error.with_input(raw)),
            None => PhoneE164::parse_with_hints(raw, &hints),
        };
        // No country given and not a UK number: perhaps a national number of the country the
        // family name comes from ("0722 123 456" beside "+40 722 123 456"), said as a guess.
        let guessed = match &parsed {
            Err(_) if hints.is_empty() => record.name.as_ref().and_then(crate::origin::region_of_name).and_then(|region| {
                let phone = PhoneE164::parse(raw, Some(region)).ok()?;
                Some((phone, region))
            }),
            _ => None,
        };
        if let Some((phone, region)) = guessed {
            diagnostics.push(FieldDiagnostic {
                record_id: self.record_id.clone(),
                column: Cow::Borrowed(PHONE_COUNTRY_GUESSED),
                message: format!(
                    "not a UK number; read as a {region} number, the country the family name most likely comes from (a guess: give a country column to be sure)"
                ),
            });
            record.phone = Some(PhoneValue::E164(phone));
            return;
        }
        record.phone = match parsed {
            Ok(phone) => Some(PhoneValue::E164(phone)),
            Err(error) => {
                let position = diagnostics.iter().take_while(|diagnostic| matches!(diagnostic.column.as_ref(), "given_name" | "full_name" | "dob")).count();
                diagnostics.insert(position, FieldDiagnostic { record_id: self.record_id.clone(), column: Cow::Borrowed("phone"), message: error.to_string() });
                let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
                (digits.len() >= 6).then_some(PhoneValue::Digits(digits))
            }
        };
    }

    /// Parses every field but the phone number, which batches parse apart (see `parse_chunk`).
    fn parse_except_phone(&self, source: u16) -> (PersonRecord, Vec<FieldDiagnostic>) {
        let mut diagnostics = Vec::new();
        let mut note = |column: &'static str, message: String| {
            diagnostics.push(FieldDiagnostic { record_id: self.record_id.clone(), column: Cow::Borrowed(column), message });
        };
        let name = if present(&self.given_name).is_some() || present(&self.family_name).is_some() {
            PersonName::from_parts(present(&self.given_name).unwrap_or(""), present(&self.family_name).unwrap_or(""))
                .map_err(|error| note("given_name", error.to_string()))
                .ok()
        } else if let Some(full) = present(&self.full_name) {
            PersonName::parse_full(full).map_err(|error| note("full_name", error.to_string())).ok()
        } else {
            None
        };
        // A date whose day or month does not exist is kept as written, and counted: it still
        // agrees with the date it was meant to be on the parts written right.
        let date_of_birth = present(&self.date_of_birth).and_then(|raw| match PartialDate::parse_as_written(raw) {
            Ok((date, None)) => Some(date),
            Ok((date, Some(error))) => {
                note("dob", format!("{error} (kept as written, to compare part by part)"));
                Some(date)
            }
            Err(error) => {
                note("dob", error.to_string());
                None
            }
        });
        let postcode = present(&self.postcode).map(|raw| match Postcode::parse(raw) {
            Ok(postcode) => PostcodeValue::Uk(postcode),
            Err(_) => PostcodeValue::Other(raw.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect()),
        });
        let address = present(&self.address).map(normalise_address).filter(|address| !address.is_empty());
        let email = present(&self.email).and_then(|raw| Email::parse(raw).map_err(|error| note("email", error.to_string())).ok());
        let vrm = present(&self.vrm).and_then(|raw| Vrm::parse_with_country(raw, present(&self.country)).map_err(|error| note("vrm", error.to_string())).ok());
        let id_number = present(&self.id_number)
            .map(|raw| raw.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect::<String>())
            .filter(|id| !id.is_empty());
        let record = PersonRecord {
            record_id: self.record_id.trim().to_string(),
            source,
            name,
            date_of_birth,
            address,
            postcode,
            phone: None,
            email,
            vrm,
            id_number,
            extra: Vec::new(),
        };
        (record, diagnostics)
    }

    /// Reads the values of a model file's added fields into `record`; a value that does not read
    /// becomes a diagnostic under the field's name.
    fn attach_extras(&self, extras: &[ExtraField], record: &mut PersonRecord, diagnostics: &mut Vec<FieldDiagnostic>) {
        record.extra = extras
            .iter()
            .enumerate()
            .map(|(index, field)| {
                let raw = present(self.extra.get(index)?)?;
                field
                    .normalise(raw)
                    .map_err(|message| {
                        diagnostics.push(FieldDiagnostic { record_id: record.record_id.clone(), column: Cow::Owned(field.name.clone()), message });
                    })
                    .ok()
            })
            .collect();
    }
}

/// Why an input could not be read. CSV rows are numbered as in a spreadsheet (the header is row 1);
/// rows handed to `read_rows` (a Parquet file's) are numbered from 1, the first record.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("the input is empty: a header row naming the columns is required")]
    NoHeader,
    #[error("no column for {field}: name one of the columns {accepted}")]
    MissingColumn { field: &'static str, accepted: String },
    #[error("row {row}: {found} fields where the header has {expected}")]
    RaggedRow { row: u64, expected: u64, found: u64 },
    #[error("row {row}, column {column:?}: the text is not valid UTF-8 (save the file as UTF-8)")]
    Encoding { row: u64, column: String },
    #[error("row {row}, column {column:?}: the record id is empty")]
    EmptyRecordId { row: u64, column: String },
    #[error("row {row}, column {column:?}: record id {record_id:?} already used on row {first_row}")]
    DuplicateRecordId { row: u64, column: String, record_id: String, first_row: u64 },
    #[error("row {row}: {message}")]
    Malformed { row: u64, message: String },
    /// A quoted field never closed: everything after it would be one field.
    #[error("{0}")]
    UnclosedQuote(UnclosedQuote),
}

/// Column names accepted for each field, compared after `normalise_column_name` (so "First Name",
/// "first-name" and "FIRST_NAME" are all `first_name`). Only names whose meaning is unambiguous
/// are here: a column such as `middle_initial`, `town` or `notes` is reported as not used.
pub const COLUMN_ALIASES: &[(&str, &[&str])] = &[
    ("record_id", &["record_id", "rec_id", "recid", "id", "unique_id", "record"]),
    ("given_name", &["given_name", "first_name", "firstname", "forename", "forenames", "given", "given_names", "fname", "christian_name"]),
    ("family_name", &["family_name", "surname", "last_name", "lastname", "family", "lname", "family_names"]),
    ("full_name", &["full_name", "name", "fullname", "person_name"]),
    ("dob", &["dob", "date_of_birth", "birth_date", "birthdate", "dateofbirth", "d_o_b"]),
    ("street_number", &["street_number", "house_number", "street_no", "house_no", "housenumber", "building_number"]),
    ("address", &["address", "address_1", "street", "address_line_1", "street_name", "street_address", "address1", "address_line1", "streetname"]),
    ("address_2", &["address_2", "address_line_2", "address2", "address_line2"]),
    ("postcode", &["postcode", "post_code", "zip", "zipcode", "zip_code", "postal_code", "postalcode"]),
    ("phone", &["phone", "phone_number", "telephone", "mobile", "telephone_number", "mobile_number", "phone_no", "tel", "cell_phone"]),
    ("email", &["email", "email_address", "e_mail", "mail_address"]),
    ("vrm", &["vrm", "registration", "vehicle_registration", "vehicle_reg", "number_plate", "licence_plate", "license_plate"]),
    ("id_number", &["id_number", "soc_sec_id", "national_id", "passport_number", "passport_no", "ni_number", "national_insurance_number"]),
    ("country", &["country", "nationality", "country_code"]),
];

/// A column header as it is compared with `COLUMN_ALIASES`: trimmed, without a byte-order mark,
/// lower case, with spaces, hyphens and dots turned into underscores.
pub fn normalise_column_name(name: &str) -> String {
    name.trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .chars()
        .map(|character| if matches!(character, ' ' | '-' | '.') { '_' } else { character })
        .collect()
}

/// Which input column fills each field, and which columns are not used: printed at the start of
/// every run, so that nothing about the input is silently ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMapping {
    /// The header as given (trimmed, without a byte-order mark).
    pub names: Vec<String>,
    /// Each field that has a column, with the column's index, in the order of `COLUMN_ALIASES`.
    pub fields: Vec<(&'static str, usize)>,
    /// Columns that fill no field, by index.
    pub unused: Vec<usize>,
    /// Columns the caller asked to leave out (`InputOptions::leave_out`), by index.
    pub left_out: Vec<usize>,
    /// A model file's added fields, each with the index of the column that fills it, if any.
    pub extras: Vec<(String, Option<usize>)>,
}

impl ColumnMapping {
    /// Maps a header's columns to fields. When several columns could fill one field, the earliest
    /// alias in `COLUMN_ALIASES` wins and the others are reported as not used.
    ///
    /// Fails when no column holds the record id or a name.
    pub fn from_header(names: &[String], leave_out: &[String]) -> Result<Self, InputError> {
        Self::for_model(names, leave_out, &ModelSpec::default())
    }

    /// `from_header` for a model file: its added fields take their columns first, and the person
    /// fields it leaves out take none (their columns are listed as not used).
    pub fn for_model(names: &[String], leave_out: &[String], spec: &ModelSpec) -> Result<Self, InputError> {
        let names: Vec<String> = names.iter().map(|name| name.trim_start_matches('\u{feff}').trim().to_string()).collect();
        let normalised: Vec<String> = names.iter().map(|name| normalise_column_name(name)).collect();
        let leave_out: Vec<String> = leave_out.iter().map(|name| normalise_column_name(name)).collect();
        let left_out: Vec<usize> = (0..names.len()).filter(|index| leave_out.contains(&normalised[*index])).collect();
        let mut taken: Vec<bool> = (0..names.len()).map(|index| left_out.contains(&index)).collect();
        let mut extras = Vec::new();
        for extra in &spec.fields {
            let wanted: Vec<String> = extra.column_names().iter().map(|name| normalise_column_name(name)).collect();
            let column = wanted.iter().find_map(|alias| (0..names.len()).find(|index| !taken[*index] && normalised[*index] == *alias));
            if let Some(index) = column {
                taken[index] = true;
            }
            extras.push((extra.name.clone(), column));
        }
        let compared = |field: &str| {
            let person_field = match field {
                "street_number" | "address_2" => "address",
                other => other,
            };
            !crate::compare::ALL_FIELDS.iter().any(|known| known.name() == person_field) || spec.person_fields.iter().any(|name| name == person_field)
        };
        let mut fields = Vec::new();
        for (field, aliases) in COLUMN_ALIASES.iter().filter(|(field, _)| compared(field)) {
            let column = aliases.iter().find_map(|alias| (0..names.len()).find(|index| !taken[*index] && normalised[*index] == *alias));
            if let Some(index) = column {
                taken[index] = true;
                fields.push((*field, index));
            }
        }
        let unused = (0..names.len()).filter(|index| !taken[*index]).collect();
        let mapping = ColumnMapping { names, fields, unused, left_out, extras };
        let accepted = |field: &str| COLUMN_ALIASES.iter().find(|(name, _)| *name == field).map_or(String::new(), |(_, aliases)| aliases.join(", "));
        if mapping.column_of("record_id").is_none() {
            return Err(InputError::MissingColumn { field: "record_id", accepted: accepted("record_id") });
        }
        if !["given_name", "family_name", "full_name"].iter().any(|field| mapping.column_of(field).is_some()) {
            return Err(InputError::MissingColumn { field: "a name", accepted: format!("{} or {}", accepted("given_name"), accepted("full_name")) });
        }
        Ok(mapping)
    }

    /// The index of the column that fills `field`.
    pub fn column_of(&self, field: &str) -> Option<usize> {
        self.fields.iter().find(|(name, _)| *name == field).map(|(_, index)| *index)
    }

    /// The name of the column that fills `field`.
    pub fn column_name_of(&self, field: &str) -> Option<&str> {
        self.column_of(field).map(|index| self.names[index].as_str())
    }

    /// The names of the columns that fill no field.
    pub fn unused_names(&self) -> Vec<&str> {
        self.unused.iter().map(|index| self.names[*index].as_str()).collect()
    }

    /// The names of the columns left out on request.
    pub fn left_out_names(&self) -> Vec<&str> {
        self.left_out.iter().map(|index| self.names[*index].as_str()).collect()
    }

    fn text(&self, row: &impl InputRow, index: usize, row_number: u64) -> Result<Option<String>, InputError> {
        let text = row.text(index).map_err(|NotUtf8| InputError::Encoding { row: row_number, column: self.names[index].clone() })?;
        Ok(text.filter(|text| !text.trim().is_empty()).map(str::to_string))
    }

    fn field(&self, row: &impl InputRow, field: &str, row_number: u64) -> Result<Option<String>, InputError> {
        match self.column_of(field) {
            Some(index) => self.text(row, index, row_number),
            None => Ok(None),
        }
    }

    fn record_id(&self, row: &impl InputRow, row_number: u64) -> Result<String, InputError> {
        let index = self.column_of("record_id").unwrap_or_default();
        self.text(row, index, row_number)?
            .map(|id| id.trim().to_string())
            .ok_or_else(|| InputError::EmptyRecordId { row: row_number, column: self.names[index].clone() })
    }

    /// Every field but the record id, which `record_id` reads.
    fn raw_person(&self, row: &impl InputRow, row_number: u64) -> Result<RawPerson, InputError> {
        let field = |name: &str| self.field(row, name, row_number);
        let address_parts: Vec<String> = [field("street_number")?, field("address")?, field("address_2")?].into_iter().flatten().collect();
        Ok(RawPerson {
            record_id: String::new(),
            given_name: field("given_name")?,
            family_name: field("family_name")?,
            full_name: field("full_name")?,
            date_of_birth: field("dob")?,
            address: (!address_parts.is_empty()).then(|| address_parts.join(" ")),
            postcode: field("postcode")?,
            phone: field("phone")?,
            email: field("email")?,
            vrm: field("vrm")?,
            id_number: field("id_number")?,
            country: field("country")?,
            extra: self
                .extras
                .iter()
                .map(|(_, column)| match column {
                    Some(index) => self.text(row, *index, row_number),
                    None => Ok(None),
                })
                .collect::<Result<_, _>>()?,
        })
    }
}

/// How to read an input.
#[derive(Debug, Clone, Default)]
pub struct InputOptions {
    /// The CSV delimiter; `None` detects it from the header line (`detect_delimiter`).
    pub delimiter: Option<u8>,
    /// Columns to read as if they were absent (by name, compared as `normalise_column_name` does):
    /// the constant columns a first read found (`ParsedInput::constant_columns`).
    pub leave_out: Vec<String>,
    /// The model the records are read for: its added fields are read from their columns, and the
    /// person fields it leaves out are not read.
    pub model: ModelSpec,
}

/// The delimiters `detect_delimiter` chooses from, in the order ties are broken.
pub const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The delimiter of a CSV file, from its header line: whichever of comma, semicolon, tab and pipe
/// occurs most often outside double quotes; a comma when none occurs (a file of one column).
pub fn detect_delimiter(header_line: &[u8]) -> u8 {
    let mut counts = [0usize; DELIMITERS.len()];
    let mut quoted = false;
    for byte in header_line {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(position) = DELIMITERS.iter().position(|delimiter| delimiter == byte) {
                    counts[position] += 1;
                }
            }
            _ => {}
        }
    }
    let best = (0..DELIMITERS.len()).fold(0, |best, position| if counts[position] > counts[best] { position } else { best });
    DELIMITERS[best]
}

/// A column's text was not UTF-8.
struct NotUtf8;

/// One row of an input, however the format splits it.
trait InputRow: Sync {
    /// The text of column `index`; `None` when the row has no such column or the value is null.
    fn text(&self, index: usize) -> Result<Option<&str>, NotUtf8>;
}

impl InputRow for csv::ByteRecord {
    fn text(&self, index: usize) -> Result<Option<&str>, NotUtf8> {
        self.get(index).map(std::str::from_utf8).transpose().map_err(|_| NotUtf8)
    }
}

impl InputRow for Vec<Option<String>> {
    fn text(&self, index: usize) -> Result<Option<&str>, NotUtf8> {
        Ok(self.get(index).and_then(Option::as_deref))
    }
}

/// A warning about a whole column, shown at the top of the summary (`aidant link --strict` stops on one).
#[derive(Debug, Clone, PartialEq)]
pub enum InputWarning {
    /// More than `MAX_UNPARSEABLE_SHARE` of a field's non-blank values could not be parsed.
    Unparseable { field: Cow<'static, str>, columns: Vec<String>, unparseable: u64, non_blank: u64 },
    /// One value fills at least `CONSTANT_SHARE` of a column's non-blank rows (at least
    /// `CONSTANT_MIN_ROWS` of them): it tells no one apart, and every pair would agree on it.
    /// `left_out` says whether the records were read without it (`InputOptions::leave_out`).
    Constant { field: Cow<'static, str>, column: String, most_common: u64, non_blank: u64, left_out: bool },
}

/// The share of a field's non-blank values that may fail to parse before a warning.
pub const MAX_UNPARSEABLE_SHARE: f64 = 0.05;
/// The share of a column's non-blank rows one value may fill before the column counts as constant.
pub const CONSTANT_SHARE: f64 = 0.99;
/// The fewest non-blank rows on which a column is judged constant.
pub const CONSTANT_MIN_ROWS: u64 = 20;

impl std::fmt::Display for InputWarning {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let percent = |part: u64, whole: u64| 100.0 * part as f64 / whole.max(1) as f64;
        match self {
            InputWarning::Unparseable { field, columns, unparseable, non_blank } => {
                let what = match field.as_ref() {
                    "phone" => "could not be read as phone numbers (they are compared by their digits alone)",
                    "dob" => "could not be read as dates (those with a day or month that does not exist are kept as written; the rest were dropped)",
                    _ => "could not be parsed and were dropped",
                };
                write!(
                    formatter,
                    "column {} ({field}): {unparseable} of {non_blank} non-blank values ({:.1}%) {what}",
                    columns.join(" and "),
                    percent(*unparseable, *non_blank)
                )
            }
            InputWarning::Constant { field, column, most_common, non_blank, left_out } => {
                write!(
                    formatter,
                    "column {column} ({field}) is constant: one value fills {most_common} of its {non_blank} non-blank rows ({:.1}%), so it tells no one apart and every pair would agree on it; ",
                    percent(*most_common, *non_blank)
                )?;
                if *left_out {
                    write!(formatter, "it was left out (its field cleared on every record)")
                } else {
                    write!(formatter, "read the input again with it in `leave_out` to leave it out")
                }
            }
        }
    }
}

/// Records, diagnostics and warnings read from one input.
#[derive(Debug)]
pub struct ParsedInput {
    pub records: Vec<PersonRecord>,
    pub diagnostics: Vec<FieldDiagnostic>,
    /// Which column became which field.
    pub columns: ColumnMapping,
    /// How many rows of each used column were not blank, by column index.
    pub non_blank: Vec<(usize, u64)>,
    pub warnings: Vec<InputWarning>,
}

impl ParsedInput {
    /// The constant columns that were not left out: read the input again with these in
    /// `InputOptions::leave_out` (as `aidant link` does) to leave them out.
    pub fn constant_columns(&self) -> Vec<String> {
        self.warnings
            .iter()
            .filter_map(|warning| match warning {
                InputWarning::Constant { column, left_out: false, .. } => Some(column.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Rows parsed together: parsing (phone numbers above all) is the slow part and runs in parallel,
/// while chunks keep the raw text of only a few thousand rows in memory at once.
const PARSE_CHUNK: usize = 65_536;

/// A phone number's compact form and the row's region hint.
type PhoneKey = (String, String);

/// One row turned into text: its row number, its record id and its other fields.
type ConvertedRow = (u64, Result<String, InputError>, Result<RawPerson, InputError>);

/// Parses the phone numbers of many records that `parsed_phones` does not hold yet, each compact
/// form once, and adds them to it; the map lives for the whole input, so a number repeated across
/// chunks is parsed once.
///
/// libphonenumber's port keeps compiled patterns in one small shared cache; numbers of one country
/// parsed together reuse its patterns, where records in file order would keep evicting them.
fn parse_phones(raw_people: &[RawPerson], parsed_phones: &mut HashMap<(String, String), Result<PhoneE164, PhoneError>>) {
    let mut keys: Vec<(String, String)> = raw_people.iter().filter_map(RawPerson::phone_key).filter(|key| !parsed_phones.contains_key(key)).collect();
    let country_order = |compact: &str| match compact.strip_prefix('+') {
        Some(digits) => format!("1{digits}"),
        None => format!("0{compact}"),
    };
    keys.sort_by_cached_key(|(compact, country)| (country.clone(), country_order(compact)));
    keys.dedup();
    // UK numbers written plainly are validated without libphonenumber's lock (`PhoneE164::parse`),
    // so they are parsed in parallel; the rest one at a time, because the pattern cache sits
    // behind one mutex and threads contending for it were measured slower than one thread.
    let (plain, others): (Vec<PhoneKey>, Vec<PhoneKey>) = keys.into_iter().partition(|(compact, country)| country.is_empty() && is_plain_uk_number(compact));
    let plain_parsed: Vec<(PhoneKey, Result<PhoneE164, PhoneError>)> = plain
        .into_par_iter()
        .map(|key| {
            let parsed = PhoneE164::parse(&key.0, None);
            (key, parsed)
        })
        .collect();
    parsed_phones.extend(plain_parsed);
    for (compact, country) in others {
        let hints: Vec<&str> = if country.is_empty() { Vec::new() } else { vec![country.as_str()] };
        let parsed = PhoneE164::parse_with_hints(&compact, &hints);
        parsed_phones.insert((compact, country), parsed);
    }
}

/// The fields a parse diagnostic can name (`FieldDiagnostic::column`), each with the fields whose
/// columns its values come from.
const DIAGNOSED_FIELDS: [(&str, &[&str]); 6] = [
    ("given_name", &["given_name", "family_name"]),
    ("full_name", &["full_name"]),
    ("dob", &["dob"]),
    ("phone", &["phone"]),
    ("email", &["email"]),
    ("vrm", &["vrm"]),
];

/// How many records gave a value to each diagnosed field (`DIAGNOSED_FIELDS`'s order): the
/// denominators of the unparseable shares.
fn present_counts(raw: &RawPerson) -> [u64; 6] {
    let parts = present(&raw.given_name).is_some() || present(&raw.family_name).is_some();
    [
        u64::from(parts),
        u64::from(!parts && present(&raw.full_name).is_some()),
        u64::from(present(&raw.date_of_birth).is_some()),
        u64::from(present(&raw.phone).is_some()),
        u64::from(present(&raw.email).is_some()),
        u64::from(present(&raw.vrm).is_some()),
    ]
}

/// Counts of one used column's values, to find a constant column: each value is counted by a
/// fixed 64-bit hash of its trimmed, lower-cased text, so no value is kept.
struct ColumnCounts {
    field: Cow<'static, str>,
    index: usize,
    non_blank: u64,
    counts: crate::features::FastHashMap<u64, u32>,
}

impl ColumnCounts {
    fn add(&mut self, text: &str) {
        use std::hash::{BuildHasher, Hasher};
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.non_blank += 1;
        let mut hasher = foldhash::fast::FixedState::with_seed(0x5eed).build_hasher();
        for character in text.chars().flat_map(char::to_lowercase) {
            hasher.write_u32(u32::from(character));
        }
        *self.counts.entry(hasher.finish()).or_insert(0) += 1;
    }
}

/// Reads rows in chunks into records: the rows of a chunk are turned into text in parallel and
/// then checked in order, so that the first bad row of the input is the one reported, as if it
/// were read row by row; then the chunk is parsed in parallel.
struct ChunkedReader<'a> {
    mapping: &'a ColumnMapping,
    extras: &'a [ExtraField],
    /// Rows that gave each added field a value.
    extras_present: Vec<u64>,
    source: u16,
    records: Vec<PersonRecord>,
    diagnostics: Vec<FieldDiagnostic>,
    first_row_of_id: crate::features::FastHashMap<String, u64>,
    raw_people: Vec<RawPerson>,
    parsed_phones: HashMap<(String, String), Result<PhoneE164, PhoneError>>,
    column_counts: Vec<ColumnCounts>,
    present: [u64; 6],
}

impl<'a> ChunkedReader<'a> {
    fn new(mapping: &'a ColumnMapping, extras: &'a [ExtraField], source: u16) -> Self {
        // The record id is unique by construction, and the country is a hint for reading phone
        // numbers that one country's file rightly holds in every row: neither is judged constant.
        let column_counts = mapping
            .fields
            .iter()
            .filter(|(field, _)| !matches!(*field, "record_id" | "country"))
            .map(|&(field, index)| ColumnCounts { field: Cow::Borrowed(field), index, non_blank: 0, counts: Default::default() })
            .chain(mapping.extras.iter().filter_map(|(name, column)| {
                column.map(|index| ColumnCounts { field: Cow::Owned(name.clone()), index, non_blank: 0, counts: Default::default() })
            }))
            .collect();
        ChunkedReader {
            mapping,
            extras,
            extras_present: vec![0; extras.len()],
            source,
            records: Vec::new(),
            diagnostics: Vec::new(),
            first_row_of_id: Default::default(),
            raw_people: Vec::new(),
            parsed_phones: HashMap::new(),
            column_counts,
            present: [0; 6],
        }
    }

    /// Checks a chunk of rows in order and adds them as raw people; stops at the first bad row.
    fn check<R: InputRow>(&mut self, rows: &mut Vec<(u64, R)>) -> Result<(), InputError> {
        let mapping = self.mapping;
        let converted: Vec<ConvertedRow> =
            rows.par_iter().map(|(row, record)| (*row, mapping.record_id(record, *row), mapping.raw_person(record, *row))).collect();
        let record_id_column = &mapping.names[mapping.column_of("record_id").unwrap_or_default()];
        for (row, record_id, raw) in converted {
            let record_id = record_id?;
            if let Some(&first_row) = self.first_row_of_id.get(&record_id) {
                return Err(InputError::DuplicateRecordId { row, column: record_id_column.clone(), record_id, first_row });
            }
            self.first_row_of_id.insert(record_id.clone(), row);
            self.raw_people.push(RawPerson { record_id, ..raw? });
        }
        // Every row is text now: count the used columns' values, a column per thread.
        let checked: &[(u64, R)] = rows;
        self.column_counts.par_iter_mut().for_each(|counts| {
            for (_, row) in checked {
                if let Ok(Some(text)) = row.text(counts.index) {
                    counts.add(text);
                }
            }
        });
        rows.clear();
        Ok(())
    }

    /// Parses the raw people checked so far.
    fn parse(&mut self) {
        for raw in &self.raw_people {
            for (total, present) in self.present.iter_mut().zip(present_counts(raw)) {
                *total += present;
            }
            for (total, value) in self.extras_present.iter_mut().zip(&raw.extra) {
                *total += u64::from(present(value).is_some());
            }
        }
        let source = self.source;
        let raw_people = &self.raw_people;
        // Phone numbers are parsed on one thread (see `parse_phones`) while the other fields of the
        // same rows are parsed on the others, then each record takes its number from the map.
        let parsed_phones = &mut self.parsed_phones;
        let (_, mut results) = rayon::join(
            || parse_phones(raw_people, parsed_phones),
            || raw_people.par_iter().map(|raw| raw.parse_except_phone(source)).collect::<Vec<(PersonRecord, Vec<FieldDiagnostic>)>>(),
        );
        let parsed_phones = &self.parsed_phones;
        let extras = self.extras;
        results.par_iter_mut().zip(raw_people.par_iter()).for_each(|((record, diagnostics), raw)| {
            raw.attach_phone(record, diagnostics, parsed_phones);
            raw.attach_extras(extras, record, diagnostics);
        });
        self.raw_people.clear();
        for (record, diagnostics) in results {
            self.records.push(record);
            self.diagnostics.extend(diagnostics);
        }
    }

    /// Adds a chunk of rows: checks them, then parses them.
    fn add_chunk<R: InputRow>(&mut self, rows: &mut Vec<(u64, R)>) -> Result<(), InputError> {
        self.check(rows)?;
        self.parse();
        Ok(())
    }

    fn finish(self) -> ParsedInput {
        let mapping = self.mapping;
        let mut warnings = Vec::new();
        for (&(field, fields), present) in DIAGNOSED_FIELDS.iter().zip(self.present) {
            let unparseable = self.diagnostics.iter().filter(|diagnostic| diagnostic.column == field).count() as u64;
            if present > 0 && unparseable as f64 > MAX_UNPARSEABLE_SHARE * present as f64 {
                let columns = fields.iter().filter_map(|field| mapping.column_name_of(field)).map(str::to_string).collect();
                warnings.push(InputWarning::Unparseable { field: Cow::Borrowed(field), columns, unparseable, non_blank: present });
            }
        }
        for ((name, column), present) in mapping.extras.iter().zip(&self.extras_present) {
            let unparseable = self.diagnostics.iter().filter(|diagnostic| diagnostic.column == name.as_str()).count() as u64;
            if let Some(index) = column
                && *present > 0
                && unparseable as f64 > MAX_UNPARSEABLE_SHARE * *present as f64
            {
                let columns = vec![mapping.names[*index].clone()];
                warnings.push(InputWarning::Unparseable { field: Cow::Owned(name.clone()), columns, unparseable, non_blank: *present });
            }
        }
        for counts in &self.column_counts {
            let most_common = u64::from(counts.counts.values().copied().max().unwrap_or(0));
            if counts.non_blank >= CONSTANT_MIN_ROWS && most_common as f64 >= CONSTANT_SHARE * counts.non_blank as f64 {
                warnings.push(InputWarning::Constant {
                    field: counts.field.clone(),
                    column: mapping.names[counts.index].clone(),
                    most_common,
                    non_blank: counts.non_blank,
                    left_out: false,
                });
            }
        }
        ParsedInput {
            records: self.records,
            diagnostics: self.diagnostics,
            columns: mapping.clone(),
            non_blank: self.column_counts.iter().map(|counts| (counts.index, counts.non_blank)).collect(),
            warnings,
        }
    }
}

/// Reads an input with `read` and, when it has constant columns, reads it again without them
/// (`read` is given the columns to leave out): the records of the second read come back with the
/// first read's warnings, its constant columns marked as left out. `aidant link` reads every file
/// this way; the second read costs time only when a column is constant.
pub fn read_leaving_out_constant_columns<E>(mut read: impl FnMut(&[String]) -> Result<ParsedInput, E>) -> Result<ParsedInput, E> {
    let first = read(&[])?;
    let constant = first.constant_columns();
    if constant.is_empty() {
        return Ok(first);
    }
    let mut second = read(&constant)?;
    second.warnings = first
        .warnings
        .into_iter()
        .map(|warning| match warning {
            InputWarning::Constant { field, column, most_common, non_blank, .. } => {
                InputWarning::Constant { field, column, most_common, non_blank, left_out: true }
            }
            other => other,
        })
        .collect();
    Ok(second)
}

fn row_of(position: Option<&csv::Position>, fallback: u64) -> u64 {
    position.map_or(fallback, csv::Position::line)
}

/// Reads a CSV with a header row from any reader, detecting its delimiter from the header line.
/// Columns that fill no field (a truth column, notes) are reported in `ParsedInput::columns`.
///
/// Fails on a missing record id or name column, ragged rows, text that is not UTF-8, and empty or
/// duplicate record ids, naming the row and column; fields that parse badly become diagnostics.
pub fn read_csv(reader: impl Read, source: u16) -> Result<ParsedInput, InputError> {
    read_csv_with(reader, &InputOptions::default(), source)
}

/// Reads a CSV as `read_csv` does, with a given delimiter or columns left out.
pub fn read_csv_with(mut reader: impl Read, options: &InputOptions, source: u16) -> Result<ParsedInput, InputError> {
    // The header line is read first, byte by byte up to its end, to detect the delimiter; the
    // CSV reader then reads it again followed by the rest.
    let mut header_line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match reader.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => {
                header_line.push(byte[0]);
                if byte[0] == b'\n' && header_line.iter().filter(|byte| **byte == b'"').count() % 2 == 0 {
                    break;
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(InputError::Malformed { row: 1, message: error.to_string() }),
        }
    }
    let delimiter = options.delimiter.unwrap_or_else(|| detect_delimiter(&header_line));
    let mut csv_reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .delimiter(delimiter)
        .from_reader(QuoteCheck::new(std::io::Cursor::new(header_line).chain(reader), delimiter));
    let headers = match csv_reader.byte_headers() {
        Ok(headers) if !(headers.is_empty() || (headers.len() == 1 && headers[0].is_empty())) => headers.clone(),
        Ok(_) => return Err(InputError::NoHeader),
        Err(error) => return Err(InputError::Malformed { row: 1, message: error.to_string() }),
    };
    let header_names: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(index, bytes)| {
            std::str::from_utf8(bytes).map(str::to_string).map_err(|_| InputError::Encoding { row: 1, column: format!("column {}", index + 1) })
        })
        .collect::<Result<_, _>>()?;
    let mapping = ColumnMapping::for_model(&header_names, &options.leave_out, &options.model)?;
    let mut reader = ChunkedReader::new(&mapping, &options.model.fields, source);
    let mut byte_record = csv::ByteRecord::new();
    let mut rows: Vec<(u64, csv::ByteRecord)> = Vec::with_capacity(PARSE_CHUNK);
    let mut row_counter = 1;
    loop {
        row_counter += 1;
        match csv_reader.read_byte_record(&mut byte_record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                // Rows before the bad one may hold an earlier error.
                reader.check(&mut rows)?;
                if let csv::ErrorKind::Io(io) = error.kind()
                    && let Some(quote) = UnclosedQuote::in_error(io)
                {
                    return Err(InputError::UnclosedQuote(quote));
                }
                let row = row_of(error.position(), row_counter);
                return Err(match error.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => InputError::RaggedRow { row, expected: *expected_len, found: *len },
                    _ => InputError::Malformed { row, message: error.to_string() },
                });
            }
        }
        rows.push((row_of(byte_record.position(), row_counter), byte_record.clone()));
        if rows.len() == PARSE_CHUNK {
            reader.add_chunk(&mut rows)?;
        }
    }
    reader.add_chunk(&mut rows)?;
    Ok(reader.finish())
}

/// Reads rows that another format has already split (a Parquet file's, each value turned into
/// text or `None` for null), with the column mapping, checks, diagnostics, warnings and parallel
/// parsing of `read_csv`. Rows are numbered from 1 in errors; a row shorter than the header has
/// nulls in its last columns.
pub fn read_rows<I>(header: &[String], rows: I, options: &InputOptions, source: u16) -> Result<ParsedInput, InputError>
where
    I: IntoIterator<Item = Result<Vec<Option<String>>, InputError>>,
{
    if header.is_empty() {
        return Err(InputError::NoHeader);
    }
    let mapping = ColumnMapping::for_model(header, &options.leave_out, &options.model)?;
    let mut reader = ChunkedReader::new(&mapping, &options.model.fields, source);
    let mut chunk: Vec<(u64, Vec<Option<String>>)> = Vec::with_capacity(PARSE_CHUNK);
    for (position, row) in rows.into_iter().enumerate() {
        match row {
            Ok(row) => chunk.push((position as u64 + 1, row)),
            Err(error) => {
                reader.check(&mut chunk)?;
                return Err(error);
            }
        }
        if chunk.len() == PARSE_CHUNK {
            reader.add_chunk(&mut chunk)?;
        }
    }
    reader.add_chunk(&mut chunk)?;
    Ok(reader.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_by_any_accepted_name_and_ignores_others() {
        let csv = "ID,Surname,First_Name,DOB,Phone,cluster_id\n1,Popescu,Ion,12/03/1985,07911 123456,truth\n";
        let parsed = read_csv(csv.as_bytes(), 0).expect("valid csv");
        let record = &parsed.records[0];
        assert_eq!(record.record_id, "1");
        assert_eq!(record.name.as_ref().expect("name").folded_family(), "popescu");
        assert_eq!(record.date_of_birth.expect("dob").to_string(), "1985-03-12");
        assert_eq!(record.phone.as_ref().expect("phone").key(), "+447911123456");
        assert!(parsed.diagnostics.is_empty());
    }

    #[test]
    fn a_bad_field_is_a_diagnostic_not_a_failure() {
        let csv = "record_id,full_name,dob,email\nr1,Ion Popescu,31/02/1990,not-an-email\n";
        let parsed = read_csv(csv.as_bytes(), 0).expect("valid csv");
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.records[0].date_of_birth.map(|date| date.to_string()).as_deref(), Some("1990-02-31"), "kept as written");
        assert_eq!(parsed.records[0].email, None);
        let columns: Vec<&str> = parsed.diagnostics.iter().map(|diagnostic| diagnostic.column.as_ref()).collect();
        assert_eq!(columns, vec!["dob", "email"]);
    }

    #[test]
    fn errors_name_the_row_and_column() {
        let ragged = "record_id,full_name,dob\nr1,Ion,1985\nr2,Ana\n";
        let error = read_csv(ragged.as_bytes(), 0).expect_err("ragged");
        assert!(matches!(error, InputError::RaggedRow { row: 3, expected: 3, found: 2 }), "{error:?}");
        assert_eq!(error.to_string(), "row 3: 2 fields where the header has 3");

        let mut bad_encoding = b"record_id,full_name\nr1,Ion\nr2,".to_vec();
        bad_encoding.extend_from_slice(&[0xff, 0xfe, b'\n']);
        let error = read_csv(bad_encoding.as_slice(), 0).expect_err("bad utf-8");
        assert!(matches!(&error, InputError::Encoding { row: 3, column } if column == "full_name"), "{error:?}");

        let missing = "record_id,dob\nr1,1985\n";
        let error = read_csv(missing.as_bytes(), 0).expect_err("no name column");
        assert!(matches!(error, InputError::MissingColumn { field: "a name", .. }));
        let no_id = "name,dob\nIon,1985\n";
        assert!(matches!(read_csv(no_id.as_bytes(), 0), Err(InputError::MissingColumn { field: "record_id", .. })));
        assert!(matches!(read_csv(&b""[..], 0), Err(InputError::NoHeader)));

        let duplicate = "record_id,name\nr1,Ion\nr1,Ana\n";
        let error = read_csv(duplicate.as_bytes(), 0).expect_err("duplicate id");
        assert!(matches!(error, InputError::DuplicateRecordId { row: 3, first_row: 2, .. }), "{error:?}");
        let empty_id = "record_id,name\n ,Ion\n";
        assert!(matches!(read_csv(empty_id.as_bytes(), 0), Err(InputError::EmptyRecordId { row: 2, .. })));
    }

    #[test]
    fn the_first_bad_row_is_reported_though_rows_are_read_in_parallel() {
        // An encoding error on row 3 comes before a ragged row 5 and a duplicate id on row 4.
        let mut text = b"record_id,full_name\nr1,Ion\nr2,".to_vec();
        text.extend_from_slice(&[0xff, b'\n']);
        text.extend_from_slice(b"r1,Ana\nr4,Ana,extra\n");
        assert!(matches!(read_csv(text.as_slice(), 0), Err(InputError::Encoding { row: 3, .. })));
        let duplicate_then_ragged = "record_id,full_name\nr1,Ion\nr1,Ana\nr4,Ana,extra\n";
        assert!(matches!(read_csv(duplicate_then_ragged.as_bytes(), 0), Err(InputError::DuplicateRecordId { row: 3, first_row: 2, .. })));
        // Across chunks: a duplicate of the first row's id far down the file.
        let mut long = String::from("record_id,full_name\n");
        for index in 0..(PARSE_CHUNK + 10) {
            long.push_str(&format!("r{index},Ion Popescu\n"));
        }
        long.push_str("r0,Ana\n");
        let error = read_csv(long.as_bytes(), 0).expect_err("duplicate id");
        assert!(matches!(error, InputError::DuplicateRecordId { first_row: 2, .. }), "{error:?}");
        let parsed = read_csv(long.rsplit_once("r0,Ana").expect("line").0.as_bytes(), 0).expect("valid");
        assert_eq!(parsed.records.len(), PARSE_CHUNK + 10);
        assert_eq!(parsed.records[PARSE_CHUNK + 9].record_id, format!("r{}", PARSE_CHUNK + 9));
    }

    #[test]
    fn an_impossible_date_is_kept_as_written_and_counted() {
        let csv = "record_id,full_name,dob\nr1,John Smith,1850-04-82\nr2,John Smith,yesterday\n";
        let parsed = read_csv(csv.as_bytes(), 0).expect("valid csv");
        let kept = parsed.records[0].date_of_birth.expect("kept as written");
        assert_eq!((kept.year, kept.month, kept.day), (1850, Some(4), Some(82)));
        assert_eq!(parsed.records[1].date_of_birth, None, "not a date at all is dropped");
        let columns: Vec<&str> = parsed.diagnostics.iter().map(|diagnostic| diagnostic.column.as_ref()).collect();
        assert_eq!(columns, vec!["dob", "dob"]);
        assert!(parsed.diagnostics[0].message.contains("kept as written"), "{}", parsed.diagnostics[0].message);
    }

    #[test]
    fn a_national_number_abroad_is_read_in_the_country_of_the_family_name_and_said_to_be_a_guess() {
        let csv = "record_id,given_name,family_name,phone\nr1,Ion,Popescu,0722 123 456\nr2,Ion,Popescu,+40 722 123 456\nr3,John,Smith,0722 123 456\nr4,Ion,Popescu,07911 123456\n";
        let parsed = read_csv(csv.as_bytes(), 0).expect("valid csv");
        let phone = |index: usize| parsed.records[index].phone.as_ref().map(|phone| phone.key().to_owned());
        assert_eq!(phone(0).as_deref(), Some("+40722123456"), "the Romanian mobile written the national way");
        assert_eq!(phone(1), phone(0), "and written with +40: the same number");
        assert_eq!(phone(2).as_deref(), Some("0722123456"), "no guess for Smith: the digits alone");
        assert_eq!(phone(3).as_deref(), Some("+447911123456"), "a valid UK number is never second-guessed");
        let notes: Vec<(&str, &str)> = parsed.diagnostics.iter().map(|diagnostic| (diagnostic.record_id.as_str(), diagnostic.column.as_ref())).collect();
        assert_eq!(notes, vec![("r1", PHONE_COUNTRY_GUESSED), ("r3", "phone")]);
        assert!(parsed.diagnostics[0].message.contains("RO"), "{}", parsed.diagnostics[0].message);
        // With a country column, the country is given, not guessed.
        let given = "record_id,given_name,family_name,phone,country\nr1,Ion,Popescu,0722 123 456,RO\n";
        let parsed = read_csv(given.as_bytes(), 0).expect("valid csv");
        assert_eq!(parsed.records[0].phone.as_ref().map(PhoneValue::key), Some("+40722123456"));
        assert!(parsed.diagnostics.is_empty());
    }

    #[test]
    fn keeps_foreign_postcodes_and_bad_phones_as_comparable_keys() {
        let csv = "rec_id,given_name,surname,postcode,phone\na,Jo,Smith,2600,12345678\n";
        let parsed = read_csv(csv.as_bytes(), 0).expect("valid csv");
        let record = &parsed.records[0];
        assert_eq!(record.postcode, Some(PostcodeValue::Other("2600".into())));
        assert_eq!(record.phone, Some(PhoneValue::Digits("12345678".into())));
    }

    #[test]
    fn the_delimiter_is_detected_from_the_header_line() {
        assert_eq!(detect_delimiter(b"record_id;full_name;dob\n1;Ion, Popescu;1985\n"), b';');
        assert_eq!(detect_delimiter(b"record_id\tfull_name\n"), b'\t');
        assert_eq!(detect_delimiter(b"record_id|full_name|dob"), b'|');
        assert_eq!(detect_delimiter(b"\"id;x\",full_name\n"), b',', "a delimiter inside quotes does not count");
        assert_eq!(detect_delimiter(b"record_id\n"), b',');
        for delimiter in [",", ";", "\t", "|"] {
            let text = format!("record_id{d}full_name{d}dob{d}phone\nr1{d}\"Popescu, Ion\"{d}12/03/1985{d}07911 123456\n", d = delimiter);
            let parsed = read_csv(text.as_bytes(), 0).unwrap_or_else(|error| panic!("{delimiter:?}: {error}"));
            assert_eq!(parsed.records.len(), 1, "{delimiter:?}");
            assert_eq!(parsed.records[0].name.as_ref().expect("name").folded_family(), "popescu", "{delimiter:?}");
            assert_eq!(parsed.records[0].date_of_birth.expect("dob").to_string(), "1985-03-12", "{delimiter:?}");
        }
        // A given delimiter wins over detection: read as commas, this header is one column.
        let semicolons = "record_id;full_name\nr1;Ion\n";
        let options = InputOptions { delimiter: Some(b','), ..InputOptions::default() };
        assert!(matches!(read_csv_with(semicolons.as_bytes(), &options, 0), Err(InputError::MissingColumn { field: "record_id", .. })));
    }

    #[test]
    fn rows_split_elsewhere_read_like_the_same_csv() {
        let csv = "record_id,given_name,family_name,dob,phone,email\n1,Ion,Popescu,12/03/1985,07911 123456,ion@example\n2,,,1990,,\n";
        let from_csv = read_csv(csv.as_bytes(), 3).expect("valid csv");
        let header: Vec<String> = ["record_id", "given_name", "family_name", "dob", "phone", "email"].map(String::from).to_vec();
        let text = |value: &str| Some(value.to_string());
        let rows = vec![
            Ok(vec![text("1"), text("Ion"), text("Popescu"), text("12/03/1985"), text("07911 123456"), text("ion@example")]),
            Ok(vec![text("2"), None, None, text("1990")]),
        ];
        let from_rows = read_rows(&header, rows, &InputOptions::default(), 3).expect("valid rows");
        assert_eq!(from_rows.records, from_csv.records);
        assert_eq!(from_rows.diagnostics, from_csv.diagnostics);
        assert_eq!(from_rows.columns, from_csv.columns);

        let duplicate = vec![Ok(vec![text("1"), text("Ion")]), Ok(vec![text("1"), text("Ana")])];
        let error = read_rows(&header[..2], duplicate, &InputOptions::default(), 0).expect_err("duplicate id");
        assert!(matches!(error, InputError::DuplicateRecordId { row: 2, first_row: 1, .. }), "{error:?}");
    }

    #[test]
    fn every_column_is_mapped_or_reported_unused_by_name() {
        let csv = "Record ID;First Name;middle_initial;Surname;Date-of-Birth;street_number;street_name;zipcode;town\n\
                   r1;Ion;A;Popescu;12/03/1985;12;Station Rd;B33 8TH;Birmingham\n";
        let parsed = read_csv(csv.as_bytes(), 0).expect("valid csv");
        let mapping = &parsed.columns;
        let field_of = |field: &str| mapping.column_name_of(field).map(str::to_string);
        assert_eq!(field_of("record_id").as_deref(), Some("Record ID"));
        assert_eq!(field_of("given_name").as_deref(), Some("First Name"));
        assert_eq!(field_of("dob").as_deref(), Some("Date-of-Birth"));
        assert_eq!(field_of("address").as_deref(), Some("street_name"));
        assert_eq!(field_of("postcode").as_deref(), Some("zipcode"));
        assert_eq!(mapping.unused_names(), vec!["middle_initial", "town"]);
        let record = &parsed.records[0];
        assert_eq!(record.address.as_deref(), Some("12 station road"));
        assert!(matches!(record.postcode, Some(PostcodeValue::Uk(_))));

        // Two columns for one field: the first alias wins, the other is reported.
        let mapping = ColumnMapping::from_header(&["zip".to_string(), "id".to_string(), "postcode".to_string(), "name".to_string()], &[]).expect("maps");
        assert_eq!(mapping.column_name_of("postcode"), Some("postcode"));
        assert_eq!(mapping.unused_names(), vec!["zip"]);
    }

    #[test]
    fn the_full_name_fills_in_when_the_split_names_are_blank() {
        let csv = "record_id,given_name,family_name,full_name\nr1,Ion,Popescu,\nr2,,,POPESCU Ion\nr3,Ana,,Maria Ionescu\n";
        let parsed = read_csv(csv.as_bytes(), 0).expect("valid csv");
        let families: Vec<String> = parsed.records.iter().map(|record| record.name.as_ref().map(|name| name.folded_family()).unwrap_or_default()).collect();
        assert_eq!(families, vec!["popescu", "popescu", ""]);
        assert_eq!(parsed.records[2].name.as_ref().expect("name").folded_given(), "ana", "the split names win when either is given");
    }

    /// A CSV of `count` people whose dates of birth come from `dob`.
    fn people(count: usize, dob: impl Fn(usize) -> String) -> String {
        let mut csv = String::from("record_id,full_name,dob,country\n");
        for index in 0..count {
            csv.push_str(&format!(
                "r{index},Person{} Surname{},{},GB\n",
                (b'a' + (index % 26) as u8) as char,
                (b'a' + (index / 26 % 26) as u8) as char,
                dob(index)
            ));
        }
        csv
    }

    #[test]
    fn a_column_mostly_unparseable_is_warned_about() {
        let few_bad = people(100, |index| if index < 5 { "31/02/1990".into() } else { format!("1990-01-{:02}", 1 + index % 28) });
        let parsed = read_csv(few_bad.as_bytes(), 0).expect("valid");
        assert!(parsed.warnings.is_empty(), "5% is within the limit: {:?}", parsed.warnings);
        let many_bad = people(100, |index| if index < 6 { "31/02/1990".into() } else { format!("1990-01-{:02}", 1 + index % 28) });
        let parsed = read_csv(many_bad.as_bytes(), 0).expect("valid");
        assert_eq!(parsed.warnings, vec![InputWarning::Unparseable { field: "dob".into(), columns: vec!["dob".into()], unparseable: 6, non_blank: 100 }]);
        assert!(parsed.warnings[0].to_string().contains("6 of 100 non-blank values (6.0%) could not be read as dates"), "{}", parsed.warnings[0]);
    }

    #[test]
    fn a_constant_column_is_left_out_and_said_so() {
        // A placeholder date in every row but one: every pair would agree on it.
        let placeholder = people(200, |index| if index == 7 { "1985-03-12".into() } else { "01/01/1900".into() });
        let parsed = read_csv(placeholder.as_bytes(), 0).expect("valid");
        assert_eq!(parsed.constant_columns(), vec!["dob".to_string()]);
        assert!(parsed.records.iter().all(|record| record.date_of_birth.is_some()), "the first read keeps it");
        let parsed = read_leaving_out_constant_columns(|leave_out| {
            read_csv_with(placeholder.as_bytes(), &InputOptions { leave_out: leave_out.to_vec(), ..InputOptions::default() }, 0)
        })
        .expect("valid");
        assert!(parsed.records.iter().all(|record| record.date_of_birth.is_none()), "the field is cleared on every record");
        assert_eq!(parsed.columns.left_out_names(), vec!["dob"]);
        assert_eq!(
            parsed.warnings,
            vec![InputWarning::Constant { field: "dob".into(), column: "dob".into(), most_common: 199, non_blank: 200, left_out: true }]
        );
        assert!(parsed.warnings[0].to_string().contains("it was left out"), "{}", parsed.warnings[0]);
        assert!(parsed.constant_columns().is_empty());

        // Below 99%, or fewer than 20 rows, or the country (one country's file): no warning.
        let varied = people(200, |index| if index < 3 { format!("1985-03-{:02}", 10 + index) } else { "01/01/1900".into() });
        assert!(read_csv(varied.as_bytes(), 0).expect("valid").warnings.is_empty());
        let small = people(19, |_| "01/01/1900".into());
        assert!(read_csv(small.as_bytes(), 0).expect("valid").warnings.is_empty());
    }

    #[test]
    fn expands_street_abbreviations() {
        assert_eq!(normalise_address("12 Station Rd."), "12 station road");
        assert_eq!(normalise_address("Flat 3, 5 High St"), "flat 3 5 high street");
    }
}
