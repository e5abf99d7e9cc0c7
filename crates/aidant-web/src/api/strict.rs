//! The OpenAPI document made exactly as strict as the server: what the
//! derived document says only as types (strings, arrays) is narrowed here to
//! the values the server takes, as patterns, formats, enumerations and
//! limits built from the same rules and constants the server checks with.
//! An independent fuzzer (Schemathesis, `scripts/api-fuzz.py`) sends what
//! the document allows and expects it accepted, and what it forbids and
//! expects it refused; so every rule here is one the server applies to the
//! letter, and a test checks a sample of each against the server.

use aidant_core::catalogue::GENERAL_SECTOR;
use aidant_core::report::limits;
use serde_json::{Value, json};

/// White space as Rust's `str::trim` and `char::is_whitespace` see it
/// (Unicode White_Space), as the inside of a regular expression class.
pub const WHITE_SPACE: &str = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

/// What free text may not hold (`aidant_core::text`): control characters
/// and the non-characters of the Basic Multilingual Plane.
const FORBIDDEN: &str = r"\x00-\x1F\x7F-\x9F\uFDD0-\uFDEF\uFFFE\uFFFF";

/// A value with something besides white space at both ends: what the staff
/// API takes for a free-text parameter.
pub fn non_blank() -> String {
    format!(r"^[^{WHITE_SPACE}](?:[\s\S]*[^{WHITE_SPACE}])?$")
}

/// An optional free-text answer: blank (left out), or at most `max`
/// characters once trimmed, without control characters (line breaks and
/// tabs inside when `multiline`).
fn free_text(max: usize, multiline: bool) -> String {
    // A line break sent as CR LF is stored, and counted, as one.
    let inner = if multiline { format!(r"(?:\r\n|[^{FORBIDDEN}]|[\n\t\r])") } else { format!("[^{FORBIDDEN}]") };
    let edge = format!("[^{WHITE_SPACE}{FORBIDDEN}]");
    let longer = match max {
        0 | 1 => String::new(),
        _ => format!("(?:{inner}{{0,{}}}{edge})?", max - 2),
    };
    format!(r"^[{WHITE_SPACE}]*(?:{edge}{longer})?[{WHITE_SPACE}]*$")
}

/// A free-text answer that has something besides white space in it.
fn given() -> String {
    format!("[^{WHITE_SPACE}]")
}

/// A UK postcode in any case and spacing (`aidant_core::postcode`), or blank.
fn postcode(required: bool) -> String {
    let space = format!("[{WHITE_SPACE}]*");
    let letter = |character: char| format!("[{}{}]{space}", character, character.to_ascii_lowercase());
    let any_letter = format!("[A-Za-z]{space}");
    let digit = format!("[0-9]{space}");
    let areas = |length: usize| {
        aidant_core::postcode::AREAS
            .iter()
            .filter(|area| area.len() == length)
            .map(|area| area.chars().map(letter).collect::<String>())
            .collect::<Vec<_>>()
            .join("|")
    };
    let district = format!("{digit}(?:{digit}|{any_letter})?");
    let outcode = format!("(?:(?:{}){district}|(?:{}){district})", areas(1), areas(2));
    let girobank = format!("{}{}{}0{space}{}{}", letter('G'), letter('I'), letter('R'), letter('A'), letter('A'));
    let postcode = format!("(?:{girobank}|{outcode}{digit}{any_letter}{any_letter})");
    if required { format!("^{space}{postcode}$") } else { format!("^{space}(?:{postcode})?$") }
}

/// A registration as `aidant_core::vrm::compact_mark` takes it: letters and
/// digits (at most `limits::REGISTRATION`) with spaces, hyphens and dots.
fn registration() -> String {
    let separator = r"[ \-.\xA0]*";
    format!(r"^[{WHITE_SPACE}]*(?:{separator}(?:[A-Za-z0-9]{separator}){{1,{}}})?[{WHITE_SPACE}]*$", limits::REGISTRATION)
}

/// A phone number as the report form takes it: 7 to 15 digits with spaces,
/// `+`, brackets, hyphens and dots.
fn phone() -> String {
    let separator = r"[ +().\-]*";
    format!(r"^[{WHITE_SPACE}]*(?:{separator}(?:[0-9]{separator}){{7,15}})?[{WHITE_SPACE}]*$")
}

/// An e-mail address as the report form takes it: something, `@`, and a
/// domain with a dot that neither starts nor ends it.
fn email() -> String {
    let part = format!("[^@{WHITE_SPACE}{FORBIDDEN}]");
    let domain_edge = format!("[^@.{WHITE_SPACE}{FORBIDDEN}]");
    format!(r"^[{WHITE_SPACE}]*(?:{part}+@{domain_edge}{part}*\.{part}*{domain_edge})?[{WHITE_SPACE}]*$")
}

