//! `aidant graph`: network analysis from the command line (components, communities, centrality,
//! paths, exports) over a nodes CSV and an edges CSV, printing a table or JSON with a run record.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use aidant_graph::analysis::HubTreatment;
use aidant_graph::centrality::{
    EigenvectorCentrality, EigenvectorOptions, PathCentralityOptions, approximate_betweenness_centrality, betweenness_centrality_with_progress,
    closeness_centrality, degree_centrality, eigenvector_centrality_with_report, node_strengths,
};
use aidant_graph::communities::{NamedCommunity, name_communities};
use aidant_graph::components::{connected_components, core_numbers};
use aidant_graph::csv_input::read_network;
use aidant_graph::export::anx::write_anx;
use aidant_graph::export::ftm::write_ftm_json_lines;
use aidant_graph::export::gexf::write_gexf;
use aidant_graph::export::graphml::write_graphml;
use aidant_graph::export::neo4j::write_neo4j_csv;
use aidant_graph::export::{ExportOptions, NodeAttribute};
use aidant_graph::hubs::{HubDetectionOptions, HubFinding, damped_hub_ids, detect_hubs};
use aidant_graph::leiden::{LeidenOptions, QualityFunction, RunQuality, leiden, leiden_best_of_runs};
use aidant_graph::paths::{connecting_network, k_shortest_paths};
use aidant_graph::provenance::explain;
use aidant_graph::{AnalysisGraph, AnalysisOptions, EdgeWeighting, NetworkGraph, TimeWindow, parse_seen_date};
use anyhow::{Context, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::config::{Config, Locations};
use crate::startup::Failure;

const INPUT_HELP: &str = "\
INPUT FILES
  --nodes FILE  CSV with a header row: id,kind,label,role
                kind: person, phone, vehicle, address, business, bank_account,
                      online_account, report, operation
                role (people only, optional; HTCDS per_RoleInProcess):
                      recruiter_or_intermediary, transporter, harbourer, controller,
                      exploiter, smuggler, abuser, buyer, financier, document_forger,
                      victim, other, unknown
                any other column (nationality, case number...) is a text
                attribute of the node, written into GraphML, GEXF and Neo4j
                exports; it may not be named like a built-in attribute
                (entityId, community, degree_centrality, betweenness_centrality)
                nor contain ':'
  --edges FILE  CSV with a header row:
                source,target,kind,first_seen,last_seen,source_reference,confidence,weight
                kind: uses_phone, drives_vehicle, registered_keeper_of, lives_at,
                      works_at, owns, associate, family, called, transported,
                      controls, victim_of, mentioned_in_report, at_address,
                      uses_account, mentioned_with
                dates YYYY-MM-DD (empty = unknown, treated as open-ended);
                confidence 0..1 (empty = 1);
                weight (or strength), optional: a positive number such as the
                count of calls or meetings (empty = 1); used by --weighting
                weight and written into GraphML, GEXF and Neo4j exports
A malformed file is reported with its file, line and column.

FROM THE DATABASE
  --from-database  the entities the entity worker found in reports, intelligence
                   records and reporters' messages, one node each (ids such as
                   vehicle:AB12CDE, address:LU1 2AB, business:star nails|luton),
                   linked once per record that names two of them; each link
                   cites the record's reference. Hubs are also values linked
                   in at least --hub-min-records records (default 20). The read
                   is audited, naming --operator (or the OS user).";

/// Tighter than networkx's default (100 iterations, 1e-6) because analysts compare close scores;
/// `--max-iterations` and `--tolerance` change them.
const EIGENVECTOR_MAX_ITERATIONS: usize = 1000;
const EIGENVECTOR_TOLERANCE: f64 = 1e-9;

