//! The message catalogue: every word on the public pages, by language.
//!
//! English (`data/messages/en.toml`) is complete. Each other language
//! overlays English; its `get_help` table must be complete, because that is
//! the page a victim needs most. Loading checks both rules, so a missing or
//! misspelt key stops start-up rather than showing a blank on a page.

use super::serde_value;
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

/// The table every language must translate completely.
const REQUIRED_IN_EVERY_LANGUAGE: [&str; 3] = ["get_help", "common", "cookie_banner"];

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
            for section in REQUIRED_IN_EVERY_LANGUAGE {
                let Some(required) = english.get(section).and_then(|value| value.as_table()) else {
                    return Err(error("en", format!("section [{section}] is missing")));
                };
                let translated = translation.get(section).and_then(|value| value.as_table());
                for key in required.keys() {
                    if !translated.is_some_and(|table| table.contains_key(key)) {
                        return Err(error(code, format!("[{section}] {key} is missing; the get-help page must be complete in every language")));
                    }
                }
            }
            by_language.insert(code.to_owned(), serde_value(&merged));
        }
        Ok(Self { by_language })
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
}