fn text_property(max: usize, multiline: bool) -> Value {
    json!({ "type": ["string", "null"], "pattern": free_text(max, multiline) })
}

/// Narrows the derived document (as JSON) to what the server takes.
pub fn tighten(document: &mut Value, catalogue: Option<&aidant_core::Catalogue>) {
    tighten_report_request(document);
    if let Some(catalogue) = catalogue {
        tighten_staff_queue(document, catalogue);
    }
    tighten_staff_search(document);
    tighten_charts(document);
}

fn tighten_report_request(document: &mut Value) {
    let schemas = &mut document["components"]["schemas"];
    let request = &mut schemas["ReportRequest"];
    let properties = &mut request["properties"];
    properties["postcode"] =
        json!({ "type": ["string", "null"], "pattern": postcode(false), "description": "A UK postcode, like LU1 2AB, in any case and spacing" });
    properties["town"] = text_property(limits::SHORT_TEXT, false);
    properties["location_description"] = text_property(limits::MEDIUM_TEXT, true);
    properties["business_name"] = text_property(limits::SHORT_TEXT, false);
    properties["people_description"] = text_property(limits::MEDIUM_TEXT, true);
    properties["narrative"] = text_property(limits::NARRATIVE, true);
    properties["when_seen"] = text_property(limits::SHORT_TEXT, false);
    properties["people_count"] = json!({ "type": ["integer", "null"], "minimum": 0, "maximum": limits::PEOPLE });
    properties["vehicles"] = json!({ "type": "array", "maxItems": limits::VEHICLES, "items": { "$ref": "#/components/schemas/VehicleRequest" } });
    properties["submission_token"] = json!({ "type": ["string", "null"], "pattern": r"^[^\x00-\x1F\x7F-\x9F]{1,100}$", "description": "1 to 100 characters, none of them a control character" });
    // Where it was: a postcode, a town or a description, at least one.
    let where_given = |field: &str, pattern: String| json!({ "required": [field], "properties": { field: { "type": "string", "pattern": pattern } } });
    request["anyOf"] = json!([where_given("postcode", postcode(true)), where_given("town", given()), where_given("location_description", given()),]);
    let vehicle = &mut schemas["VehicleRequest"]["properties"];
    vehicle["registration"] = json!({ "type": ["string", "null"], "pattern": registration() });
    vehicle["description"] = text_property(limits::SHORT_TEXT, false);
    let contact = &mut schemas["ContactRequest"];
    contact["properties"]["name"] = text_property(limits::SHORT_TEXT, false);
    contact["properties"]["phone"] = json!({ "type": ["string", "null"], "pattern": phone(), "maxLength": limits::PHONE });
    contact["properties"]["email"] = json!({ "type": ["string", "null"], "pattern": email(), "maxLength": limits::SHORT_TEXT });
    // Contact details without a way to reach the reporter are refused.
    contact["anyOf"] = json!([
        { "required": ["phone"], "properties": { "phone": { "type": "string", "pattern": given() } } },
        { "required": ["email"], "properties": { "email": { "type": "string", "pattern": given() } } },
    ]);
}

/// The parameters of one operation, by name.
fn parameters<'a>(document: &'a mut Value, path: &str, method: &str) -> impl Iterator<Item = &'a mut Value> {
    document["paths"][path][method]["parameters"].as_array_mut().into_iter().flatten()
}

fn set_parameter_schemas(document: &mut Value, path: &str, method: &str, schemas: &[(&str, Value)]) {
    for parameter in parameters(document, path, method) {
        let name = parameter["name"].as_str().unwrap_or_default().to_owned();
        if let Some((_, schema)) = schemas.iter().find(|(wanted, _)| *wanted == name) {
            parameter["schema"] = schema.clone();
        }
    }
}

/// A queue page token (`aidant_store::triage::QueueCursor::token`).
pub const QUEUE_TOKEN: &str = r"^[0-9]{1,18}\.[0-9]{1,18}\.[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// A search page token: a positive number.
pub const SEARCH_TOKEN: &str = r"^[1-9][0-9]{0,17}$";