/// The graph files and the choices that shape the analysis graph.
#[derive(clap::Args, Debug, Clone)]
pub struct GraphInput {
    /// Nodes CSV (see INPUT FILES below).
    #[arg(long, value_name = "FILE", required_unless_present = "from_database", requires = "edges")]
    pub nodes: Option<PathBuf>,
    /// Edges CSV (see INPUT FILES below).
    #[arg(long, value_name = "FILE", required_unless_present = "from_database", requires = "nodes")]
    pub edges: Option<PathBuf>,
    /// Analyse the entities in Aidant's database instead of files: the
    /// people, phones, vehicles, addresses, businesses and accounts that
    /// records name, linked when one record names two of them. Uses the
    /// database and master key in force (AIDANT_DATABASE_URL, --config or
    /// ./aidant.toml); the read is recorded in the audit log.
    #[arg(long, conflicts_with_all = ["nodes", "edges"])]
    pub from_database: bool,
    /// With --from-database: the email of the member of staff running the
    /// analysis, recorded as the audit entry's actor (the OS user is
    /// recorded either way).
    #[arg(long, value_name = "EMAIL", requires = "from_database")]
    pub operator: Option<String>,
    /// Only relations active on or after this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Only relations active on or before this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Tie strength between two linked entities: 1 however many relations
    /// join them (uniform), the sum of their relations' confidences
    /// (confidence), or the sum of their relations' weights, the edges file's
    /// weight column such as counts of calls (weight). Communities,
    /// centralities, strengths and path --weighted use it.
    #[arg(long, value_enum, default_value_t = Weighting::Uniform)]
    pub weighting: Weighting,
    /// Leave detected hubs (values shared by many unrelated people or records) out of the analysis.
    #[arg(long, conflicts_with = "damp_hubs")]
    pub exclude_hubs: bool,
    /// Multiply the strength of ties touching a hub by this factor (0..1) instead.
    #[arg(long, value_name = "FACTOR")]
    pub damp_hubs: Option<f64>,
    /// An entity id the analyst says is not a hub (repeatable).
    #[arg(long = "not-hub", value_name = "ID")]
    pub not_hubs: Vec<String>,
    /// An entity id the analyst says is a hub (repeatable).
    #[arg(long = "hub", value_name = "ID")]
    pub hubs: Vec<String>,
    /// Minimum number of distinct people linked to a value before it can be a hub.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub hub_min_persons: usize,
    /// Also flag as a hub a value linked to others in at least N distinct
    /// records (source references) that seldom name anything else in common;
    /// default 20 with --from-database, off for files.
    #[arg(long, value_name = "N")]
    pub hub_min_records: Option<usize>,
    /// For --hub-min-records: the fewest distinct sources (with
    /// --from-database, the organisations holding the records) those records
    /// must come from.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub hub_min_sources: usize,
    /// Print JSON (result, hubs and run record) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum Weighting {
    /// Every linked pair 1.
    Uniform,
    /// The sum of the confidences of the relations joining a pair.
    Confidence,
    /// The sum of the weights of the relations joining a pair (edges file column weight, 1 where empty).
    Weight,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum Quality {
    Modularity,
    Cpm,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Links / (entities − 1), shown with each entity's links and strength.
    Degree,
    /// The sum of the strengths of an entity's ties under --weighting, shown with its links.
    Strength,
    /// The share of shortest paths between other entities that pass through it (brokers).
    Betweenness,
    /// How near it is to the entities it can reach (Wasserman–Faust, as networkx).
    Closeness,
    /// Linked to entities that are well linked themselves (power iteration: see --tolerance).
    Eigenvector,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum ExportFormat {
    Graphml,
    Gexf,
    /// An i2 Analyst's Notebook chart (exchange XML).
    Anx,
    Ftm,
    Neo4j,
}

/// `aidant graph ...`
#[derive(clap::Subcommand, Debug, Clone)]
pub enum GraphCommand {
    /// Connected components, largest first, with each entity's core number.
    #[command(after_help = INPUT_HELP)]
    Components {
        #[command(flatten)]
        input: GraphInput,
        /// Also list the members of the k-core for this k.
        #[arg(long, value_name = "K")]
        k_core: Option<usize>,
    },
    /// Communities by the Leiden algorithm (reproducible from --seed), each named after its most
    /// central member.
    #[command(after_help = INPUT_HELP)]
    Communities {
        #[command(flatten)]
        input: GraphInput,
        /// Quality function: modularity, or the constant Potts model (CPM).
        #[arg(long, value_enum, default_value_t = Quality::Modularity)]
        quality: Quality,
        /// Resolution γ: higher gives smaller communities (for CPM, a density threshold).
        #[arg(long, default_value_t = 1.0)]
        resolution: f64,
        /// Random seed; the same input, options and seed always give the same communities.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of Leiden iterations; by default, until the partition stops changing.
        #[arg(long)]
        iterations: Option<usize>,
        /// Run Leiden N times, from seeds --seed, --seed + 1, ..., and keep the
        /// partition of highest quality (on a tie, the lowest seed's); prints
        /// the winning seed and the range of quality over the runs. The
        /// output is the same for the same input and options.
        #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
        runs: u32,
    },
    /// Centrality of every entity: degree, strength, betweenness, closeness or eigenvector.
    #[command(after_help = INPUT_HELP)]
    Centrality {
        #[command(flatten)]
        input: GraphInput,
        /// Which centrality to compute (networkx definitions and normalisation).
        #[arg(long, value_enum, default_value_t = Measure::Betweenness)]
        measure: Measure,
        /// For eigenvector: stop when the sum over entities of the absolute
        /// change of their values falls below (number of entities) × this, as
        /// networkx's tol does (default 1e-9; networkx's own default is 1e-6).
        #[arg(long, value_name = "TOL")]
        tolerance: Option<f64>,
        /// For eigenvector: the most power iterations to run (default 1000;
        /// networkx's own default is 100). A run that stops before converging
        /// prints its last values with a warning.
        #[arg(long, value_name = "N")]
        max_iterations: Option<usize>,
        /// Estimate betweenness from this many sampled sources (stating the error bound).
        #[arg(long, value_name = "PIVOTS")]
        sample: Option<usize>,
        /// Random seed for --sample.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Show only the top N entities in the table (JSON always has all).
        #[arg(long, default_value_t = 20)]
        top: usize,
    },
    /// Shortest paths between two entities, or the network connecting several.
    #[command(after_help = INPUT_HELP)]
    Path {
        #[command(flatten)]
        input: GraphInput,
        /// Entity ids: two for paths between them, or more for their connecting network.
        #[arg(long = "entity", value_name = "ID", required = true, num_args = 1..)]
        entities: Vec<String>,
        /// How many shortest paths to list (Yen's algorithm) between two entities.
        #[arg(long, default_value_t = 1)]
        k: usize,
        /// Prefer strong ties (distance = 1 / strength) over fewest hops.
        #[arg(long)]
        weighted: bool,
    },
    /// Export the network as GraphML, GEXF 1.3, an i2 Analyst's Notebook chart (ANX), FollowTheMoney
    /// JSON lines or Neo4j CSV.
    #[command(after_help = INPUT_HELP)]
    Export {
        #[command(flatten)]
        input: GraphInput,
        /// graphml, gexf (1.3, with time validity), ftm (FollowTheMoney JSON lines) or neo4j (CSV).
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Output file; for neo4j, a prefix: PREFIX_nodes.csv and PREFIX_relationships.csv.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
        /// Add each entity's community (Leiden, seed 1), degree and betweenness centrality as
        /// node attributes (GraphML and GEXF only), for colouring and sizing in Gephi or yEd.
        #[arg(long)]
        with_analysis: bool,
    },
}

impl GraphCommand {
    fn input(&self) -> &GraphInput {
        match self {
            GraphCommand::Components { input, .. }
            | GraphCommand::Communities { input, .. }
            | GraphCommand::Centrality { input, .. }
            | GraphCommand::Path { input, .. }
            | GraphCommand::Export { input, .. } => input,
        }
    }
}

/// Runs one `aidant graph` command. `config_file` is the global `--config`,
/// which with `locations` (`--data-dir`, `--database-url`) says where the
/// database is for `--from-database`.
pub fn run(command: GraphCommand, config_file: Option<&Path>, locations: &Locations) -> Result<(), Failure> {
    // Options are checked before the network is read, which from a database takes a while.
    check_options(&command).map_err(Failure::from_error)?;
    let network = read_network_input(command.input(), config_file, locations)?;
    crate::ends_quietly(analyse(command, network)).map_err(Failure::from_error)
}

/// Refuses combinations of options that no run could satisfy.
fn check_options(command: &GraphCommand) -> anyhow::Result<()> {
    match command {
        GraphCommand::Centrality { measure, tolerance, max_iterations, .. } => eigenvector_settings(*measure, *tolerance, *max_iterations).map(|_| ()),
        GraphCommand::Communities { seed, runs, .. } if seed.checked_add(u64::from(*runs) - 1).is_none() => {
            bail!("--seed {seed} with --runs {runs} would need seeds beyond {}", u64::MAX)
        }
        _ => Ok(()),
    }
}

/// The network named on the command line: the two CSV files, or the reports
/// in the database. Settings and database problems are the operator's to
/// fix (exit code 2), like every other command that opens the database.
fn read_network_input(input: &GraphInput, config_file: Option<&Path>, locations: &Locations) -> Result<NetworkGraph, Failure> {
    let loading = spinner("reading the network");
    let network = match (&input.nodes, &input.edges) {
        _ if input.from_database => {
            let operator = crate::graph_source::Operator::from_environment(input.operator.as_deref());
            crate::graph_source::network_from_database(&Config::load(config_file, locations)?, &operator)?
        }
        (Some(nodes), Some(edges)) => read_network_files(nodes, edges).map_err(Failure::from_error)?,
        _ => return Err(Failure::Runtime("give both --nodes and --edges, or --from-database".to_owned())),
    };
    loading.finish_and_clear();
    Ok(network)
}

fn read_network_files(nodes: &Path, edges: &Path) -> anyhow::Result<NetworkGraph> {
    let open = |path: &Path| File::open(path).map(BufReader::new).with_context(|| format!("opening {}", path.display()));
    read_network(open(nodes)?, open(edges)?).with_context(|| format!("reading {} and {}", nodes.display(), edges.display()))
}

fn analyse(command: GraphCommand, network: NetworkGraph) -> anyhow::Result<()> {
    match command {
        GraphCommand::Components { input, k_core } => run_components(&input, network, k_core),
        GraphCommand::Communities { input, quality, resolution, seed, iterations, runs } => {
            let options = LeidenOptions {
                quality: match quality {
                    Quality::Modularity => QualityFunction::Modularity,
                    Quality::Cpm => QualityFunction::ConstantPotts,
                },
                resolution,
                seed,
                max_iterations: iterations,
                ..Default::default()
            };
            run_communities(&input, network, options, runs as usize)
        }
        GraphCommand::Centrality { input, measure, tolerance, max_iterations, sample, seed, top } => {
            let eigenvector = eigenvector_settings(measure, tolerance, max_iterations)?;
            run_centrality(&input, network, measure, eigenvector, sample, seed, top)
        }
        GraphCommand::Path { input, entities, k, weighted } => run_path(&input, network, &entities, k, weighted),
        GraphCommand::Export { input, format, output, with_analysis } => run_export(&input, network, format, &output, with_analysis),
    }
}

/// The network, its hubs and the analysis graph built from them.
struct Prepared {
    network: NetworkGraph,
    hubs: Vec<HubFinding>,
    analysis: AnalysisOptions,
    graph: AnalysisGraph,
}

fn parse_date_option(name: &str, value: Option<&String>) -> anyhow::Result<Option<aidant_graph::SeenDate>> {
    value.map(|text| parse_seen_date(text).map_err(|message| anyhow!("--{name}: {message}"))).transpose()
}

fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"));
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn prepare(input: &GraphInput, network: NetworkGraph) -> anyhow::Result<Prepared> {
    let window = TimeWindow { from: parse_date_option("from", input.from.as_ref())?, to: parse_date_option("to", input.to.as_ref())? };
    if let (Some(from), Some(to)) = (window.from, window.to)
        && from > to
    {
        bail!("--from {} is after --to {}", input.from.as_deref().unwrap_or_default(), input.to.as_deref().unwrap_or_default());
    }
    // A network from records names few people, so there hubs are counted by records too.
    let minimum_distinct_records = input.hub_min_records.or(input.from_database.then_some(aidant_store::cases::entities::HUB_RECORDS));
    let hub_options = HubDetectionOptions {
        minimum_distinct_persons: input.hub_min_persons,
        minimum_distinct_records,
        minimum_distinct_sources: input.hub_min_sources,
        window,
        never_hubs: input.not_hubs.clone(),
        always_hubs: input.hubs.clone(),
        ..Default::default()
    };
    let hubs = detect_hubs(&network, &hub_options);
    let hub_treatment = match (input.exclude_hubs, input.damp_hubs) {
        (true, _) => HubTreatment::Exclude,
        (false, Some(factor)) if factor > 0.0 && factor <= 1.0 => HubTreatment::DownWeight { factor },
        (false, Some(factor)) => bail!("--damp-hubs must be in (0, 1], not {factor}"),
        (false, None) => HubTreatment::Keep,
    };
    let analysis = AnalysisOptions {
        window,
        weighting: match input.weighting {
            Weighting::Uniform => EdgeWeighting::Uniform,
            Weighting::Confidence => EdgeWeighting::Confidence,
            Weighting::Weight => EdgeWeighting::Weight,
        },
        hub_treatment,
        hub_entity_ids: damped_hub_ids(&hubs),
    };
    let graph = AnalysisGraph::project(&network, &analysis);
    Ok(Prepared { network, hubs, analysis, graph })
}

impl Prepared {
    /// Whether algorithms read tie strengths rather than count links: under a weighting other
    /// than uniform, or when hubs are treated.
    fn weighted(&self) -> bool {
        self.analysis.weighting.is_weighted() || self.analysis.hub_treatment != HubTreatment::Keep
    }

    fn entity_id(&self, node: usize) -> &str {
        &self.network.entities()[self.graph.entity_of(node)].id
    }

    fn entity_label(&self, node: usize) -> &str {
        &self.network.entities()[self.graph.entity_of(node)].label
    }

    fn node_of(&self, id: &str) -> anyhow::Result<usize> {
        let entity = self.network.entity_index(id).ok_or_else(|| anyhow!("no entity with id '{id}'"))?;
        self.graph.node_of_entity(entity).ok_or_else(|| anyhow!("entity '{id}' is an excluded hub; use --not-hub {id} to keep it"))
    }

    /// Prints the hub list and one line naming the input and library, so a printed table can be
    /// tied to its input; `--json` gives the full run record.
    fn print_hubs_and_provenance(&self) -> std::io::Result<()> {
        let window = |date: Option<aidant_graph::SeenDate>| date.map(aidant_graph::model::format_date).unwrap_or_else(|| "open".to_owned());
        out!(
            "\nRun: {} {}; input sha256 {}; {} entities, {} relations; window {} to {}; weighting {:?}",
            aidant_graph::provenance::CRATE_NAME,
            aidant_graph::provenance::CRATE_VERSION,
            self.network.canonical_sha256(),
            self.network.entities().len(),
            self.network.relations().len(),
            window(self.analysis.window.from),
            window(self.analysis.window.to),
            self.analysis.weighting
        )?;
        if self.hubs.is_empty() {
            return Ok(());
        }
        let treatment = match self.analysis.hub_treatment {
            HubTreatment::Keep => "kept (use --exclude-hubs or --damp-hubs to change)".to_owned(),
            HubTreatment::Exclude => "excluded".to_owned(),
            HubTreatment::DownWeight { factor } => format!("down-weighted by {factor}"),
        };
        out!("\nHubs ({treatment}):")?;
        for hub in &self.hubs {
            out!("  {} [{:?}]: {}", hub.entity_id, hub.decision, hub.reason)?;
        }
        Ok(())
    }

    /// Prints JSON with the result, the hubs and the run record.
    fn print_json<T: Serialize, P: Serialize>(&self, algorithm: &str, parameters: &P, seed: Option<u64>, result: T) -> anyhow::Result<()> {
        #[derive(Serialize)]
        struct Output<'a, T> {
            #[serde(flatten)]
            explained: aidant_graph::provenance::Explained<T>,
            hubs: &'a [HubFinding],
        }
        let explained = explain(algorithm, &self.network, &self.analysis, &self.graph, parameters, seed, result);
        let stdout = std::io::stdout();
        let mut handle = stdout.lock();
        serde_json::to_writer_pretty(&mut handle, &Output { explained, hubs: &self.hubs })?;
        writeln!(handle)?;
        Ok(())
    }
}

#[derive(Serialize)]
struct EntityValue {
    entity_id: String,
    label: String,
    value: f64,
    /// With --measure degree or strength: the number of entities it is linked to.
    #[serde(skip_serializing_if = "Option::is_none")]
    degree: Option<usize>,
    /// With --measure degree or strength: the sum of its ties' strengths under the weighting.
    #[serde(skip_serializing_if = "Option::is_none")]
    strength: Option<f64>,
}

fn run_components(input: &GraphInput, network: NetworkGraph, k_core: Option<usize>) -> anyhow::Result<()> {
    let prepared = prepare(input, network)?;
    let components = connected_components(&prepared.graph);
    let cores = core_numbers(&prepared.graph);
    #[derive(Serialize)]
    struct ComponentsResult {
        components: Vec<Vec<String>>,
        core_numbers: Vec<(String, usize)>,
        k_core: Option<Vec<String>>,
    }
    let ids = |nodes: &[usize]| nodes.iter().map(|&node| prepared.entity_id(node).to_owned()).collect::<Vec<_>>();
    let k_core_members: Option<Vec<usize>> = k_core.map(|k| (0..cores.len()).filter(|&node| cores[node] >= k).collect());
    let result = ComponentsResult {
        components: components.iter().map(|component| ids(component)).collect(),
        core_numbers: (0..cores.len()).map(|node| (prepared.entity_id(node).to_owned(), cores[node])).collect(),
        k_core: k_core_members.as_deref().map(ids),
    };
    if input.json {
        return prepared.print_json("connected_components", &serde_json::json!({ "k_core": k_core }), None, result);
    }
    out!("{} components among {} entities and {} links", components.len(), prepared.graph.node_count(), prepared.graph.edge_count())?;
    out!("{:>9}  {:>5}  members", "component", "size")?;
    for (index, members) in result.components.iter().enumerate() {
        out!("{:>9}  {:>5}  {}", index + 1, members.len(), members.join(", "))?;
    }
    if let (Some(k), Some(members)) = (k_core, &result.k_core) {
        out!("\n{k}-core ({} entities): {}", members.len(), members.join(", "))?;
    }
    prepared.print_hubs_and_provenance()?;
    Ok(())
}

fn run_communities(input: &GraphInput, network: NetworkGraph, options: LeidenOptions, runs: usize) -> anyhow::Result<()> {
    let prepared = prepare(input, network)?;
    let options = LeidenOptions { weighted: prepared.weighted(), ..options };
    let progress = spinner(if runs == 1 { "finding communities (Leiden)".to_owned() } else { format!("finding communities (Leiden, {runs} runs)") }.as_str());
    let best_of = leiden_best_of_runs(&prepared.graph, &options, runs);
    progress.finish_and_clear();
    let result = &best_of.best;
    let named = name_communities(&prepared.network, &prepared.graph, &result.membership);
    let (lowest_quality, highest_quality) = best_of.quality_range();
    if input.json {
        #[derive(Serialize)]
        struct Parameters {
            #[serde(flatten)]
            leiden: LeidenOptions,
            runs: usize,
        }
        #[derive(Serialize)]
        struct Communities {
            /// Member ids of each community, largest first (as `named_communities`).
            communities: Vec<Vec<String>>,
            named_communities: Vec<NamedCommunity>,
            quality: f64,
            iterations: usize,
            converged: bool,
            best_seed: u64,
            runs: Vec<RunQuality>,
            lowest_quality: f64,
            highest_quality: f64,
        }
        let output = Communities {
            communities: named.iter().map(|community| community.members.clone()).collect(),
            named_communities: named,
            quality: result.quality,
            iterations: result.iterations,
            converged: result.converged,
            best_seed: best_of.best_seed,
            runs: best_of.runs.clone(),
            lowest_quality,
            highest_quality,
        };
        return prepared.print_json("leiden", &Parameters { leiden: options, runs }, Some(options.seed), output);
    }
    out!(
        "{} communities, {:?} quality {:.4} after {} iteration(s){} (seed {}, resolution {})",
        result.community_count,
        options.quality,
        result.quality,
        result.iterations,
        if result.converged { ", stable" } else { "" },
        best_of.best_seed,
        options.resolution
    )?;
    if runs > 1 {
        out!(
            "best of {} runs (seeds {} to {}): seed {} won; quality ranged from {:.4} to {:.4}",
            best_of.runs.len(),
            options.seed,
            best_of.runs.last().map_or(options.seed, |run| run.seed),
            best_of.best_seed,
            lowest_quality,
            highest_quality
        )?;
    }
    out!("{:>9}  name, then members", "community")?;
    for community in &named {
        out!("{:>9}  {}", community.number, community.name)?;
        out!("{:>9}  {}", "", community.members.join(", "))?;
    }
    prepared.print_hubs_and_provenance()?;
    Ok(())
}

/// The eigenvector settings in force: the defaults, or --tolerance and --max-iterations, which
/// only eigenvector centrality reads.
fn eigenvector_settings(measure: Measure, tolerance: Option<f64>, max_iterations: Option<usize>) -> anyhow::Result<(usize, f64)> {
    if measure != Measure::Eigenvector && (tolerance.is_some() || max_iterations.is_some()) {
        bail!("--tolerance and --max-iterations apply to --measure eigenvector only");
    }
    let tolerance = tolerance.unwrap_or(EIGENVECTOR_TOLERANCE);
    if !(tolerance > 0.0 && tolerance.is_finite()) {
        bail!("--tolerance must be a positive number, not {tolerance}");
    }
    let max_iterations = max_iterations.unwrap_or(EIGENVECTOR_MAX_ITERATIONS);
    if max_iterations == 0 {
        bail!("--max-iterations must be at least 1");
    }
    Ok((max_iterations, tolerance))
}

fn run_centrality(
    input: &GraphInput,
    network: NetworkGraph,
    measure: Measure,
    (eigenvector_max_iterations, eigenvector_tolerance): (usize, f64),
    sample: Option<usize>,
    seed: u64,
    top: usize,
) -> anyhow::Result<()> {
    let prepared = prepare(input, network)?;
    let graph = &prepared.graph;
    let weighted = prepared.weighted();
    let mut error_bound = None;
    let mut eigenvector_report: Option<EigenvectorCentrality> = None;
    let values = match measure {
        Measure::Degree => degree_centrality(graph),
        Measure::Strength => node_strengths(graph),
        Measure::Closeness => {
            let progress = spinner("computing closeness");
            let values = closeness_centrality(graph, weighted);
            progress.finish_and_clear();
            values
        }
        Measure::Eigenvector => {
            let options = EigenvectorOptions { weighted, max_iterations: eigenvector_max_iterations, tolerance: eigenvector_tolerance };
            let report = eigenvector_centrality_with_report(graph, options).context("eigenvector centrality")?;
            if !report.converged {
                eprintln!(
                    "warning: eigenvector centrality did not converge in {} iterations (the last changed the values by {:.2e} in total; \
                     converging needs less than {:.2e}, {} entities × tolerance {:e}): the values are the last iterate and may be wrong; \
                     raise --max-iterations or --tolerance",
                    report.iterations,
                    report.last_change,
                    report.change_bound,
                    graph.node_count(),
                    eigenvector_tolerance
                );
            }
            let values = report.values.clone();
            eigenvector_report = Some(report);
            values
        }
        Measure::Betweenness => match sample {
            Some(pivots) => {
                let progress = spinner("estimating betweenness");
                let sampled = approximate_betweenness_centrality(graph, weighted, pivots, seed, 0.05);
                progress.finish_and_clear();
                error_bound = Some(sampled.error_bound);
                sampled.values
            }
            None => {
                let bar = ProgressBar::new(0);
                bar.set_style(ProgressStyle::with_template("betweenness {bar:30} {pos}/{len} chunks ({elapsed}, eta {eta})").expect("a valid template"));
                let values = betweenness_centrality_with_progress(graph, PathCentralityOptions { weighted, normalized: true }, &|done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                });
                bar.finish_and_clear();
                values
            }
        },
    };
    // Degree and strength are read together: a broker with few strong ties and a hub with many
    // weak ones look alike by one and apart by the other.
    let with_strength = matches!(measure, Measure::Degree | Measure::Strength);
    let mut ranked: Vec<EntityValue> = values
        .iter()
        .enumerate()
        .map(|(node, &value)| EntityValue {
            entity_id: prepared.entity_id(node).to_owned(),
            label: prepared.entity_label(node).to_owned(),
            value,
            degree: with_strength.then(|| graph.degree(node)),
            strength: with_strength.then(|| graph.strength(node)),
        })
        .collect();
    ranked.sort_by(|a, b| b.value.total_cmp(&a.value).then_with(|| a.entity_id.cmp(&b.entity_id)));
    let measure_name = format!("{measure:?}").to_lowercase();
    let parameters = serde_json::json!({ "measure": measure_name, "weighted": weighted, "normalized": true, "sample_pivots": sample, "failure_probability": sample.map(|_| 0.05), "eigenvector_max_iterations": eigenvector_max_iterations, "eigenvector_tolerance": eigenvector_tolerance });
    if input.json {
        #[derive(Serialize)]
        struct Convergence {
            converged: bool,
            iterations: usize,
            last_change: f64,
            change_bound: f64,
        }
        #[derive(Serialize)]
        struct Centrality {
            values: Vec<EntityValue>,
            error_bound: Option<f64>,
            /// With --measure eigenvector: how the power iteration ended.
            #[serde(skip_serializing_if = "Option::is_none")]
            convergence: Option<Convergence>,
        }
        let seed = sample.map(|_| seed);
        let convergence = eigenvector_report.map(|report| Convergence {
            converged: report.converged,
            iterations: report.iterations,
            last_change: report.last_change,
            change_bound: report.change_bound,
        });
        return prepared.print_json("centrality", &parameters, seed, Centrality { values: ranked, error_bound, convergence });
    }
    if let Some(bound) = error_bound {
        out!("sampled betweenness: every value within ±{bound:.4} of the exact value with probability ≥ 95%")?;
    }
    if let Some(report) = &eigenvector_report {
        if report.converged {
            out!(
                "eigenvector centrality converged after {} iteration(s): total change {:.2e} < {} entities × tolerance {:e}",
                report.iterations,
                report.last_change,
                graph.node_count(),
                eigenvector_tolerance
            )?;
        } else {
            out!("eigenvector centrality did NOT converge in {} iterations: the values below are the last iterate (see the warning)", report.iterations)?;
        }
    }
    if with_strength {
        out!("{:>4}  {:<20}  {:<30}  {:>12}  {:>6}  {:>12}", "rank", "entity", "label", measure_name, "links", "strength")?;
        for (rank, entry) in ranked.iter().take(top).enumerate() {
            out!(
                "{:>4}  {:<20}  {:<30}  {:>12.6}  {:>6}  {:>12.6}",
                rank + 1,
                entry.entity_id,
                entry.label,
                entry.value,
                entry.degree.unwrap_or_default(),
                entry.strength.unwrap_or_default()
            )?;
        }
    } else {
        out!("{:>4}  {:<20}  {:<30}  {:>12}", "rank", "entity", "label", measure_name)?;
        for (rank, entry) in ranked.iter().take(top).enumerate() {
            out!("{:>4}  {:<20}  {:<30}  {:>12.6}", rank + 1, entry.entity_id, entry.label, entry.value)?;
        }
    }
    prepared.print_hubs_and_provenance()?;
    Ok(())
}

