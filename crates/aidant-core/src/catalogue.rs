//! The indicator catalogue: the signs of modern slavery, the sectors they
//! belong to, the ILO indicators they evidence and the triage weights.
//!
//! The catalogue is data (`data/indicators.toml`), versioned and reviewed by
//! domain experts, so wording and weights change without a release. Loading
//! checks every cross-reference; a bad catalogue is refused with a message
//! naming the entry and the problem.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

/// The eleven ILO indicators of forced labour, by stable id.
pub const ILO_INDICATOR_IDS: [&str; 11] = [
    "abuse_of_vulnerability",
    "deception",
    "restriction_of_movement",
    "isolation",
    "physical_and_sexual_violence",
    "intimidation_and_threats",
    "retention_of_identity_documents",
    "withholding_of_wages",
    "debt_bondage",
    "abusive_working_and_living_conditions",
    "excessive_overtime",
];

/// Tags a sign may carry.
pub const TAGS: [&str; 6] = ["person", "behaviour", "situation", "location", "document", "sector"];

/// The sector id whose signs apply to every place.
pub const GENERAL_SECTOR: &str = "general";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("the catalogue is not valid TOML: {0}")]
    Syntax(String),
    #[error("{entry}: {problem}")]
    Invalid { entry: String, problem: String },
}

fn invalid(entry: impl Into<String>, problem: impl Into<String>) -> CatalogueError {
    CatalogueError::Invalid { entry: entry.into(), problem: problem.into() }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IloIndicator {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExploitationType {
    pub id: String,
    pub name: String,
    /// Plain-English explanation for the public pages.
    pub summary: String,
    /// Plain-English examples, one sentence each.
    pub examples: Vec<String>,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sector {
    pub id: String,
    /// Short name, used in lists and headings ("Nail bars and beauty salons").
    pub name: String,
    /// The answer to "what kind of place was it?" ("A nail bar or beauty salon").
    pub place_label: String,
    /// One or two sentences introducing the signs page for this sector.
    pub introduction: String,
    pub exploitation_types: Vec<String>,
}

/// What a sign forces on triage regardless of score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Escalation {
    /// Someone may be in danger now: always Immediate.
    Immediate,
    /// A child may be involved: at least High.
    Child,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub id: String,
    /// Sector ids this sign belongs to; `general` applies everywhere.
    pub sectors: Vec<String>,
    /// Plain wording a member of the public reads.
    pub public: String,
    /// Wording staff read in the triage queue.
    pub staff: String,
    pub tags: Vec<String>,
    /// ILO indicator ids this sign evidences.
    #[serde(default)]
    pub ilo: Vec<String>,
    /// Points this sign adds to a report's triage score.
    pub weight: u32,
    #[serde(default)]
    pub escalation: Option<Escalation>,
    /// Where the sign comes from.
    pub source: String,
}

/// Thresholds and weights for triage; see `triage::triage`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageRules {
    /// Points for each distinct ILO indicator a report's signs evidence.
    pub points_per_ilo_indicator: u32,
    /// Score at or above which a report is High.
    pub high_at: u32,
    /// Score at or above which a report is Medium.
    pub medium_at: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    version: String,
    triage: TriageRules,
    ilo_indicator: Vec<IloIndicator>,
    exploitation_type: Vec<ExploitationType>,
    sector: Vec<Sector>,
    indicator: Vec<Indicator>,
}

/// A validated catalogue. Lookups by id are cheap and cannot miss for ids
/// that came from the catalogue itself.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub version: String,
    pub triage: TriageRules,
    pub ilo_indicators: Vec<IloIndicator>,
    pub exploitation_types: Vec<ExploitationType>,
    pub sectors: Vec<Sector>,
    pub indicators: Vec<Indicator>,
    indicator_index: BTreeMap<String, usize>,
}

