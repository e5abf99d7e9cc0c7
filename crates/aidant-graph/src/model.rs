//! The network model: typed entities and typed, dated, sourced relations between them.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// A calendar date on which a relation was first or last seen.
pub type SeenDate = time::Date;

/// Declares a string-backed enum with one canonical snake_case spelling per variant, so the CSV
/// input, every export and the JSON run records name each kind the same way.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical snake_case name used in files and exports.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the canonical name; surrounding spaces, case and hyphens are tolerated
            /// because analysts type these by hand in spreadsheets.
            pub fn parse(text: &str) -> Option<Self> {
                let normalised = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
                match normalised.as_str() { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }
    };
}

named_enum! {
    /// What an entity in the network is.
    EntityKind {
        Person => "person",
        Phone => "phone",
        Vehicle => "vehicle",
        Address => "address",
        Business => "business",
        BankAccount => "bank_account",
        OnlineAccount => "online_account",
        Report => "report",
        Operation => "operation",
    }
}

named_enum! {
    /// What a relation between two entities asserts. Relations are stored with a direction
    /// (person *uses* phone) but every analysis treats the network as undirected.
    RelationKind {
        UsesPhone => "uses_phone",
        DrivesVehicle => "drives_vehicle",
        RegisteredKeeperOf => "registered_keeper_of",
        LivesAt => "lives_at",
        WorksAt => "works_at",
        Owns => "owns",
        Associate => "associate",
        Family => "family",
        Called => "called",
        Transported => "transported",
        Controls => "controls",
        VictimOf => "victim_of",
        MentionedInReport => "mentioned_in_report",
        /// A person and an address named in one record: they were there, which may mean they
        /// live, work or were only seen there (a motorway services is an address too).
        AtAddress => "at_address",
        /// A person and an email address or online account named in one record.
        UsesAccount => "uses_account",
        /// Two things named in one record, where the pair of kinds implies nothing more.
        MentionedWith => "mentioned_with",
    }
}

impl RelationKind {
    /// Whether the relation reads the same both ways (two associates, two
    /// relatives, two things named together); the others read from source to
    /// target (a person *uses* a phone). Exports write every relation
    /// undirected, as every analysis treats it, and say which read one way.
    pub fn is_symmetric(self) -> bool {
        matches!(self, RelationKind::Associate | RelationKind::Family | RelationKind::MentionedWith)
    }

    /// `none` for a symmetric relation, `source_to_target` for the others.
    pub fn direction(self) -> &'static str {
        if self.is_symmetric() { "none" } else { "source_to_target" }
    }
}

named_enum! {
    /// A person's role in the trafficking process, after `per_RoleInProcess` in the Human
    /// Trafficking Case Data Standard.
    RoleInProcess {
        RecruiterOrIntermediary => "recruiter_or_intermediary",
        Transporter => "transporter",
        Harbourer => "harbourer",
        Controller => "controller",
        Exploiter => "exploiter",
        Smuggler => "smuggler",
        Abuser => "abuser",
        Buyer => "buyer",
        Financier => "financier",
        DocumentForger => "document_forger",
        Victim => "victim",
        Other => "other",
        Unknown => "unknown",
    }
}

/// One entity: a person, phone, vehicle, address and so on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// The caller's identifier, unique within one network.
    pub id: String,
    pub kind: EntityKind,
    /// What an analyst reads: a name, a number, a registration mark, an address line.
    pub label: String,
    /// Only people carry a role; the model rejects a role on any other kind.
    pub role: Option<RoleInProcess>,
}

/// One relation between two entities, stored by their positions in [`NetworkGraph::entities`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    pub source: usize,
    pub target: usize,
    pub kind: RelationKind,
    #[serde(with = "optional_iso_date")]
    pub first_seen: Option<SeenDate>,
    #[serde(with = "optional_iso_date")]
    pub last_seen: Option<SeenDate>,
    /// Where the relation was learnt: a report reference, an intelligence log number.
    pub source_reference: String,
    /// How sure the source is, from 0 (guess) to 1 (certain).
    pub confidence: f64,
}