fn run_path(input: &GraphInput, network: NetworkGraph, entities: &[String], k: usize, weighted: bool) -> anyhow::Result<()> {
    let prepared = prepare(input, network)?;
    let nodes: Vec<usize> = entities.iter().map(|id| prepared.node_of(id)).collect::<anyhow::Result<_>>()?;
    let describe = |nodes: &[usize]| nodes.iter().map(|&node| prepared.entity_id(node)).collect::<Vec<_>>().join(" -> ");
    let parameters = serde_json::json!({ "entities": entities, "k": k, "weighted": weighted });
    if nodes.len() < 2 {
        bail!("--entity needs at least two entity ids");
    }
    if nodes.len() == 2 {
        let paths = k_shortest_paths(&prepared.graph, nodes[0], nodes[1], k.max(1), weighted);
        if input.json {
            #[derive(Serialize)]
            struct Evidence {
                source: String,
                relation: String,
                target: String,
                first_seen: Option<String>,
                last_seen: Option<String>,
                source_reference: String,
                confidence: f64,
                /// The relation's weight, when the edges file had a weight column.
                #[serde(skip_serializing_if = "Option::is_none")]
                weight: Option<f64>,
            }
            #[derive(Serialize)]
            struct PathOutput {
                entities: Vec<String>,
                length: f64,
                evidence: Vec<Evidence>,
            }
            let entities = prepared.network.entities();
            let output: Vec<PathOutput> = paths
                .iter()
                .map(|path| PathOutput {
                    entities: path.nodes.iter().map(|&node| prepared.entity_id(node).to_owned()).collect(),
                    length: path.length,
                    evidence: path
                        .nodes
                        .windows(2)
                        .flat_map(|pair| {
                            prepared.network.relation_positions_between(
                                prepared.graph.entity_of(pair[0]),
                                prepared.graph.entity_of(pair[1]),
                                &prepared.analysis.window,
                            )
                        })
                        .map(|position| {
                            let relation = &prepared.network.relations()[position];
                            Evidence {
                                source: entities[relation.source].id.clone(),
                                relation: relation.kind.to_string(),
                                target: entities[relation.target].id.clone(),
                                first_seen: relation.first_seen.map(aidant_graph::model::format_date),
                                last_seen: relation.last_seen.map(aidant_graph::model::format_date),
                                source_reference: relation.source_reference.clone(),
                                confidence: relation.confidence,
                                weight: prepared.network.has_relation_weights().then(|| prepared.network.relation_weight(position).get()),
                            }
                        })
                        .collect(),
                })
                .collect();
            return prepared.print_json("k_shortest_paths", &parameters, None, output);
        }
        if paths.is_empty() {
            out!("no path between {} and {}", entities[0], entities[1])?;
        }
        for (index, path) in paths.iter().enumerate() {
            out!("{:>3}. length {:<8} {}", index + 1, format!("{:.3}", path.length), describe(&path.nodes))?;
            // Cite the evidence for every hop, as a disclosure needs it.
            for pair in path.nodes.windows(2) {
                let (first, second) = (prepared.graph.entity_of(pair[0]), prepared.graph.entity_of(pair[1]));
                for position in prepared.network.relation_positions_between(first, second, &prepared.analysis.window) {
                    let relation = &prepared.network.relations()[position];
                    let entities = prepared.network.entities();
                    let weight = if prepared.network.has_relation_weights() {
                        format!(", weight {}", prepared.network.relation_weight(position).get())
                    } else {
                        String::new()
                    };
                    out!(
                        "       {} {} {} (seen {} to {}, source {}, confidence {}{weight})",
                        entities[relation.source].id,
                        relation.kind,
                        entities[relation.target].id,
                        relation.first_seen.map_or_else(|| "unknown".to_owned(), aidant_graph::model::format_date),
                        relation.last_seen.map_or_else(|| "unknown".to_owned(), aidant_graph::model::format_date),
                        relation.source_reference,
                        relation.confidence
                    )?;
                }
            }
        }
    } else {
        let network = connecting_network(&prepared.graph, &nodes, weighted);
        if input.json {
            #[derive(Serialize)]
            struct ConnectingOutput {
                entities: Vec<String>,
                links: Vec<(String, String)>,
                unconnected_groups: Vec<Vec<String>>,
                total_length: f64,
            }
            let ids = |nodes: &[usize]| nodes.iter().map(|&node| prepared.entity_id(node).to_owned()).collect::<Vec<_>>();
            let output = ConnectingOutput {
                entities: ids(&network.nodes),
                links: network.edges.iter().map(|&(u, v)| (prepared.entity_id(u).to_owned(), prepared.entity_id(v).to_owned())).collect(),
                unconnected_groups: network.terminal_groups.iter().map(|group| ids(group)).collect(),
                total_length: network.total_length,
            };
            return prepared.print_json("connecting_network", &parameters, None, output);
        }
        out!("connecting network: {} entities, {} links, total length {:.3}", network.nodes.len(), network.edges.len(), network.total_length)?;
        for (u, v) in &network.edges {
            out!("  {} -- {}", prepared.entity_id(*u), prepared.entity_id(*v))?;
        }
        if network.terminal_groups.len() > 1 {
            out!("not all entities are connected; groups: {}", network.terminal_groups.iter().map(|group| describe(group)).collect::<Vec<_>>().join(" | "))?;
        }
    }
    prepared.print_hubs_and_provenance()?;
    Ok(())
}

