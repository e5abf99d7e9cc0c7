//! Strict parsing of `application/x-www-form-urlencoded` bodies: repeated
//! names (checkboxes) are kept, and bytes that are not UTF-8 are refused
//! rather than silently replaced.

use percent_encoding::percent_decode;

/// The fields of a submitted form, in order.
#[derive(Debug, Default, Clone)]
pub struct FormData {
    fields: Vec<(String, String)>,
}

/// Why a form body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the form contained characters that are not valid text (not UTF-8)")]
    NotUtf8,
}

impl FormData {
    pub fn parse(body: &[u8]) -> Result<Self, FormError> {
        let mut fields = Vec::new();
        for pair in body.split(|byte| *byte == b'&').filter(|pair| !pair.is_empty()) {
            let (name, value) = match pair.iter().position(|byte| *byte == b'=') {
                Some(position) => (&pair[..position], &pair[position + 1..]),
                None => (pair, &[][..]),
            };
            fields.push((decode(name)?, decode(value)?));
        }
        Ok(Self { fields })
    }

    /// A form filled in beforehand (a page offering a draft), from its
    /// fields in order.
    pub fn from_pairs(fields: Vec<(String, String)>) -> Self {
        Self { fields }
    }

    /// The first value for `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(field, _)| field == name).map(|(_, value)| value.as_str())
    }

    /// The first value for `name`, or `None` when missing or blank.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).filter(|value| !value.trim().is_empty()).map(str::to_owned)
    }

    /// Every value for `name`, in order (checkboxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields.iter().filter(|(field, _)| field == name).map(|(_, value)| value.clone()).collect()
    }
}

fn decode(raw: &[u8]) -> Result<String, FormError> {
    let plus_as_space: Vec<u8> = raw.iter().map(|byte| if *byte == b'+' { b' ' } else { *byte }).collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| FormError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_repeated_names_and_decodes() {
        let form = FormData::parse(b"signs=a&signs=b&town=Leighton+Buzzard&name=%C8%98tefan&empty=").unwrap();
        assert_eq!(form.all("signs"), vec!["a", "b"]);
        assert_eq!(form.get("town"), Some("Leighton Buzzard"));
        assert_eq!(form.get("name"), Some("Ștefan"));
        assert_eq!(form.text("empty"), None);
        assert_eq!(form.get("missing"), None);
    }

    #[test]
    fn refuses_invalid_utf8() {
        assert_eq!(FormData::parse(b"town=%FF%FE").unwrap_err(), FormError::NotUtf8);
    }
}
