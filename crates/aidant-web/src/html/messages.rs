//! The message catalogue: every word on the public pages, by language.
//!
//! English (`data/messages/en.toml`) is the reference, and every other
//! language must translate every key of it: a missing or misspelt key stops
//! start-up rather than showing a blank, or English, on a page a victim
//! reads. The indicator catalogue's public wording (sectors, signs, types of
//! exploitation) is translated beside it, in `data/messages/catalogue/`, by
//! the catalogue's ids; an id a translation lacks (say, in a catalogue a
//! force has edited) is shown in the catalogue's own English.

use super::serde_value;
use aidant_core::catalogue::{Catalogue, ExploitationType, Indicator, Sector};
use serde::Deserialize;
use std::collections::BTreeMap;

use toml::Table;

/// The languages the service speaks, with their names in their own language.
pub const LANGUAGES: [(&str, &str, &str); 7] = [
    ("en", "English", include_str!("../../../../data/messages/en.toml")),
    ("ro", "Română", include_str!("../../../../data/messages/ro.toml")),
    ("hu", "Magyar", include_str!("../../../../data/messages/hu.toml")),
    ("vi", "Tiếng Việt", include_str!("../../../../data/messages/vi.toml")),
    ("zh-Hans", "简体中文", include_str!("../../../../data/messages/zh-Hans.toml")),
    ("sq", "Shqip", include_str!("../../../../data/messages/sq.toml")),
    ("pl", "Polski", include_str!("../../../../data/messages/pl.toml")),
];

/// The catalogue's public wording in each language but English (whose
/// wording is the catalogue's own).
const CATALOGUE_WORDING: [(&str, &str); 6] = [
    ("ro", include_str!("../../../../data/messages/catalogue/ro.toml")),
    ("hu", include_str!("../../../../data/messages/catalogue/hu.toml")),
    ("vi", include_str!("../../../../data/messages/catalogue/vi.toml")),
    ("zh-Hans", include_str!("../../../../data/messages/catalogue/zh-Hans.toml")),
    ("sq", include_str!("../../../../data/messages/catalogue/sq.toml")),
    ("pl", include_str!("../../../../data/messages/catalogue/pl.toml")),
];

/// One language's wording of the catalogue's public texts, by id.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueWording {
    #[serde(default)]
    exploitation_types: BTreeMap<String, ExploitationTypeWording>,
    #[serde(default)]
    sectors: BTreeMap<String, SectorWording>,
    #[serde(default)]
    indicators: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExploitationTypeWording {
    name: String,
    summary: String,
    examples: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SectorWording {
    name: String,
    place_label: String,
    introduction: String,
}

#[derive(Debug, thiserror::Error)]
#[error("message catalogue {language}: {problem}")]
pub struct MessagesError {
    pub language: String,
    pub problem: String,
}

/// Every language's messages, each already merged over English.
#[derive(Debug, Clone)]
pub struct Messages {
    by_language: BTreeMap<String, minijinja::Value>,
    catalogue: BTreeMap<String, CatalogueWording>,
}

impl Messages {
    pub fn load() -> Result<Self, MessagesError> {
        let error = |language: &str, problem: String| MessagesError { language: language.to_owned(), problem };
        let english: Table = LANGUAGES[0].2.parse().map_err(|parse: toml::de::Error| error("en", parse.to_string()))?;
        let mut by_language = BTreeMap::new();
        for (code, _, text) in LANGUAGES {
            let translation: Table = text.parse().map_err(|parse: toml::de::Error| error(code, parse.to_string()))?;
            let mut merged = english.clone();
            for (section, values) in &translation {
                let Some(english_section) = english.get(section).and_then(|value| value.as_table()) else {
                    return Err(error(code, format!("section [{section}] does not exist in English")));
                };
                let Some(values) = values.as_table() else { return Err(error(code, format!("[{section}] must be a table"))) };
                for key in values.keys() {
                    if !english_section.contains_key(key) {
                        return Err(error(code, format!("[{section}] {key} does not exist in English")));
                    }
                }
                let merged_section = merged.get_mut(section).and_then(|value| value.as_table_mut()).expect("checked above");
                for (key, value) in values {
                    merged_section.insert(key.clone(), value.clone());
                }
            }
            for (section, values) in &english {
                let Some(values) = values.as_table() else { return Err(error("en", format!("[{section}] must be a table"))) };
                let translated = translation.get(section).and_then(|value| value.as_table());
                for key in values.keys() {
                    if !translated.is_some_and(|table| table.contains_key(key)) {
                        return Err(error(code, format!("[{section}] {key} is missing; every page must be complete in every language")));
                    }
                }
            }
            by_language.insert(code.to_owned(), serde_value(&merged));
        }
        let mut catalogue = BTreeMap::new();
        for (code, text) in CATALOGUE_WORDING {
            let wording: CatalogueWording = toml::from_str(text).map_err(|parse| error(code, format!("catalogue wording: {parse}")))?;
            catalogue.insert(code.to_owned(), wording);
        }
        Ok(Self { by_language, catalogue })
    }

    /// The catalogue's public wording in a language (English for English
    /// and for any id a translation lacks).
    pub fn catalogue_in<'a>(&'a self, catalogue: &'a Catalogue, code: &str) -> PublicCatalogue<'a> {
        PublicCatalogue { catalogue, wording: self.catalogue.get(code) }
    }

    /// A language's messages; unknown languages get English.
    pub fn for_language(&self, code: &str) -> minijinja::Value {
        self.by_language.get(code).or_else(|| self.by_language.get("en")).cloned().unwrap_or_default()
    }

    /// A language code the service speaks, or English.
    pub fn known_language(code: Option<&str>) -> &'static str {
        code.and_then(|wanted| LANGUAGES.iter().find(|(known, _, _)| *known == wanted)).map_or("en", |(known, _, _)| known)
    }
}