fn tighten_staff_queue(document: &mut Value, catalogue: &aidant_core::Catalogue) {
    let sectors: Vec<&str> = catalogue.sectors.iter().map(|sector| sector.id.as_str()).filter(|id| *id != GENERAL_SECTOR).collect();
    let risks: Vec<&str> = aidant_core::RiskLevel::ALL.iter().map(|level| level.as_str()).collect();
    let mut statuses = vec!["open", "all"];
    statuses.extend(aidant_core::organisation::ReportStatus::ALL.iter().map(|status| status.as_str()));
    let orders: Vec<&str> = aidant_store::triage::QueueOrder::ALL.iter().map(|order| order.as_str()).collect();
    set_parameter_schemas(
        document,
        "/api/v1/staff/reports",
        "get",
        &[
            ("risk", json!({ "type": "string", "enum": risks })),
            ("sector", json!({ "type": "string", "enum": sectors })),
            ("area", json!({ "type": "string", "pattern": non_blank() })),
            ("status", json!({ "type": "string", "enum": statuses })),
            ("assignee", json!({ "anyOf": [{ "type": "string", "enum": ["unassigned", "me"] }, { "type": "string", "format": "uuid" }] })),
            ("order", json!({ "type": "string", "enum": orders })),
            ("from", json!({ "type": "string", "format": "date" })),
            ("to", json!({ "type": "string", "format": "date" })),
            ("unread", json!({ "type": "string", "enum": ["yes", "no"] })),
            ("after", json!({ "type": "string", "pattern": QUEUE_TOKEN })),
            ("before", json!({ "type": "string", "pattern": QUEUE_TOKEN })),
        ],
    );
}

fn tighten_staff_search(document: &mut Value) {
    set_parameter_schemas(
        document,
        "/api/v1/staff/search",
        "get",
        &[
            ("q", json!({ "type": "string", "pattern": non_blank() })),
            ("after", json!({ "type": "string", "pattern": SEARCH_TOKEN })),
            ("before", json!({ "type": "string", "pattern": SEARCH_TOKEN })),
        ],
    );
}

fn tighten_charts(document: &mut Value) {
    let schemas = &mut document["components"]["schemas"];
    let entity_ids = |most: usize| json!({ "type": "array", "maxItems": most, "items": { "type": "string", "format": "uuid" } });
    let data = &mut schemas["ChartDataRequest"]["properties"];
    data["entities"] = entity_ids(aidant_store::cases::networks::CHART_MOST_ENTITIES);
    data["expand"] = json!({ "type": ["string", "null"], "format": "uuid" });
    data["chart"] = json!({ "type": ["string", "null"], "format": "uuid" });
    let export = &mut schemas["ExportAuditRequest"]["properties"];
    export["format"] = json!({ "type": "string", "enum": ["png"] });
    export["entities"] = entity_ids(aidant_store::cases::networks::CHART_MOST_ENTITIES);
    export["chart"] = json!({ "type": ["string", "null"], "format": "uuid" });
}

#[cfg(test)]
mod tests {
    use super::*;
    use aidant_core::report::{ContactAnswer, NewReport, ReportAnswers, VehicleAnswer};
    use aidant_core::text::{BoundedText, Lines};
    use proptest::prelude::*;

    fn compiled(pattern: &str) -> regex::Regex {
        regex::Regex::new(pattern).unwrap_or_else(|error| panic!("{pattern}: {error}"))
    }

