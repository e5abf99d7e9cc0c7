//! Person records: raw fields as given, their typed parse with per-field diagnostics, and CSV input.

use crate::dob::PartialDate;
use crate::email::Email;
use crate::name::{PersonName, fold_text};
use crate::phone::{PhoneE164, PhoneError, compact_phone, is_plain_uk_number};
use crate::postcode::Postcode;
use crate::vrm::Vrm;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
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
}

/// A field that could not be parsed; the record is kept without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDiagnostic {
    pub record_id: String,
    pub column: &'static str,
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
        record.phone = match parsed {
            Ok(phone) => Some(PhoneValue::E164(phone)),
            Err(error) => {
                let position = diagnostics.iter().take_while(|diagnostic| matches!(diagnostic.column, "given_name" | "full_name" | "dob")).count();
                diagnostics.insert(position, FieldDiagnostic { record_id: self.record_id.clone(), column: "phone", message: error.to_string() });
                let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
                (digits.len() >= 6).then_some(PhoneValue::Digits(digits))
            }
        };
    }

    /// Parses every field but the phone number, which batches parse apart (see `parse_chunk`).
    fn parse_except_phone(&self, source: u16) -> (PersonRecord, Vec<FieldDiagnostic>) {
        let mut diagnostics = Vec::new();
        let mut note = |column: &'static str, message: String| {
            diagnostics.push(FieldDiagnostic { record_id: self.record_id.clone(), column, message });
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
        let date_of_birth = present(&self.date_of_birth).and_then(|raw| PartialDate::parse(raw).map_err(|error| note("dob", error.to_string())).ok());
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
        let record =
            PersonRecord { record_id: self.record_id.trim().to_string(), source, name, date_of_birth, address, postcode, phone: None, email, vrm, id_number };
        (record, diagnostics)
    }
}

/// Why a CSV input could not be read. Rows are numbered as in a spreadsheet: the header is row 1.
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
}

/// Column names accepted for each field, compared case-insensitively.
pub const COLUMN_ALIASES: &[(&str, &[&str])] = &[
    ("record_id", &["record_id", "rec_id", "id", "unique_id"]),
    ("given_name", &["given_name", "first_name", "forename", "forenames", "given"]),
    ("family_name", &["family_name", "surname", "last_name", "family"]),
    ("full_name", &["full_name", "name"]),
    ("dob", &["dob", "date_of_birth", "birth_date"]),
    ("street_number", &["street_number", "house_number"]),
    ("address", &["address", "address_1", "street", "address_line_1"]),
    ("address_2", &["address_2", "address_line_2"]),
    ("postcode", &["postcode", "post_code", "zip"]),
    ("phone", &["phone", "phone_number", "telephone", "mobile"]),
    ("email", &["email", "email_address"]),
    ("vrm", &["vrm", "registration", "vehicle_registration"]),
    ("id_number", &["id_number", "soc_sec_id", "national_id", "passport_number"]),
    ("country", &["country", "nationality"]),
];

/// Records and diagnostics read from one CSV input.
#[derive(Debug, Default)]
pub struct ParsedInput {
    pub records: Vec<PersonRecord>,
    pub diagnostics: Vec<FieldDiagnostic>,
}

/// Rows parsed together: parsing (phone numbers above all) is the slow part and runs in parallel,
/// while chunks keep the raw text of only a few thousand rows in memory at once.
const PARSE_CHUNK: usize = 65_536;

/// Parses the phone numbers of many records that `parsed_phones` does not hold yet, each compact
/// form once, and adds them to it; the map lives for the whole input, so a number repeated across
/// chunks is parsed once.
///
/// libphonenumber's port keeps compiled patterns in one small shared cache; numbers of one country
/// parsed together reuse its patterns, where records in file order would keep evicting them.
/// A phone number's compact form and the row's region hint.
type PhoneKey = (String, String);

/// One row turned into text: its row number, its record id and its other fields.
type ConvertedRow = (u64, Result<String, InputError>, Result<RawPerson, InputError>);

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