/// The strength of one relation as its source counted it: a number of calls, meetings or
/// payments, say. Always positive and finite; a relation nobody weighed weighs 1.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct RelationWeight(f64);

impl RelationWeight {
    /// The weight of a relation nobody weighed.
    pub const ONE: RelationWeight = RelationWeight(1.0);

    /// A weight, if `value` is positive and finite.
    pub fn new(value: f64) -> Option<Self> {
        (value > 0.0 && value.is_finite()).then_some(Self(value))
    }

    /// Parses a weight as an analyst types it (`5`, `2.5`, ` 12 `).
    pub fn parse(text: &str) -> Option<Self> {
        text.trim().parse::<f64>().ok().and_then(Self::new)
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for RelationWeight {
    type Error = ModelError;

    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Self::new(value).ok_or(ModelError::WeightNotPositive(value))
    }
}

impl From<RelationWeight> for f64 {
    fn from(weight: RelationWeight) -> f64 {
        weight.0
    }
}

/// Names a node attribute may not take, compared without regard to case: the entity's own
/// fields, the columns the Neo4j export writes itself, and the analysis results `aidant graph
/// export --with-analysis` adds, so no export ever carries two attributes of one name.
pub const RESERVED_ATTRIBUTE_NAMES: [&str; 8] = ["id", "kind", "label", "role", "entityid", "community", "degree_centrality", "betweenness_centrality"];

/// Why an entity or relation could not be added to a network.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ModelError {
    #[error("entity id '{0}' is used more than once")]
    DuplicateEntityId(String),
    #[error("entity id must not be empty")]
    EmptyEntityId,
    #[error("a role in process is only allowed on a person, not on a {0}")]
    RoleOnNonPerson(EntityKind),
    #[error("relation refers to unknown entity '{0}'")]
    UnknownEntity(String),
    #[error("confidence {0} is outside 0..=1")]
    ConfidenceOutOfRange(f64),
    #[error("first seen {first_seen} is after last seen {last_seen}")]
    FirstSeenAfterLastSeen { first_seen: SeenDate, last_seen: SeenDate },
    #[error("weight {0} is not a positive number")]
    WeightNotPositive(f64),
    #[error("'{0}' is the name of a built-in attribute ({reserved}); rename the column", reserved = RESERVED_ATTRIBUTE_NAMES.join(", "))]
    ReservedAttributeName(String),
    #[error("the attribute '{0}' is named twice")]
    DuplicateAttributeName(String),
    #[error("the attribute name '{0}' is not allowed: a name must not be empty nor contain ':' (Neo4j's importer reads what follows a ':' as a type)")]
    BadAttributeName(String),
    #[error("no attribute number {0}")]
    UnknownAttribute(usize),
}

/// A network of entities and relations, with an id index so relations can name entities by id.
#[derive(Clone, Debug, Default)]
pub struct NetworkGraph {
    entities: Vec<Entity>,
    relations: Vec<Relation>,
    index_by_id: HashMap<String, usize>,
    /// Who supplied each source reference (an organisation, an informant), where the caller
    /// knows: hub detection counts distinct sources as well as distinct references.
    reference_sources: BTreeMap<String, String>,
    /// The weight of each relation, by position in `relations`.
    relation_weights: Vec<RelationWeight>,
    /// Whether the caller weighed relations at all (an edges file with a weight column): only
    /// then do exports write weights, so a network without them exports as it always did.
    has_relation_weights: bool,
    /// Names of the text attributes entities carry beyond id, kind, label and role, in the order
    /// the caller declared them (the columns of a nodes file).
    attribute_names: Vec<String>,
    /// Per entity, one value per attribute name; `None` where the entity has no value.
    attribute_values: Vec<Vec<Option<String>>>,
}

impl NetworkGraph {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    pub fn relations(&self) -> &[Relation] {
        &self.relations
    }

    /// The position of the entity with this id, if any.
    pub fn entity_index(&self, id: &str) -> Option<usize> {
        self.index_by_id.get(id).copied()
    }

