//! Network model and analytics for Aidant: entities and typed, weighted relations, time windows,
//! hub damping, components, k-cores, Leiden communities and their names, centrality, paths,
//! exports and run records for disclosure.
//!
//! The crate is pure: it does no file or network IO. Callers hand it text or readers and receive
//! values, typed errors or bytes written to a writer they own.
//!
//! ```
//! use aidant_graph::csv_input::read_network_from_str;
//! use aidant_graph::leiden::{LeidenOptions, leiden};
//! use aidant_graph::provenance::explain;
//! use aidant_graph::{AnalysisGraph, AnalysisOptions};
//!
//! let network = read_network_from_str(
//!     "id,kind,label,role\nA,person,Anna,controller\nB,person,Bela,\nP,phone,07700900001,\n",
//!     "source,target,kind,first_seen\nA,P,uses_phone,2024-01-01\nB,P,uses_phone,2024-02-01\n",
//! )?;
//! let analysis = AnalysisOptions::default();
//! let graph = AnalysisGraph::project(&network, &analysis);
//! let options = LeidenOptions { seed: 7, ..Default::default() };
//! let communities = explain("leiden", &network, &analysis, &graph, &options, Some(7), leiden(&graph, &options));
//! assert_eq!(communities.result.community_count, 1);
//! assert_eq!(communities.run.library_version, env!("CARGO_PKG_VERSION"));
//! # Ok::<(), aidant_graph::csv_input::GraphFileError>(())
//! ```

pub mod analysis;
pub mod centrality;
pub mod communities;
pub mod components;
pub mod csv_input;
pub mod export;
pub mod hubs;
pub mod leiden;
pub mod model;
pub mod paths;
pub mod provenance;

pub use analysis::{AnalysisGraph, AnalysisOptions, EdgeWeighting, TimeWindow};
pub use model::{Entity, EntityKind, NetworkGraph, Relation, RelationKind, RelationWeight, RoleInProcess, SeenDate, parse_seen_date};