fn parse_chunk(
    raw_people: &mut Vec<RawPerson>,
    source: u16,
    parsed_phones: &mut HashMap<(String, String), Result<PhoneE164, PhoneError>>,
    parsed: &mut ParsedInput,
) {
    // Phone numbers are parsed on one thread (see `parse_phones`) while the other fields of the
    // same rows are parsed on the others, then each record takes its number from the map.
    let (_, mut results) = rayon::join(
        || parse_phones(raw_people, parsed_phones),
        || raw_people.par_iter().map(|raw| raw.parse_except_phone(source)).collect::<Vec<(PersonRecord, Vec<FieldDiagnostic>)>>(),
    );
    let parsed_phones = &*parsed_phones;
    results.par_iter_mut().zip(raw_people.par_iter()).for_each(|((record, diagnostics), raw)| raw.attach_phone(record, diagnostics, parsed_phones));
    raw_people.clear();
    for (record, diagnostics) in results {
        parsed.records.push(record);
        parsed.diagnostics.extend(diagnostics);
    }
}

fn row_of(position: Option<&csv::Position>, fallback: u64) -> u64 {
    position.map_or(fallback, csv::Position::line)
}

/// The column index of each field in a file (the record id's is required).
struct Columns {
    record_id: usize,
    given_name: Option<usize>,
    family_name: Option<usize>,
    full_name: Option<usize>,
    date_of_birth: Option<usize>,
    street_number: Option<usize>,
    address: Option<usize>,
    address_2: Option<usize>,
    postcode: Option<usize>,
    phone: Option<usize>,
    email: Option<usize>,
    vrm: Option<usize>,
    id_number: Option<usize>,
    country: Option<usize>,
}

impl Columns {
    /// The text of one column of a row, `None` when the column is absent or blank.
    fn text(record: &csv::ByteRecord, column: Option<usize>, row: u64, header_names: &[String]) -> Result<Option<String>, InputError> {
        let Some(index) = column else { return Ok(None) };
        let bytes = record.get(index).unwrap_or(b"");
        let text = std::str::from_utf8(bytes).map_err(|_| InputError::Encoding { row, column: header_names[index].clone() })?;
        Ok(Some(text.to_string()).filter(|text| !text.trim().is_empty()))
    }

    fn record_id(&self, record: &csv::ByteRecord, row: u64, header_names: &[String]) -> Result<String, InputError> {
        Self::text(record, Some(self.record_id), row, header_names)?
            .map(|id| id.trim().to_string())
            .ok_or_else(|| InputError::EmptyRecordId { row, column: header_names[self.record_id].clone() })
    }

    /// Every field but the record id, which `record_id` reads.
    fn raw_person(&self, record: &csv::ByteRecord, row: u64, header_names: &[String]) -> Result<RawPerson, InputError> {
        let field = |column: Option<usize>| Self::text(record, column, row, header_names);
        let address_parts: Vec<String> = [field(self.street_number)?, field(self.address)?, field(self.address_2)?].into_iter().flatten().collect();
        Ok(RawPerson {
            record_id: String::new(),
            given_name: field(self.given_name)?,
            family_name: field(self.family_name)?,
            full_name: field(self.full_name)?,
            date_of_birth: field(self.date_of_birth)?,
            address: (!address_parts.is_empty()).then(|| address_parts.join(" ")),
            postcode: field(self.postcode)?,
            phone: field(self.phone)?,
            email: field(self.email)?,
            vrm: field(self.vrm)?,
            id_number: field(self.id_number)?,
            country: field(self.country)?,
        })
    }
}