    /// The relations joining two entities (in either direction) that the window admits, so a
    /// path or a link shown to an analyst can cite the evidence behind each hop.
    pub fn relations_between(&self, first_entity: usize, second_entity: usize, window: &crate::analysis::TimeWindow) -> Vec<&Relation> {
        self.relation_positions_between(first_entity, second_entity, window).into_iter().map(|position| &self.relations[position]).collect()
    }

    /// The positions of [`Self::relations_between`], for callers that also want each relation's
    /// weight.
    pub fn relation_positions_between(&self, first_entity: usize, second_entity: usize, window: &crate::analysis::TimeWindow) -> Vec<usize> {
        self.relations
            .iter()
            .enumerate()
            .filter(|(_, relation)| {
                let joins = (relation.source == first_entity && relation.target == second_entity)
                    || (relation.source == second_entity && relation.target == first_entity);
                joins && window.admits(relation)
            })
            .map(|(position, _)| position)
            .collect()
    }

    /// Records who supplied `reference` (the source reference of relations): records held by one
    /// organisation, say, are one source however many there are.
    pub fn set_reference_source(&mut self, reference: &str, source: &str) {
        self.reference_sources.insert(reference.to_owned(), source.to_owned());
    }

    /// Who supplied `reference`, if the caller said; a reference nobody described is taken to
    /// be its own source.
    pub fn reference_source<'a>(&'a self, reference: &'a str) -> &'a str {
        self.reference_sources.get(reference).map_or(reference, String::as_str)
    }

    /// Adds an entity and returns its position.
    pub fn add_entity(&mut self, entity: Entity) -> Result<usize, ModelError> {
        if entity.id.trim().is_empty() {
            return Err(ModelError::EmptyEntityId);
        }
        if entity.role.is_some() && entity.kind != EntityKind::Person {
            return Err(ModelError::RoleOnNonPerson(entity.kind));
        }
        if self.index_by_id.contains_key(&entity.id) {
            return Err(ModelError::DuplicateEntityId(entity.id));
        }
        let position = self.entities.len();
        self.index_by_id.insert(entity.id.clone(), position);
        self.entities.push(entity);
        self.attribute_values.push(vec![None; self.attribute_names.len()]);
        Ok(position)
    }

    /// Declares a text attribute that entities may carry into exports (a nationality, a case
    /// number) and returns its number. Names of built-in attributes ([`RESERVED_ATTRIBUTE_NAMES`])
    /// and names declared before are refused, whatever their case.
    pub fn add_attribute_name(&mut self, name: &str) -> Result<usize, ModelError> {
        let name = name.trim();
        if name.is_empty() || name.contains(':') {
            return Err(ModelError::BadAttributeName(name.to_owned()));
        }
        if RESERVED_ATTRIBUTE_NAMES.iter().any(|reserved| reserved.eq_ignore_ascii_case(name)) {
            return Err(ModelError::ReservedAttributeName(name.to_owned()));
        }
        if self.attribute_names.iter().any(|known| known.eq_ignore_ascii_case(name)) {
            return Err(ModelError::DuplicateAttributeName(name.to_owned()));
        }
        self.attribute_names.push(name.to_owned());
        self.attribute_values.iter_mut().for_each(|values| values.push(None));
        Ok(self.attribute_names.len() - 1)
    }

    /// The declared attribute names, numbered by position.
    pub fn attribute_names(&self) -> &[String] {
        &self.attribute_names
    }

    /// Gives an entity a value of a declared attribute.
    pub fn set_attribute(&mut self, entity: usize, attribute: usize, value: &str) -> Result<(), ModelError> {
        if attribute >= self.attribute_names.len() {
            return Err(ModelError::UnknownAttribute(attribute));
        }
        let values = self.attribute_values.get_mut(entity).ok_or_else(|| ModelError::UnknownEntity(format!("#{entity}")))?;
        values[attribute] = Some(value.to_owned());
        Ok(())
    }

