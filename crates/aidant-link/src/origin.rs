//! A guess at the country a person's family name comes from (`data/name_origins.txt`), for
//! reading a telephone number written the national way when a record names no country.

use crate::name::{PersonName, fold_text};
use std::sync::LazyLock;

/// One region's family names and endings of family names, folded.
struct Origin {
    region: &'static str,
    endings: Vec<String>,
    names: Vec<String>,
}

static ORIGINS: LazyLock<Vec<Origin>> = LazyLock::new(|| {
    let mut origins: Vec<Origin> = Vec::new();
    for line in include_str!("../data/name_origins.txt").lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(region) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            origins.push(Origin { region, endings: Vec::new(), names: Vec::new() });
            continue;
        }
        let Some(origin) = origins.last_mut() else { continue };
        let (kind, words) = line.split_once(' ').unwrap_or((line, ""));
        let words = words.split_whitespace().map(fold_text);
        match kind {
            "ending" => origin.endings.extend(words),
            "name" => origin.names.extend(words),
            _ => {}
        }
    }
    origins
});

/// The region (ISO code, such as "RO") the family name most likely comes from, when exactly one
/// region claims it: "Popescu" gives Some("RO"), "Kowalska" Some("PL"), "Smith" and a name two
/// regions claim give None. A name with no family part is read whole.
pub fn region_of_name(name: &PersonName) -> Option<&'static str> {
    let family = name.folded_family();
    let family = if family.is_empty() { name.folded_given() } else { family };
    if family.is_empty() {
        return None;
    }
    let mut regions = ORIGINS
        .iter()
        .filter(|origin| {
            origin.names.contains(&family) || origin.endings.iter().any(|ending| family.len() > ending.len() + 2 && family.ends_with(ending.as_str()))
        })
        .map(|origin| origin.region);
    let first = regions.next()?;
    regions.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(given: &str, family: &str) -> Option<&'static str> {
        region_of_name(&PersonName::from_parts(given, family).expect("a name"))
    }

    #[test]
    fn family_names_point_to_one_country_or_none() {
        assert_eq!(region("Ion", "Popescu"), Some("RO"));
        assert_eq!(region("Ana", "Munteanu"), Some("RO"));
        assert_eq!(region("Anna", "Kowalska"), Some("PL"));
        assert_eq!(region("Janos", "Nagy"), Some("HU"));
        assert_eq!(region("Anh", "Trần"), Some("VN"));
        assert_eq!(region("Arben", "Hoxha"), Some("AL"));
        assert_eq!(region("Jonas", "Kazlauskas"), Some("LT"));
        assert_eq!(region("John", "Smith"), None, "no guess for a name common everywhere");
        assert_eq!(region("", "Escu"), None, "an ending needs a name in front of it");
    }

    #[test]
    fn every_region_in_the_table_is_a_region_the_phone_parser_knows() {
        for origin in ORIGINS.iter() {
            assert!(aidant_core::phone::PhoneE164::parse("+447700900123", Some(origin.region)).is_ok(), "{}", origin.region);
        }
        assert!(ORIGINS.len() >= 7, "the table was read ({} regions)", ORIGINS.len());
    }
}