/// Reads a CSV with a header row from any reader. Unknown columns (a truth column, notes) are ignored.
///
/// Fails on a missing record id or name column, ragged rows, text that is not UTF-8, and empty or
/// duplicate record ids, naming the row and column; fields that parse badly become diagnostics.
pub fn read_csv(reader: impl Read, source: u16) -> Result<ParsedInput, InputError> {
    let mut csv_reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(reader);
    let headers = match csv_reader.byte_headers() {
        Ok(headers) if !(headers.is_empty() || (headers.len() == 1 && headers[0].is_empty())) => headers.clone(),
        Ok(_) => return Err(InputError::NoHeader),
        Err(error) => return Err(InputError::Malformed { row: 1, message: error.to_string() }),
    };
    let header_names: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(index, bytes)| {
            std::str::from_utf8(bytes)
                .map(|text| text.trim().trim_start_matches('\u{feff}').to_lowercase())
                .map_err(|_| InputError::Encoding { row: 1, column: format!("column {}", index + 1) })
        })
        .collect::<Result<_, _>>()?;
    let column_of: HashMap<&'static str, usize> = COLUMN_ALIASES
        .iter()
        .filter_map(|(field, aliases)| aliases.iter().find_map(|alias| header_names.iter().position(|name| name == alias)).map(|index| (*field, index)))
        .collect();
    let accepted = |field: &str| COLUMN_ALIASES.iter().find(|(name, _)| *name == field).map_or(String::new(), |(_, aliases)| aliases.join(", "));
    if !column_of.contains_key("record_id") {
        return Err(InputError::MissingColumn { field: "record_id", accepted: accepted("record_id") });
    }
    if !["given_name", "family_name", "full_name"].iter().any(|field| column_of.contains_key(field)) {
        return Err(InputError::MissingColumn { field: "a name", accepted: format!("{} or {}", accepted("given_name"), accepted("full_name")) });
    }
    let mut parsed = ParsedInput::default();
    let mut first_row_of_id: crate::features::FastHashMap<String, u64> = crate::features::FastHashMap::default();
    let column = |field: &str| column_of.get(field).copied();
    let columns = Columns {
        record_id: column_of["record_id"],
        given_name: column("given_name"),
        family_name: column("family_name"),
        full_name: column("full_name"),
        date_of_birth: column("dob"),
        street_number: column("street_number"),
        address: column("address"),
        address_2: column("address_2"),
        postcode: column("postcode"),
        phone: column("phone"),
        email: column("email"),
        vrm: column("vrm"),
        id_number: column("id_number"),
        country: column("country"),
    };
    let mut byte_record = csv::ByteRecord::new();
    let mut rows: Vec<(u64, csv::ByteRecord)> = Vec::with_capacity(PARSE_CHUNK);
    let mut raw_people: Vec<RawPerson> = Vec::new();
    let mut parsed_phones = HashMap::new();
    let mut row_counter = 1;
    // Rows are read in chunks: the CSV itself is split on this thread, the fields of a chunk's rows
    // are turned into text in parallel, and then the rows are checked in order, so that the first
    // bad row of the file is the one reported, as if it were read row by row.
    let mut check_rows = |rows: &mut Vec<(u64, csv::ByteRecord)>, raw_people: &mut Vec<RawPerson>| -> Result<(), InputError> {
        let converted: Vec<ConvertedRow> = rows
            .par_iter()
            .map(|(row, record)| (*row, columns.record_id(record, *row, &header_names), columns.raw_person(record, *row, &header_names)))
            .collect();
        rows.clear();
        let record_id_column = &header_names[columns.record_id];
        for (row, record_id, raw) in converted {
            let record_id = record_id?;
            if let Some(&first_row) = first_row_of_id.get(&record_id) {
                return Err(InputError::DuplicateRecordId { row, column: record_id_column.clone(), record_id, first_row });
            }
            first_row_of_id.insert(record_id.clone(), row);
            raw_people.push(RawPerson { record_id, ..raw? });
        }
        Ok(())
    };
    loop {
        row_counter += 1;
        match csv_reader.read_byte_record(&mut byte_record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                // Rows before the bad one may hold an earlier error.
                check_rows(&mut rows, &mut raw_people)?;
                let row = row_of(error.position(), row_counter);
                return Err(match error.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => InputError::RaggedRow { row, expected: *expected_len, found: *len },
                    _ => InputError::Malformed { row, message: error.to_string() },
                });
            }
        }
        rows.push((row_of(byte_record.position(), row_counter), byte_record.clone()));
        if rows.len() == PARSE_CHUNK {
            check_rows(&mut rows, &mut raw_people)?;
            parse_chunk(&mut raw_people, source, &mut parsed_phones, &mut parsed);
        }
    }
    check_rows(&mut rows, &mut raw_people)?;
    parse_chunk(&mut raw_people, source, &mut parsed_phones, &mut parsed);
    Ok(parsed)
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
        assert_eq!(parsed.records[0].date_of_birth, None);
        let columns: Vec<&str> = parsed.diagnostics.iter().map(|diagnostic| diagnostic.column).collect();
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
    fn keeps_foreign_postcodes_and_bad_phones_as_comparable_keys() {
        let csv = "rec_id,given_name,surname,postcode,phone\na,Jo,Smith,2600,12345678\n";
        let parsed = read_csv(csv.as_bytes(), 0).expect("valid csv");
        let record = &parsed.records[0];
        assert_eq!(record.postcode, Some(PostcodeValue::Other("2600".into())));
        assert_eq!(record.phone, Some(PhoneValue::Digits("12345678".into())));
    }

    #[test]
    fn expands_street_abbreviations() {
        assert_eq!(normalise_address("12 Station Rd."), "12 station road");
        assert_eq!(normalise_address("Flat 3, 5 High St"), "flat 3 5 high street");
    }
}
