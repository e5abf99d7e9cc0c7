//! Exports of a network for other tools: GraphML, GEXF 1.3 (with time validity), i2 Analyst's
//! Notebook charts (ANX), FollowTheMoney JSON lines, and CSV for Neo4j's bulk importer. Every
//! exporter writes to a caller's writer.

pub mod anx;
pub mod ftm;
pub mod gexf;
pub mod graphml;
pub mod neo4j;

use crate::analysis::TimeWindow;
use crate::model::{NetworkGraph, Relation};

/// A numeric value per entity (a community number, a centrality) to carry into an export, so an
/// analyst opening the file in Gephi or yEd sees the analysis results on the nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeAttribute {
    pub name: String,
    /// One value per entity position; `None` where the entity has no value (e.g. excluded hubs).
    pub values: Vec<Option<f64>>,
}

/// What to export.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExportOptions {
    /// Only relations active in this window are written; every entity is written.
    pub window: TimeWindow,
    pub node_attributes: Vec<NodeAttribute>,
}

impl ExportOptions {
    fn relations<'network>(&self, network: &'network NetworkGraph) -> impl Iterator<Item = (usize, &'network Relation)> + 'network {
        let window = self.window;
        network.relations().iter().enumerate().filter(move |(_, relation)| window.admits(relation))
    }
}

/// Escapes text for an XML attribute or element. Characters XML 1.0 forbids (most C0 controls)
/// become U+FFFD, because a single stray control character in a name would make the whole file
/// unreadable to every XML parser.
pub(crate) fn escape_xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push_str(&format!("&#{};", u32::from(character))),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => escaped.push('\u{fffd}'),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::escape_xml;

    #[test]
    fn escapes_markup_and_replaces_forbidden_characters() {
        assert_eq!(escape_xml("A & B <c> \"d\" 'e'"), "A &amp; B &lt;c&gt; &quot;d&quot; &apos;e&apos;");
        assert_eq!(escape_xml("bell\u{7}tab\t"), "bell\u{fffd}tab&#9;");
    }
}