impl Catalogue {
    /// Parses and validates a catalogue file's contents.
    pub fn from_toml(text: &str) -> Result<Self, CatalogueError> {
        let file: CatalogueFile = toml::from_str(text).map_err(|error| CatalogueError::Syntax(error.to_string()))?;
        validate(&file)?;
        let indicator_index = file.indicator.iter().enumerate().map(|(position, indicator)| (indicator.id.clone(), position)).collect();
        Ok(Self {
            version: file.version,
            triage: file.triage,
            ilo_indicators: file.ilo_indicator,
            exploitation_types: file.exploitation_type,
            sectors: file.sector,
            indicators: file.indicator,
            indicator_index,
        })
    }

    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicator_index.get(id).map(|&position| &self.indicators[position])
    }

    pub fn sector(&self, id: &str) -> Option<&Sector> {
        self.sectors.iter().find(|sector| sector.id == id)
    }

    pub fn exploitation_type(&self, id: &str) -> Option<&ExploitationType> {
        self.exploitation_types.iter().find(|kind| kind.id == id)
    }

    pub fn ilo_indicator(&self, id: &str) -> Option<&IloIndicator> {
        self.ilo_indicators.iter().find(|ilo| ilo.id == id)
    }

    /// The sectors a reporter can choose as "the kind of place" (all but general).
    pub fn place_sectors(&self) -> impl Iterator<Item = &Sector> {
        self.sectors.iter().filter(|sector| sector.id != GENERAL_SECTOR)
    }

    /// Signs specific to a sector, in catalogue order.
    pub fn sector_indicators<'a>(&'a self, sector_id: &'a str) -> impl Iterator<Item = &'a Indicator> + 'a {
        self.indicators.iter().filter(move |indicator| indicator.sectors.iter().any(|sector| sector == sector_id))
    }

    /// Signs a reporter at a place of this sector may tick: its own signs, then the general ones.
    pub fn indicators_for_place<'a>(&'a self, sector_id: &'a str) -> impl Iterator<Item = &'a Indicator> + 'a {
        let specific = self.sector_indicators(sector_id);
        let general = self.sector_indicators(GENERAL_SECTOR).filter(move |indicator| !indicator.sectors.iter().any(|sector| sector == sector_id));
        specific.chain(general)
    }
}

fn validate(file: &CatalogueFile) -> Result<(), CatalogueError> {
    if file.version.trim().is_empty() {
        return Err(invalid("version", "must not be empty"));
    }
    let rules = &file.triage;
    if rules.medium_at == 0 || rules.medium_at >= rules.high_at {
        return Err(invalid("triage", "medium_at must be above 0 and below high_at"));
    }

    let ilo_ids = unique_ids("ilo_indicator", file.ilo_indicator.iter().map(|ilo| ilo.id.as_str()))?;
    for required in ILO_INDICATOR_IDS {
        if !ilo_ids.contains(required) {
            return Err(invalid(format!("ilo_indicator {required}"), "is missing: all eleven ILO indicators must be listed"));
        }
    }
    if ilo_ids.len() != ILO_INDICATOR_IDS.len() {
        return Err(invalid("ilo_indicator", "lists an indicator that is not one of the ILO's eleven"));
    }

    let exploitation_ids = unique_ids("exploitation_type", file.exploitation_type.iter().map(|kind| kind.id.as_str()))?;
    for kind in &file.exploitation_type {
        require_text(&format!("exploitation_type {}", kind.id), &[("name", &kind.name), ("summary", &kind.summary), ("source", &kind.source)])?;
        if kind.examples.is_empty() {
            return Err(invalid(format!("exploitation_type {}", kind.id), "needs at least one example"));
        }
    }

    let sector_ids = unique_ids("sector", file.sector.iter().map(|sector| sector.id.as_str()))?;
    if !sector_ids.contains(GENERAL_SECTOR) {
        return Err(invalid("sector general", "is missing: general signs need a sector"));
    }
    for sector in &file.sector {
        let entry = format!("sector {}", sector.id);
        require_text(&entry, &[("name", &sector.name), ("place_label", &sector.place_label), ("introduction", &sector.introduction)])?;
        for kind in &sector.exploitation_types {
            if !exploitation_ids.contains(kind.as_str()) {
                return Err(invalid(&entry, format!("names exploitation type '{kind}', which is not in the catalogue")));
            }
        }
    }

    unique_ids("indicator", file.indicator.iter().map(|indicator| indicator.id.as_str()))?;
    for indicator in &file.indicator {
        let entry = format!("indicator {}", indicator.id);
        require_text(&entry, &[("public", &indicator.public), ("staff", &indicator.staff), ("source", &indicator.source)])?;
        if indicator.sectors.is_empty() {
            return Err(invalid(&entry, "must belong to at least one sector"));
        }
        for sector in &indicator.sectors {
            if !sector_ids.contains(sector.as_str()) {
                return Err(invalid(&entry, format!("names sector '{sector}', which is not in the catalogue")));
            }
        }
        if indicator.tags.is_empty() {
            return Err(invalid(&entry, "needs at least one tag"));
        }
        for tag in &indicator.tags {
            if !TAGS.contains(&tag.as_str()) {
                return Err(invalid(&entry, format!("has tag '{tag}'; tags are {}", TAGS.join(", "))));
            }
        }
        for ilo in &indicator.ilo {
            if !ilo_ids.contains(ilo.as_str()) {
                return Err(invalid(&entry, format!("names ILO indicator '{ilo}', which is not one of the eleven")));
            }
        }
        if indicator.weight > 10 {
            return Err(invalid(&entry, "weight must be between 0 and 10"));
        }
    }
    for sector in &file.sector {
        if !file.indicator.iter().any(|indicator| indicator.sectors.contains(&sector.id)) {
            return Err(invalid(format!("sector {}", sector.id), "has no signs"));
        }
    }
    Ok(())
}