    /// An entity's value of an attribute, if it has one.
    pub fn attribute(&self, entity: usize, attribute: usize) -> Option<&str> {
        self.attribute_values.get(entity)?.get(attribute)?.as_deref()
    }

    /// The weight of the relation at `position` (1 unless the caller weighed it).
    pub fn relation_weight(&self, position: usize) -> RelationWeight {
        self.relation_weights.get(position).copied().unwrap_or(RelationWeight::ONE)
    }

    /// Whether the caller weighed any relation with [`Self::add_weighted_relation`].
    pub fn has_relation_weights(&self) -> bool {
        self.has_relation_weights
    }

    /// Adds a relation between two entities named by id.
    #[expect(clippy::too_many_arguments, reason = "one argument per field of a relation reads better at call sites than a builder")]
    pub fn add_relation_by_id(
        &mut self,
        source_id: &str,
        target_id: &str,
        kind: RelationKind,
        first_seen: Option<SeenDate>,
        last_seen: Option<SeenDate>,
        source_reference: &str,
        confidence: f64,
    ) -> Result<usize, ModelError> {
        let source = self.entity_index(source_id).ok_or_else(|| ModelError::UnknownEntity(source_id.to_owned()))?;
        let target = self.entity_index(target_id).ok_or_else(|| ModelError::UnknownEntity(target_id.to_owned()))?;
        self.add_relation(Relation { source, target, kind, first_seen, last_seen, source_reference: source_reference.to_owned(), confidence })
    }

    /// Adds a relation whose endpoints are entity positions, weighing 1.
    pub fn add_relation(&mut self, relation: Relation) -> Result<usize, ModelError> {
        self.push_relation(relation, RelationWeight::ONE)
    }

    /// Adds a relation with the weight its source gave it (a number of calls, say); from then
    /// on the network counts as weighed and exports write every relation's weight.
    pub fn add_weighted_relation(&mut self, relation: Relation, weight: RelationWeight) -> Result<usize, ModelError> {
        let position = self.push_relation(relation, weight)?;
        self.has_relation_weights = true;
        Ok(position)
    }

    fn push_relation(&mut self, relation: Relation, weight: RelationWeight) -> Result<usize, ModelError> {
        for endpoint in [relation.source, relation.target] {
            if endpoint >= self.entities.len() {
                return Err(ModelError::UnknownEntity(format!("#{endpoint}")));
            }
        }
        if !(0.0..=1.0).contains(&relation.confidence) {
            return Err(ModelError::ConfidenceOutOfRange(relation.confidence));
        }
        if let (Some(first_seen), Some(last_seen)) = (relation.first_seen, relation.last_seen)
            && first_seen > last_seen
        {
            return Err(ModelError::FirstSeenAfterLastSeen { first_seen, last_seen });
        }
        self.relations.push(relation);
        self.relation_weights.push(weight);
        Ok(self.relations.len() - 1)
    }