/// Community, degree and betweenness per entity, as export node attributes.
fn analysis_attributes(prepared: &Prepared) -> Vec<NodeAttribute> {
    let graph = &prepared.graph;
    let weighted = prepared.weighted();
    let progress = spinner("computing communities and centralities for the export");
    let communities = leiden(graph, &LeidenOptions { weighted, ..Default::default() });
    let degree = degree_centrality(graph);
    let betweenness = betweenness_centrality_with_progress(graph, PathCentralityOptions { weighted, normalized: true }, &|_, _| {});
    progress.finish_and_clear();
    let per_entity = |name: &str, values: Vec<f64>| {
        let mut by_entity = vec![None; prepared.network.entities().len()];
        for (node, value) in values.into_iter().enumerate() {
            by_entity[graph.entity_of(node)] = Some(value);
        }
        NodeAttribute { name: name.to_owned(), values: by_entity }
    };
    vec![
        per_entity("community", communities.membership.iter().map(|&community| community as f64).collect()),
        per_entity("degree_centrality", degree),
        per_entity("betweenness_centrality", betweenness),
    ]
}

fn run_export(input: &GraphInput, network: NetworkGraph, format: ExportFormat, output: &Path, with_analysis: bool) -> anyhow::Result<()> {
    let prepared = prepare(input, network)?;
    if with_analysis && matches!(format, ExportFormat::Ftm | ExportFormat::Neo4j) {
        bail!("--with-analysis applies to graphml, gexf and anx exports only");
    }
    let options = ExportOptions { window: prepared.analysis.window, node_attributes: if with_analysis { analysis_attributes(&prepared) } else { Vec::new() } };
    let create = |path: &Path| File::create(path).map(BufWriter::new).with_context(|| format!("creating {}", path.display()));
    let network = &prepared.network;
    let mut written = vec![output.display().to_string()];
    match format {
        ExportFormat::Graphml => write_graphml(network, &options, create(output)?)?,
        ExportFormat::Gexf => write_gexf(network, &options, create(output)?)?,
        ExportFormat::Anx => write_anx(network, &options, create(output)?)?,
        ExportFormat::Ftm => {
            let summary = write_ftm_json_lines(network, &options, create(output)?)?;
            for skipped in &summary.skipped {
                eprintln!("not exported to FollowTheMoney: {skipped}");
            }
        }
        ExportFormat::Neo4j => {
            let prefix = output.display().to_string();
            let nodes_path = PathBuf::from(format!("{prefix}_nodes.csv"));
            let relationships_path = PathBuf::from(format!("{prefix}_relationships.csv"));
            write_neo4j_csv(network, &options, create(&nodes_path)?, create(&relationships_path)?)?;
            written = vec![nodes_path.display().to_string(), relationships_path.display().to_string()];
        }
    }
    out!("wrote {}", written.join(" and "))?;
    Ok(())
}