/// The catalogue as a member of the public reads it in one language.
#[derive(Clone, Copy)]
pub struct PublicCatalogue<'a> {
    pub catalogue: &'a Catalogue,
    wording: Option<&'a CatalogueWording>,
}

impl<'a> PublicCatalogue<'a> {
    fn sector_wording(&self, sector: &Sector) -> Option<&'a SectorWording> {
        self.wording.and_then(|wording| wording.sectors.get(&sector.id))
    }

    fn type_wording(&self, kind: &ExploitationType) -> Option<&'a ExploitationTypeWording> {
        self.wording.and_then(|wording| wording.exploitation_types.get(&kind.id))
    }

    pub fn sector_name(&self, sector: &'a Sector) -> &'a str {
        self.sector_wording(sector).map_or(&sector.name, |wording| &wording.name)
    }

    pub fn place_label(&self, sector: &'a Sector) -> &'a str {
        self.sector_wording(sector).map_or(&sector.place_label, |wording| &wording.place_label)
    }

    pub fn introduction(&self, sector: &'a Sector) -> &'a str {
        self.sector_wording(sector).map_or(&sector.introduction, |wording| &wording.introduction)
    }

    /// A sign as the public reads it.
    pub fn sign(&self, indicator: &'a Indicator) -> &'a str {
        self.wording.and_then(|wording| wording.indicators.get(&indicator.id)).map_or(&indicator.public, String::as_str)
    }

    pub fn type_name(&self, kind: &'a ExploitationType) -> &'a str {
        self.type_wording(kind).map_or(&kind.name, |wording| &wording.name)
    }

    pub fn type_summary(&self, kind: &'a ExploitationType) -> &'a str {
        self.type_wording(kind).map_or(&kind.summary, |wording| &wording.summary)
    }

    pub fn type_examples(&self, kind: &'a ExploitationType) -> &'a [String] {
        match self.type_wording(kind) {
            Some(wording) if wording.examples.len() == kind.examples.len() => &wording.examples,
            _ => &kind.examples,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_loads_and_translates_get_help() {
        let messages = Messages::load().unwrap();
        for (code, _, _) in LANGUAGES {
            let text = messages.for_language(code);
            let title = text.get_attr("get_help").unwrap().get_attr("title").unwrap();
            assert!(!title.to_string().is_empty());
            if code != "en" {
                assert_ne!(title.to_string(), "Get help now", "{code} still shows English");
            }
        }
        assert_eq!(Messages::known_language(Some("xx")), "en");
        assert_eq!(Messages::known_language(Some("ro")), "ro");
    }

    fn placeholders(text: &str) -> std::collections::BTreeSet<String> {
        text.split('{').skip(1).filter_map(|part| part.split_once('}')).map(|(name, _)| name.to_owned()).collect()
    }

    #[test]
    fn every_translation_keeps_the_placeholders_of_english() {
        let english: Table = LANGUAGES[0].2.parse().unwrap();
        for (code, _, text) in LANGUAGES.iter().skip(1) {
            let translation: Table = text.parse().unwrap();
            for (section, values) in &english {
                for (key, value) in values.as_table().unwrap() {
                    let translated = translation[section][key].as_str().unwrap();
                    assert_eq!(placeholders(translated), placeholders(value.as_str().unwrap()), "{code} [{section}] {key}");
                }
            }
        }
    }

    #[test]
    fn every_language_words_every_public_text_of_the_shipped_catalogue() {
        let catalogue = Catalogue::from_toml(include_str!("../../../../data/indicators.toml")).unwrap();
        let messages = Messages::load().unwrap();
        for (code, _) in CATALOGUE_WORDING {
            let wording = &messages.catalogue[code];
            let public = messages.catalogue_in(&catalogue, code);
            for sector in &catalogue.sectors {
                assert!(wording.sectors.contains_key(&sector.id), "{code}: sector {} is not translated", sector.id);
                assert_ne!(public.place_label(sector), sector.place_label, "{code}: {} still in English", sector.id);
            }
            for kind in &catalogue.exploitation_types {
                let translated = &wording.exploitation_types[&kind.id];
                assert_eq!(translated.examples.len(), kind.examples.len(), "{code}: {} examples", kind.id);
            }
            for indicator in &catalogue.indicators {
                assert!(wording.indicators.contains_key(&indicator.id), "{code}: sign {} is not translated", indicator.id);
                assert_ne!(public.sign(indicator), indicator.public, "{code}: {} still in English", indicator.id);
            }
            let ids = |map: &BTreeMap<String, String>| map.keys().cloned().collect::<Vec<_>>();
            for id in ids(&wording.indicators) {
                assert!(catalogue.indicator(&id).is_some(), "{code}: {id} is not a sign in the catalogue");
            }
            for id in wording.sectors.keys() {
                assert!(catalogue.sector(id).is_some(), "{code}: {id} is not a sector in the catalogue");
            }
        }
        let english = messages.catalogue_in(&catalogue, "en");
        let nail_bar = catalogue.sector("nail_bar").unwrap();
        assert_eq!(english.place_label(nail_bar), nail_bar.place_label);
    }
}