    /// SHA-256 of a canonical text form of the whole network: entities sorted by id, relations
    /// sorted by their rendered line. Two networks with the same content in a different order
    /// hash the same, so a run record names its input independently of file order. A weight of
    /// 1 and an attribute without a value are not written, so a network without weights or
    /// attributes hashes as it did before they existed.
    pub fn canonical_sha256(&self) -> String {
        let mut entity_lines: Vec<String> = self
            .entities
            .iter()
            .map(|entity| {
                format!(
                    "E\t{}\t{}\t{}\t{}\n",
                    escape_canonical(&entity.id),
                    entity.kind,
                    escape_canonical(&entity.label),
                    entity.role.map(RoleInProcess::as_str).unwrap_or("")
                )
            })
            .collect();
        for (position, entity) in self.entities.iter().enumerate() {
            for (attribute, name) in self.attribute_names.iter().enumerate() {
                if let Some(value) = self.attribute(position, attribute) {
                    entity_lines.push(format!("A\t{}\t{}\t{}\n", escape_canonical(&entity.id), escape_canonical(name), escape_canonical(value)));
                }
            }
        }
        entity_lines.sort();
        let mut relation_lines: Vec<String> = self
            .relations
            .iter()
            .enumerate()
            .map(|(position, relation)| {
                let weight = self.relation_weight(position);
                format!(
                    "R\t{}\t{}\t{}\t{}\t{}\t{}\t{:?}{}\n",
                    escape_canonical(&self.entities[relation.source].id),
                    escape_canonical(&self.entities[relation.target].id),
                    relation.kind,
                    format_optional_date(relation.first_seen),
                    format_optional_date(relation.last_seen),
                    escape_canonical(&relation.source_reference),
                    relation.confidence,
                    if weight == RelationWeight::ONE { String::new() } else { format!("\t{:?}", weight.get()) }
                )
            })
            .collect();
        relation_lines.sort();
        // Sources change which entities are hubs, so they are part of the input; a network
        // without any hashes as it did before sources existed.
        let source_lines: Vec<String> =
            self.reference_sources.iter().map(|(reference, source)| format!("S\t{}\t{}\n", escape_canonical(reference), escape_canonical(source))).collect();
        let mut hasher = Sha256::new();
        for line in entity_lines.iter().chain(relation_lines.iter()).chain(source_lines.iter()) {
            hasher.update(line.as_bytes());
        }
        hex_lower(&hasher.finalize())
    }
}

fn escape_canonical(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n")
}

/// Lower-case hexadecimal of a byte string.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Formats a date as ISO 8601 `YYYY-MM-DD`.
pub fn format_date(date: SeenDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// Formats an optional date as ISO 8601, or the empty string when unknown.
pub fn format_optional_date(date: Option<SeenDate>) -> String {
    date.map(format_date).unwrap_or_default()
}

/// Parses an ISO 8601 calendar date `YYYY-MM-DD`; anything else (including impossible dates such
/// as 2024-02-30) is rejected with a message saying what was expected.
pub fn parse_seen_date(text: &str) -> Result<SeenDate, String> {
    let trimmed = text.trim();
    let expected = || format!("'{trimmed}' is not a date in the form YYYY-MM-DD");
    let bytes = trimmed.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(expected());
    }
    let digits_only = |range: std::ops::Range<usize>| {
        bytes[range.clone()]
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| trimmed[range].parse::<u32>().expect("ASCII digits of at most four characters always parse as u32"))
    };
    let (Some(year), Some(month), Some(day)) = (digits_only(0..4), digits_only(5..7), digits_only(8..10)) else {
        return Err(expected());
    };
    let month = u8::try_from(month).ok().and_then(|month| time::Month::try_from(month).ok()).ok_or_else(expected)?;
    let year = i32::try_from(year).map_err(|_| expected())?;
    let day = u8::try_from(day).map_err(|_| expected())?;
    time::Date::from_calendar_date(year, month, day).map_err(|_| format!("'{trimmed}' is not a real calendar date"))
}

/// Serde support for optional dates as ISO 8601 strings (or null), the form every export and run
/// record uses.
pub mod optional_iso_date {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{SeenDate, format_date, parse_seen_date};