    static CATALOGUE: std::sync::LazyLock<aidant_core::Catalogue> =
        std::sync::LazyLock::new(|| aidant_core::Catalogue::from_toml(include_str!("../../../../data/indicators.toml")).unwrap());
    static POSTCODE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| compiled(&postcode(false)));

    fn catalogue() -> &'static aidant_core::Catalogue {
        &CATALOGUE
    }

    /// The fields a report's parse found a problem with, given `answers`
    /// that are otherwise fine.
    fn problem_fields(catalogue: &aidant_core::Catalogue, change: impl FnOnce(&mut ReportAnswers)) -> Vec<String> {
        let mut answers = ReportAnswers { sector: Some("nail_bar".into()), town: Some("Luton".into()), ..Default::default() };
        change(&mut answers);
        NewReport::check(&answers, catalogue).err().unwrap_or_default().into_iter().map(|problem| problem.field).collect()
    }

    /// Characters that sit on every rule's edges: white space of each kind,
    /// control characters, separators, letters, digits and the rest.
    fn awkward_text() -> impl Strategy<Value = String> {
        let characters = prop_oneof![
            Just(' '),
            Just('\t'),
            Just('\n'),
            Just('\r'),
            Just('\u{85}'),
            Just('\u{a0}'),
            Just('\u{2028}'),
            Just('\u{3000}'),
            Just('\u{feff}'),
            Just('\u{0}'),
            Just('\u{7}'),
            Just('\u{7f}'),
            Just('\u{9f}'),
            Just('\u{fdd0}'),
            Just('\u{ffff}'),
            Just('-'),
            Just('.'),
            Just('+'),
            Just('('),
            Just('@'),
            Just('0'),
            Just('7'),
            Just('9'),
            Just('a'),
            Just('L'),
            Just('u'),
            Just('U'),
            Just('A'),
            Just('B'),
            Just('G'),
            Just('I'),
            Just('R'),
            Just('Z'),
            Just('Ș'),
            Just('😟'),
        ];
        proptest::collection::vec(characters, 0..24).prop_map(|characters| characters.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn free_text_patterns_take_what_the_server_takes(raw in awkward_text()) {
            for (max, lines) in [(5, Lines::Single), (5, Lines::Multiple), (1, Lines::Single), (2, Lines::Multiple)] {
                let pattern = compiled(&free_text(max, lines == Lines::Multiple));
                let server = BoundedText::parse_optional(Some(&raw), max, lines).is_ok();
                prop_assert_eq!(pattern.is_match(&raw), server, "{:?} max {} {:?}", raw, max, lines);
            }
        }

        #[test]
        fn the_postcode_pattern_takes_what_the_server_takes(raw in awkward_text(), known in prop_oneof![Just("LU1 2AB"), Just("gir0aa"), Just("W1A 1AA"), Just("sw1a1aa"), Just("QQ1 1AA"), Just("B1 1AA")], padding in awkward_text()) {
            let catalogue = catalogue();
            for candidate in [raw.clone(), format!("{padding}{known}"), format!("{known}{padding}"), known.to_owned()] {
                let server = !problem_fields(catalogue, |answers| answers.postcode = Some(candidate.clone())).contains(&"postcode".to_owned());
                prop_assert_eq!(POSTCODE.is_match(&candidate), server, "{:?}", candidate);
            }
        }

        #[test]
        fn registration_phone_and_email_patterns_take_what_the_server_takes(raw in awkward_text()) {
            let catalogue = catalogue();
            let vehicle = !problem_fields(catalogue, |answers| answers.vehicles = vec![VehicleAnswer { registration: Some(raw.clone()), description: None }])
                .contains(&"vehicles[0].registration".to_owned());
            prop_assert_eq!(compiled(&registration()).is_match(&raw), vehicle, "registration {:?}", raw);
            let contact = |phone: Option<String>, email: Option<String>| problem_fields(catalogue, |answers| answers.contact = Some(ContactAnswer { name: None, phone, email }));
            let phone_ok = !contact(Some(raw.clone()), Some("a@b.cd".into())).contains(&"contact_phone".to_owned());
            prop_assert_eq!(compiled(&phone()).is_match(&raw) && raw.chars().count() <= limits::PHONE, phone_ok, "phone {:?}", raw);
            let email_ok = !contact(Some("07700 900982".into()), Some(raw.clone())).contains(&"contact_email".to_owned());
            prop_assert_eq!(compiled(&email()).is_match(&raw) && raw.chars().count() <= limits::SHORT_TEXT, email_ok, "email {:?}", raw);
        }

        #[test]
        fn token_patterns_take_what_the_staff_api_takes(raw in awkward_text(), number in 0u64..u64::MAX, id in "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}") {
            let exact = |value: &str| !value.is_empty() && value.trim() == value;
            prop_assert_eq!(compiled(&non_blank()).is_match(&raw), exact(&raw), "{:?}", raw);
            for token in [raw.clone(), number.to_string(), format!("{number}.{number}.{id}"), format!("1.{raw}.{id}"), format!("0{number}")] {
                let queue = exact(&token) && aidant_store::triage::QueueCursor::parse(&token).is_some();
                prop_assert_eq!(compiled(QUEUE_TOKEN).is_match(&token), queue, "queue token {:?}", token);
                let search = exact(&token) && crate::staff::search::is_page_token(&token);
                prop_assert_eq!(compiled(SEARCH_TOKEN).is_match(&token), search, "search token {:?}", token);
            }
        }
    }

    #[test]
    fn a_line_break_sent_as_cr_lf_counts_once() {
        let raw = "abc\r\nd";
        assert!(BoundedText::parse(raw, 5, Lines::Multiple).is_ok());
        assert!(compiled(&free_text(5, true)).is_match(raw));
        assert!(!compiled(&free_text(5, false)).is_match(raw), "no line breaks on one line");
    }

    #[test]
    fn a_report_needs_a_place_and_contact_details_need_a_way_to_reply() {
        let catalogue = catalogue();
        let nowhere = problem_fields(catalogue, |answers| answers.town = Some(" \u{3000} ".into()));
        assert_eq!(nowhere, ["postcode"], "the document's anyOf: a postcode, a town or a description");
        let silent =
            problem_fields(catalogue, |answers| answers.contact = Some(ContactAnswer { name: Some("Ana".into()), phone: Some(" ".into()), email: None }));
        assert_eq!(silent, ["contact_phone"], "the document's anyOf on contact: a phone or an e-mail");
        assert!(compiled(&given()).is_match("x") && !compiled(&given()).is_match(" \u{3000}\n"));
    }
}