fn unique_ids<'a>(kind: &str, ids: impl Iterator<Item = &'a str>) -> Result<BTreeSet<&'a str>, CatalogueError> {
    let mut seen = BTreeSet::new();
    for id in ids {
        let well_formed = !id.is_empty() && id.chars().all(|character| character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_');
        if !well_formed {
            return Err(invalid(format!("{kind} '{id}'"), "ids use lower-case letters, digits and underscores only"));
        }
        if !seen.insert(id) {
            return Err(invalid(format!("{kind} {id}"), "appears more than once"));
        }
    }
    Ok(seen)
}

fn require_text(entry: &str, fields: &[(&str, &String)]) -> Result<(), CatalogueError> {
    for (name, value) in fields {
        if value.trim().is_empty() {
            return Err(invalid(entry, format!("{name} must not be empty")));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The catalogue shipped in `data/`, which every test of the real rules uses.
    pub(crate) fn shipped() -> Catalogue {
        Catalogue::from_toml(include_str!("../../../data/indicators.toml")).expect("the shipped catalogue is valid")
    }

    #[test]
    fn the_shipped_catalogue_is_valid_and_covers_the_required_sectors() {
        let catalogue = shipped();
        for required in [
            "nail_bar",
            "car_wash",
            "lorries_and_services",
            "agriculture",
            "construction",
            "factory_and_warehouse",
            "hospitality",
            "private_house",
            "brothel_and_massage",
            "cannabis_farm",
            "online_adverts",
            "other",
        ] {
            let sector = catalogue.sector(required).unwrap_or_else(|| panic!("sector {required} missing"));
            assert!(catalogue.sector_indicators(&sector.id).count() >= 1, "{required} has no signs");
        }
        for ilo in ILO_INDICATOR_IDS {
            assert!(catalogue.indicators.iter().any(|indicator| indicator.ilo.iter().any(|id| id == ilo)), "no sign evidences {ilo}");
        }
        assert!(catalogue.indicators.iter().any(|indicator| indicator.escalation == Some(Escalation::Immediate)));
        assert!(catalogue.indicators.iter().any(|indicator| indicator.escalation == Some(Escalation::Child)));
    }

    #[test]
    fn place_indicators_put_sector_signs_first_and_include_general_once() {
        let catalogue = shipped();
        let signs: Vec<&str> = catalogue.indicators_for_place("nail_bar").map(|indicator| indicator.id.as_str()).collect();
        let first_general = signs.iter().position(|id| catalogue.indicator(id).unwrap().sectors.iter().any(|sector| sector == GENERAL_SECTOR)).unwrap();
        assert!(signs[..first_general].iter().all(|id| { catalogue.indicator(id).unwrap().sectors.iter().any(|sector| sector == "nail_bar") }));
        let unique: BTreeSet<_> = signs.iter().collect();
        assert_eq!(unique.len(), signs.len());
    }

    fn broken(edit: impl Fn(&str) -> String) -> CatalogueError {
        let text = edit(include_str!("../../../data/indicators.toml"));
        Catalogue::from_toml(&text).expect_err("the edited catalogue must be refused")
    }

    #[test]
    fn bad_catalogues_are_refused_with_the_entry_named() {
        let unknown_ilo = broken(|text| text.replacen("ilo = [\"", "ilo = [\"made_up\", \"", 1));
        assert!(unknown_ilo.to_string().contains("made_up"), "{unknown_ilo}");
        let unknown_sector = broken(|text| text.replacen("sectors = [\"", "sectors = [\"moon_base\", \"", 1));
        assert!(unknown_sector.to_string().contains("moon_base"), "{unknown_sector}");
        let syntax = broken(|text| text.replacen("version = ", "version == ", 1));
        assert!(matches!(syntax, CatalogueError::Syntax(_)));
        let thresholds = broken(|text| text.replacen("medium_at = ", "medium_at = 900 + ", 1));
        assert!(matches!(thresholds, CatalogueError::Syntax(_) | CatalogueError::Invalid { .. }));
        let unknown_field = broken(|text| text.replacen("[triage]", "[triage]\nsurprise = 1", 1));
        assert!(unknown_field.to_string().contains("surprise"), "{unknown_field}");
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let catalogue = include_str!("../../../data/indicators.toml");
        let first_id_line = catalogue.lines().skip_while(|line| *line != "[[indicator]]").nth(1).unwrap();
        let duplicate = format!(
            "{catalogue}\n[[indicator]]\n{first_id_line}\nsectors = [\"general\"]\npublic = \"x\"\nstaff = \"x\"\ntags = [\"person\"]\nweight = 1\nsource = \"test\"\n"
        );
        let error = Catalogue::from_toml(&duplicate).unwrap_err();
        assert!(error.to_string().contains("appears more than once"), "{error}");
    }
}