    pub fn serialize<S: Serializer>(date: &Option<SeenDate>, serializer: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(date) => serializer.serialize_str(&format_date(*date)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<SeenDate>, D::Error> {
        Option::<String>::deserialize(deserializer)?.map(|text| parse_seen_date(&text).map_err(serde::de::Error::custom)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str) -> Entity {
        Entity { id: id.to_owned(), kind: EntityKind::Person, label: id.to_owned(), role: None }
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in EntityKind::ALL {
            assert_eq!(EntityKind::parse(kind.as_str()), Some(*kind));
        }
        for kind in RelationKind::ALL {
            assert_eq!(RelationKind::parse(kind.as_str()), Some(*kind));
        }
        for role in RoleInProcess::ALL {
            assert_eq!(RoleInProcess::parse(role.as_str()), Some(*role));
        }
        assert_eq!(EntityKind::parse(" Bank-Account "), Some(EntityKind::BankAccount));
        assert_eq!(EntityKind::parse("spaceship"), None);
    }

    #[test]
    fn duplicate_ids_and_roles_on_non_persons_are_rejected() {
        let mut network = NetworkGraph::new();
        network.add_entity(person("a")).unwrap();
        assert_eq!(network.add_entity(person("a")), Err(ModelError::DuplicateEntityId("a".into())));
        let phone_with_role = Entity { id: "p".into(), kind: EntityKind::Phone, label: "07700900000".into(), role: Some(RoleInProcess::Controller) };
        assert_eq!(network.add_entity(phone_with_role), Err(ModelError::RoleOnNonPerson(EntityKind::Phone)));
    }

    #[test]
    fn relations_validate_endpoints_confidence_and_date_order() {
        let mut network = NetworkGraph::new();
        network.add_entity(person("a")).unwrap();
        network.add_entity(person("b")).unwrap();
        let early = parse_seen_date("2024-01-01").unwrap();
        let late = parse_seen_date("2024-06-01").unwrap();
        assert!(matches!(
            network.add_relation_by_id("a", "z", RelationKind::Associate, None, None, "r1", 1.0),
            Err(ModelError::UnknownEntity(id)) if id == "z"
        ));
        assert!(matches!(network.add_relation_by_id("a", "b", RelationKind::Associate, None, None, "r1", 1.5), Err(ModelError::ConfidenceOutOfRange(_))));
        assert!(matches!(
            network.add_relation_by_id("a", "b", RelationKind::Family, Some(late), Some(early), "r1", 1.0),
            Err(ModelError::FirstSeenAfterLastSeen { .. })
        ));
        assert_eq!(network.add_relation_by_id("a", "b", RelationKind::Family, Some(early), Some(late), "r1", 1.0), Ok(0));
    }

    #[test]
    fn relations_between_cite_both_directions_within_the_window() {
        let mut network = NetworkGraph::new();
        network.add_entity(person("a")).unwrap();
        network.add_entity(person("b")).unwrap();
        let early = parse_seen_date("2024-01-01").unwrap();
        let late = parse_seen_date("2024-06-01").unwrap();
        network.add_relation_by_id("a", "b", RelationKind::Family, Some(early), Some(early), "r1", 1.0).unwrap();
        network.add_relation_by_id("b", "a", RelationKind::Called, Some(late), Some(late), "r2", 1.0).unwrap();
        let all_time = crate::analysis::TimeWindow::ALL_TIME;
        assert_eq!(network.relations_between(0, 1, &all_time).len(), 2);
        let early_only = crate::analysis::TimeWindow { from: None, to: Some(early) };
        let cited = network.relations_between(1, 0, &early_only);
        assert_eq!(cited.len(), 1);
        assert_eq!(cited[0].source_reference, "r1");
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(format_date(parse_seen_date("2024-02-29").unwrap()), "2024-02-29");
        assert!(parse_seen_date("2023-02-29").is_err());
        assert!(parse_seen_date("2024-13-01").is_err());
        assert!(parse_seen_date("24-01-01").is_err());
        assert!(parse_seen_date("2024/01/01").is_err());
        assert!(parse_seen_date("２０２４-01-01").is_err());
    }

    proptest::proptest! {
        #[test]
        fn date_parsing_never_panics_and_round_trips(text in ".{0,14}") {
            if let Ok(date) = parse_seen_date(&text) {
                proptest::prop_assert_eq!(format_date(date), text.trim());
            }
        }
    }

    #[test]
    fn canonical_hash_ignores_order_but_not_content() {
        let mut first = NetworkGraph::new();
        first.add_entity(person("a")).unwrap();
        first.add_entity(person("b")).unwrap();
        first.add_relation_by_id("a", "b", RelationKind::Associate, None, None, "r1", 0.5).unwrap();
        let mut second = NetworkGraph::new();
        second.add_entity(person("b")).unwrap();
        second.add_entity(person("a")).unwrap();
        second.add_relation_by_id("a", "b", RelationKind::Associate, None, None, "r1", 0.5).unwrap();
        assert_eq!(first.canonical_sha256(), second.canonical_sha256());
        second.add_relation_by_id("b", "a", RelationKind::Associate, None, None, "r1", 0.5).unwrap();
        assert_ne!(first.canonical_sha256(), second.canonical_sha256());
    }

    #[test]
    fn weights_of_one_and_missing_attributes_leave_the_hash_as_it_was() {
        let relation = |network: &NetworkGraph| Relation {
            source: 0,
            target: network.entities().len() - 1,
            kind: RelationKind::Called,
            first_seen: None,
            last_seen: None,
            source_reference: "cdr".into(),
            confidence: 1.0,
        };
        let mut plain = NetworkGraph::new();
        plain.add_entity(person("a")).unwrap();
        plain.add_entity(person("b")).unwrap();
        plain.add_relation(relation(&plain)).unwrap();
        let mut weighed = NetworkGraph::new();
        weighed.add_attribute_name("nationality").unwrap();
        weighed.add_entity(person("a")).unwrap();
        weighed.add_entity(person("b")).unwrap();
        weighed.add_weighted_relation(relation(&weighed), RelationWeight::ONE).unwrap();
        assert!(weighed.has_relation_weights() && !plain.has_relation_weights());
        assert_eq!(plain.canonical_sha256(), weighed.canonical_sha256());
        weighed.set_attribute(1, 0, "Hungarian").unwrap();
        let with_attribute = weighed.canonical_sha256();
        assert_ne!(plain.canonical_sha256(), with_attribute, "an attribute value is content");
        weighed.add_weighted_relation(relation(&weighed), RelationWeight::new(3.0).unwrap()).unwrap();
        plain.add_relation(relation(&plain)).unwrap();
        assert_ne!(weighed.canonical_sha256(), with_attribute);
        assert_eq!(weighed.relation_weight(1).get(), 3.0);
        assert_eq!(plain.relation_weight(1), RelationWeight::ONE);
    }

    #[test]
    fn weights_must_be_positive_and_finite() {
        assert_eq!(RelationWeight::parse(" 5 ").map(RelationWeight::get), Some(5.0));
        for bad in ["0", "-1", "inf", "NaN", "", "five"] {
            assert_eq!(RelationWeight::parse(bad), None, "{bad}");
        }
        assert!(serde_json::from_str::<RelationWeight>("-1.0").is_err());
        assert_eq!(serde_json::to_string(&RelationWeight::new(2.5).unwrap()).unwrap(), "2.5");
    }

    #[test]
    fn attributes_are_declared_once_and_never_shadow_built_in_names() {
        let mut network = NetworkGraph::new();
        network.add_entity(person("a")).unwrap();
        let alias = network.add_attribute_name("alias").unwrap();
        network.add_entity(person("b")).unwrap();
        network.set_attribute(1, alias, "Bobby").unwrap();
        assert_eq!((network.attribute(0, alias), network.attribute(1, alias)), (None, Some("Bobby")));
        assert_eq!(network.add_attribute_name("Alias"), Err(ModelError::DuplicateAttributeName("Alias".into())));
        assert_eq!(network.add_attribute_name("ROLE"), Err(ModelError::ReservedAttributeName("ROLE".into())));
        assert_eq!(network.add_attribute_name(" "), Err(ModelError::BadAttributeName(String::new())));
        assert_eq!(network.set_attribute(0, 7, "x"), Err(ModelError::UnknownAttribute(7)));
        assert!(matches!(network.set_attribute(9, alias, "x"), Err(ModelError::UnknownEntity(_))));
    }

    #[test]
    fn reference_sources_default_to_the_reference_and_are_part_of_the_hash() {
        let mut network = NetworkGraph::new();
        network.add_entity(person("a")).unwrap();
        let without = network.canonical_sha256();
        assert_eq!(network.reference_source("r1"), "r1", "a reference nobody described is its own source");
        network.set_reference_source("r1", "force");
        assert_eq!(network.reference_source("r1"), "force");
        assert_ne!(network.canonical_sha256(), without);
    }
}
