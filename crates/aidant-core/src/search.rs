//! Folding text for search, identically when indexing and when querying, on
//! both storage backends: "Ștefan" and "Stefan" fold to `stefan`, "Nguyễn"
//! to `nguyen`, "ŁÓDŹ" to `lodz`.

/// Folds text to lower-case ASCII words separated by single spaces:
/// transliterated (deunicode), diacritics removed, punctuation dropped.
/// Scripts deunicode transliterates (Chinese to pinyin, Cyrillic, Greek)
/// become findable by their Latin spelling.
pub fn fold(text: &str) -> String {
    let transliterated = deunicode::deunicode_with_tofu(text, " ");
    let mut folded = String::with_capacity(transliterated.len());
    for word in transliterated.split(|character: char| !character.is_ascii_alphanumeric()).filter(|word| !word.is_empty()) {
        if !folded.is_empty() {
            folded.push(' ');
        }
        folded.extend(word.chars().map(|character| character.to_ascii_lowercase()));
    }
    folded
}

/// The words of a search query, folded, at most `limit` of them. Each word
/// contains only `[a-z0-9]`, so it is safe to place in an FTS5 or tsquery
/// expression without escaping rules of either.
pub fn query_terms(query: &str, limit: usize) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for term in fold(query).split(' ').filter(|term| !term.is_empty()) {
        if !terms.iter().any(|seen| seen == term) {
            terms.push(term.to_owned());
        }
        if terms.len() == limit {
            break;
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_the_names_victims_and_suspects_carry() {
        assert_eq!(fold("Ștefan Țăranu"), "stefan taranu");
        assert_eq!(fold("Nguyễn Văn Nam"), "nguyen van nam");
        assert_eq!(fold("János Kovács, Łódź"), "janos kovacs lodz");
        assert_eq!(fold("Ardit Hoxha-Çela"), "ardit hoxha cela");
        assert_eq!(fold("张伟"), "zhang wei");
        assert_eq!(fold("  AB12   CDE!! "), "ab12 cde");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn query_terms_are_folded_unique_and_safe() {
        assert_eq!(query_terms("Ștefan \"OR\" stefan* NEAR(x)", 10), ["stefan", "or", "near", "x"]);
        assert_eq!(query_terms("a b c d", 2), ["a", "b"]);
        assert!(query_terms("!!! ---", 5).is_empty());
        for term in query_terms("Nguyễn's 'quoted' (grouped) -negated ^caret", 10) {
            assert!(term.chars().all(|character| character.is_ascii_lowercase() || character.is_ascii_digit()), "{term}");
        }
    }
}
