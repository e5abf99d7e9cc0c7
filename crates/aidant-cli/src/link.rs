//! `aidant link`: batch record linkage of CSV or Parquet files into clusters, with the column
//! mapping and warnings, progress, summary, pairs and model file.

mod files;

use files::{FileFormat, OutputColumn, read_input, write_table};

use aidant_link::batch::{BatchConfig, BatchStage, RecordKey, link_batch_owned};
use aidant_link::blocking::BlockingConfig;
use aidant_link::cluster::ClusterConfig;
use aidant_link::model::{Model, probability_of_weight};
use aidant_link::record::{ColumnMapping, InputWarning, PersonRecord};
use aidant_link::spec::{DEFAULT_MODEL_SPEC, ModelSpec};
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const INPUT_COLUMNS_HELP: &str = "\
INPUT FILES: CSV with a header row, UTF-8, delimited by commas, semicolons, tabs or pipes (detected
from the header line; --delimiter to say which), or Parquet (a .parquet name or the PAR1 magic
bytes; strings, integers, dates and timestamps are read as text). See docs/linking.md.

INPUT COLUMNS (names are case-insensitive; spaces, hyphens and dots count as underscores, so
\"First Name\" is first_name; aliases in brackets):
  record_id    required, unique within a file      [rec_id, recid, id, unique_id, record]
  given_name   forenames, any script                [first_name, firstname, forename, forenames,
                                                     given, given_names, fname, christian_name]
  family_name  surname                              [surname, last_name, lastname, family, lname,
                                                     family_names]
               Titles and honorifics (Sir, Dame, Dr, Mrs, Dna., Bt., 5th Baronet, OBE...) are
               no part of a name (crates/aidant-link/data/name_titles.txt).
  full_name    the whole name when not split; the order is inferred (\"POPESCU Ion\",
               \"Nguyen Van Nam\", \"张伟\"); used for the rows whose given and family names
               are blank                            [name, fullname, person_name]
               At least one of given_name, family_name or full_name is required.
  dob          date of birth in any common form: 12/03/1985, 1985-03-12, 12 March 1985,
               19850312, any year from 1000 to 2100; a year alone is kept as a partial date;
               a date whose day or month does not exist (1850-04-82) is kept as written, to
               compare part by part, and counted
                                                    [date_of_birth, birth_date, birthdate, dateofbirth]
  address      street address; street_number and address_2 are joined to it when present
               (the town is not used: reporters add or omit it, the postcode places the address)
               [address_1, street, street_name, street_address, address_line_1, address1;
                street_number, house_number, street_no, house_no; address_2, address_line_2]
  postcode     UK postcodes are normalised; others kept as written
                                                    [post_code, zip, zipcode, zip_code, postal_code]
  phone        any national or international form; read as UK unless it has a country code
               or the row's country says otherwise; a number that is no UK number is read in
               the country the family name most likely comes from (Popescu: RO), counted as a
               guess                                [phone_number, telephone, mobile, tel, ...]
  email        [email_address, e_mail]
  vrm          vehicle registration                 [registration, vehicle_registration, number_plate]
  id_number    passport or other identity number    [soc_sec_id, national_id, passport_number]
  country      ISO code (e.g. RO) used to read national phone numbers  [nationality, country_code]
At the start of a run, every column is listed with the field it fills, and every column that
fills none (a truth column, middle_initial, town) is listed by name as not used.

WARNINGS (at the top of the summary and on stderr; --strict stops the run on any of them):
  * more than 5% of a field's non-blank values could not be parsed (an impossible date);
  * a column is constant: one value fills at least 99% of its non-blank rows (20 or more): it is
    left out, its field cleared on every record (the country column excepted);
  * fewer than 1,000 records and no --model-in: too few to train a model on.
A row with the wrong number of fields, text that is not UTF-8, or an empty or repeated record_id
stops the run with the row and column named; a field that cannot be parsed is dropped from that
record and counted.

OUTPUT: --output gets record_id,source_file,cluster_id (source_file is the input's file name);
--pairs-out gets record_id_l,record_id_r,match_probability,match_weight,source_file_l,
source_file_r for every scored pair
at or above --min-probability (default: --threshold, the declared matches; 0: every candidate
pair). Each is CSV, or Parquet when its name ends in .parquet or --output-format parquet is given.
The same input and model give byte-identical files in every run, whatever the thread count.

MODEL FILE: --model-spec FILE (TOML) says which person fields to compare, adds up to eight fields
of your own from any column (birth place, occupation, sex, middle name, town, age...), each
compared exactly, as a category with term frequencies, by string similarity, by numeric or date
distance, or with Aidant's phone, postcode, registration, e-mail or name parser, and declares
blocking rules. --print-model-spec prints the default person model as such a file, with every
key explained; docs/linking.md has a worked example. A model trained with a model file is saved
with it by --model-out, and --model-in brings it back.

SIBLINGS: two records with the same family name and date of birth but clearly different given
names (Andrei and Adrian, Anh and Linh) are taken for brothers, sisters or twins: the names and
the date alone never link them; other evidence can (see docs/linking.md).";

/// Arguments of `aidant link`.
#[derive(Debug, clap::Args)]
#[command(about = "Resolve people across CSV or Parquet files into clusters (probabilistic record linkage)", after_long_help = INPUT_COLUMNS_HELP)]
pub struct LinkArgs {
    /// A file of person records, CSV or Parquet; repeat to link several files.
    #[arg(long = "input", required_unless_present = "print_model_spec")]
    pub inputs: Vec<PathBuf>,
    /// The model file (TOML): which fields to compare and how, and blocking rules (see
    /// --print-model-spec and docs/linking.md). Without it, the person model.
    #[arg(long, value_name = "FILE")]
    pub model_spec: Option<PathBuf>,
    /// Print the default person model as a model file, to copy and change, and stop.
    #[arg(long)]
    pub print_model_spec: bool,
    /// The CSV delimiter: , ; | or tab (also written \t); by default detected from the header line.
    #[arg(long, value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// Where to write the clusters (record_id,source_file,cluster_id).
    #[arg(long, required_unless_present = "print_model_spec")]
    pub output: Option<PathBuf>,
    /// Write --output and --pairs-out in this format (by default Parquet for a name ending in
    /// .parquet, CSV otherwise).
    #[arg(long, value_enum)]
    pub output_format: Option<FileFormat>,
    /// Where to write scored pairs with their match probability.
    #[arg(long)]
    pub pairs_out: Option<PathBuf>,
    /// Write to --pairs-out every scored pair at least this probable (default: --threshold, the
    /// declared matches; 0 writes every candidate pair, to study a threshold).
    #[arg(long)]
    pub min_probability: Option<f64>,
    /// Stop with an error before linking when the input gives any warning (unparseable or
    /// constant columns, too few records to train on).
    #[arg(long)]
    pub strict: bool,
    /// Save the trained model (JSON) here.
    #[arg(long)]
    pub model_out: Option<PathBuf>,
    /// Use this saved model instead of training one.
    #[arg(long)]
    pub model_in: Option<PathBuf>,
    /// Declare pairs whose match probability is at least this a match (--pairs-out, summary).
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Join clusters through pairs at least this probable (defaults to --threshold).
    #[arg(long)]
    pub cluster_threshold: Option<f64>,
    /// Report clusters held together by a single link below this probability.
    #[arg(long, default_value_t = 0.95)]
    pub strict_threshold: f64,
    /// Only report the weak links found by the chaining guard; by default they are also cut.
    #[arg(long)]
    pub keep_weak_links: bool,
    /// Do not split clusters whose pairs, taken all together, say they hold more than one person
    /// (by default every cluster of three or more records is re-checked by average linkage).
    #[arg(long)]
    pub keep_chained_clusters: bool,
    /// Keep two parts of a cluster apart when the mean log2 match weight of all pairs across them
    /// is below this (the all-pairs check; default -3, odds of 1 to 8; 0 is even odds).
    #[arg(long, allow_negative_numbers = true)]
    pub split_below_weight: Option<f64>,
    /// Only link records from different files (each file has no duplicates of its own).
    #[arg(long)]
    pub link_only: bool,
    /// Blocks larger than this are skipped and reported.
    #[arg(long, default_value_t = 100)]
    pub max_block_size: usize,
    /// Clusters larger than this are rebuilt from links above the strict threshold only.
    #[arg(long, default_value_t = 25)]
    pub max_cluster_size: usize,
    /// Seed for sampling random pairs.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print the match-weight waterfall of a pair of record ids, e.g. --explain r1,r7 (repeatable).
    #[arg(long, value_name = "LEFT,RIGHT")]
    pub explain: Vec<String>,
    /// Print explanations as JSON rather than text.
    #[arg(long)]
    pub explain_json: bool,
    /// Evaluation only: a CSV of record_id,cluster_id with the true clusters, used to report
    /// blocking recall (never read by the linking itself).
    #[arg(long, value_name = "FILE")]
    pub blocking_truth: Option<PathBuf>,
}

fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() && !text.starts_with(['"', '\n', '\r']) => Ok(text.as_bytes()[0]),
        _ => Err(format!("expected one character such as , ; | or \\t, not {text:?}")),
    }
}

/// Inputs smaller than this, linked with no --model-in, are warned about: EM has too few pairs
/// to learn from, and term frequencies are not used below `MIN_TERM_FREQUENCY_RECORDS`.
const MIN_RECORDS_TO_TRAIN: usize = 1_000;

/// What one input file gave.
struct InputFile {
    /// The name written in the `source_file` column.
    source_file: String,
    format: FileFormat,
    columns: ColumnMapping,
    non_blank: Vec<(usize, u64)>,
    record_count: usize,
    warnings: Vec<InputWarning>,
}

impl InputFile {
    /// Which column became which field, with how full it is, and the columns not used or left out.
    fn describe_columns(&self) -> String {
        let mut lines = vec![format!("columns of {} ({}):", self.source_file, if self.format == FileFormat::Parquet { "Parquet" } else { "CSV" })];
        for (field, index) in &self.columns.fields {
            let filled = match self.non_blank.iter().find(|(column, _)| column == index) {
                Some((_, count)) => format!("  ({count} of {} rows filled)", self.record_count),
                None => String::new(),
            };
            lines.push(format!("  {field:<13} <- {}{filled}", self.columns.names[*index]));
        }
        for (field, column) in &self.columns.extras {
            let line = match column {
                Some(index) => {
                    let filled = self.non_blank.iter().find(|(counted, _)| counted == index).map_or(0, |(_, count)| *count);
                    format!("  {field:<13} <- {}  ({filled} of {} rows filled; added by the model file)", self.columns.names[*index], self.record_count)
                }
                None => format!("  {field:<13} <- no column (added by the model file; missing on every record)"),
            };
            lines.push(line);
        }
        let unused = self.columns.unused_names();
        lines.push(format!("  not used: {}", if unused.is_empty() { "none".to_string() } else { unused.join(", ") }));
        let left_out = self.columns.left_out_names();
        if !left_out.is_empty() {
            lines.push(format!("  left out (constant): {}", left_out.join(", ")));
        }
        lines.join("\n")
    }
}

/// The names written in the `source_file` column: each input's file name, or the path as given
/// where two inputs share a file name.
fn source_file_names(inputs: &[PathBuf]) -> Vec<String> {
    let file_name = |path: &PathBuf| path.file_name().map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned());
    inputs
        .iter()
        .map(|path| {
            let name = file_name(path);
            if inputs.iter().filter(|other| file_name(other) == name).count() > 1 { path.display().to_string() } else { name }
        })
        .collect()
}

/// Runs batch linking and prints a summary.
/// The model file a run links with: the one saved in --model-in, else --model-spec, else the
/// person model. Both given and different is an error, not a silent choice.
fn model_spec_of(args: &LinkArgs, model_in: Option<&Model>) -> anyhow::Result<ModelSpec> {
    let declared = match &args.model_spec {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            Some(ModelSpec::from_toml(&text).with_context(|| format!("in model file {}", path.display()))?)
        }
        None => None,
    };
    match (model_in, declared) {
        (Some(model), Some(declared)) if model.spec != declared => {
            bail!("--model-in was trained for another model file than --model-spec; give one of them (the saved model carries its model file)")
        }
        (Some(model), _) => Ok(model.spec.clone()),
        (None, Some(declared)) => Ok(declared),
        (None, None) => Ok(ModelSpec::default()),
    }
}

pub fn run(args: LinkArgs) -> anyhow::Result<()> {
    if args.print_model_spec {
        print!("{DEFAULT_MODEL_SPEC}");
        return Ok(());
    }
    let Some(output) = args.output.clone() else { bail!("--output is required") };
    if !(0.0..1.0).contains(&args.threshold) || args.threshold <= 0.0 {
        bail!("--threshold must be a probability between 0 and 1 (exclusive), not {}", args.threshold);
    }
    let min_probability = args.min_probability.unwrap_or(args.threshold);
    if !(0.0..1.0).contains(&min_probability) {
        bail!("--min-probability must be a probability from 0 to 1 (exclusive), not {min_probability}");
    }
    let model_in = match &args.model_in {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            Some(Model::from_json(&text).with_context(|| format!("in model file {}", path.display()))?)
        }
        None => None,
    };
    let spec = model_spec_of(&args, model_in.as_ref())?;
    let started = Instant::now();
    let mut records: Vec<PersonRecord> = Vec::new();
    let mut diagnostic_count = 0usize;
    let mut diagnostics_by_column: BTreeMap<String, usize> = BTreeMap::new();
    let mut input_files: Vec<InputFile> = Vec::new();
    for ((source, path), source_file) in args.inputs.iter().enumerate().zip(source_file_names(&args.inputs)) {
        let bar = spinner(&format!("reading {}", path.display()));
        let source_index = u16::try_from(source).context("at most 65,536 input files")?;
        let (format, parsed) = read_input(path, args.delimiter, &spec, source_index).with_context(|| format!("in {}", path.display()))?;
        bar.finish_and_clear();
        diagnostic_count += parsed.diagnostics.len();
        for diagnostic in &parsed.diagnostics {
            *diagnostics_by_column.entry(diagnostic.column.to_string()).or_insert(0) += 1;
        }
        let input = InputFile {
            source_file,
            format,
            columns: parsed.columns,
            non_blank: parsed.non_blank,
            record_count: parsed.records.len(),
            warnings: parsed.warnings,
        };
        eprintln!("{}", input.describe_columns());
        for warning in &input.warnings {
            eprintln!("warning: {}: {warning}", input.source_file);
        }
        out!("read {} records from {} in {:.2} s", parsed.records.len(), path.display(), started.elapsed().as_secs_f64())?;
        records.extend(parsed.records);
        input_files.push(input);
    }
    let mut warnings: Vec<String> =
        input_files.iter().flat_map(|input| input.warnings.iter().map(move |warning| format!("{}: {warning}", input.source_file))).collect();
    if records.len() < MIN_RECORDS_TO_TRAIN && args.model_in.is_none() {
        let warning = format!(
            "only {} records: too few to train a model on (at least {MIN_RECORDS_TO_TRAIN} are needed for its estimates and term frequencies to mean much); \
             train one on a larger file of the same kind with --model-out and link this one with --model-in",
            records.len()
        );
        eprintln!("warning: {warning}");
        warnings.push(warning);
    }
    if args.strict && !warnings.is_empty() {
        bail!("--strict: stopping before linking because of {} warning(s) about the input:\n  {}", warnings.len(), warnings.join("\n  "));
    }
    let config = BatchConfig {
        blocking: BlockingConfig { link_only: args.link_only, max_block_size: args.max_block_size, ..BlockingConfig::default() },
        training: aidant_link::model::TrainingConfig { seed: args.seed, ..Default::default() },
        clustering: ClusterConfig {
            threshold_probability: args.cluster_threshold.unwrap_or(args.threshold),
            strict_probability: args.strict_threshold,
            max_cluster_size: args.max_cluster_size,
            split_weak_links: !args.keep_weak_links,
            check_all_pairs: !args.keep_chained_clusters,
            split_below_weight: args.split_below_weight.unwrap_or(ClusterConfig::default().split_below_weight),
        },
        // Pairs are kept down to the lowest probability anything uses: the default floor (0.01),
        // the clustering threshold or the pairs to be written.
        keep_pairs_above_probability: BatchConfig::default()
            .keep_pairs_above_probability
            .min(min_probability)
            .min(args.cluster_threshold.unwrap_or(args.threshold)),
        keep_candidate_pairs: args.blocking_truth.is_some(),
        model: spec.clone(),
    };
    let mut current: Option<(ProgressBar, Instant, BatchStage)> = None;
    let mut timings: Vec<(BatchStage, Duration)> = Vec::new();
    // The records go once their features are made; what follows needs their ids and sources.
    let record_count = records.len();
    let (records, result) = link_batch_owned(records, model_in, &config, &mut |stage| {
        if let Some((bar, stage_started, previous)) = current.take() {
            bar.finish_and_clear();
            timings.push((previous, stage_started.elapsed()));
        }
        current = Some((spinner(stage.name()), Instant::now(), stage));
    });
    if let Some((bar, stage_started, previous)) = current.take() {
        bar.finish_and_clear();
        timings.push((previous, stage_started.elapsed()));
    }

    let writing_started = Instant::now();
    let writing = spinner("writing clusters");
    let format_of = |path: &PathBuf| args.output_format.unwrap_or_else(|| FileFormat::of_extension(path));
    let source_files: Vec<&str> = input_files.iter().map(|input| input.source_file.as_str()).collect();
    let cluster_ids: Vec<String> = result.clustering.cluster_of.iter().map(|cluster| format!("c{cluster}")).collect();
    write_table(
        &output,
        format_of(&output),
        record_count,
        &[
            OutputColumn::Text("record_id", Box::new(|row| &records[row].record_id)),
            OutputColumn::Text("source_file", Box::new(|row| source_files[usize::from(records[row].source)])),
            OutputColumn::Text("cluster_id", Box::new(|row| &cluster_ids[row])),
        ],
    )?;
    let mut pairs_written = 0;
    if let Some(path) = &args.pairs_out {
        // The weight of a probability is clamped (1e-15 for 0), so 0 is "every pair" by name.
        let floor = aidant_link::model::weight_of_probability(min_probability) as f32;
        let pairs: Vec<&(u32, u32, f32)> = result.scored_pairs.iter().filter(|pair| min_probability == 0.0 || pair.2 >= floor).collect();
        pairs_written = pairs.len();
        write_table(
            path,
            format_of(path),
            pairs.len(),
            &[
                OutputColumn::Text("record_id_l", Box::new(|row| &records[pairs[row].0 as usize].record_id)),
                OutputColumn::Text("record_id_r", Box::new(|row| &records[pairs[row].1 as usize].record_id)),
                OutputColumn::Number("match_probability", 6, Box::new(|row| probability_of_weight(f64::from(pairs[row].2)))),
                OutputColumn::Number("match_weight", 3, Box::new(|row| f64::from(pairs[row].2))),
                // Record ids are unique within a file only.
                OutputColumn::Text("source_file_l", Box::new(|row| source_files[usize::from(records[pairs[row].0 as usize].source)])),
                OutputColumn::Text("source_file_r", Box::new(|row| source_files[usize::from(records[pairs[row].1 as usize].source)])),
            ],
        )?;
    }
    if let Some(path) = &args.model_out {
        std::fs::write(path, result.scorer.model.to_json()).with_context(|| format!("cannot write {}", path.display()))?;
    }
    writing.finish_and_clear();
    let writing_time = writing_started.elapsed();

    out!("\n== Summary ==")?;
    if warnings.is_empty() {
        out!("warnings: none")?;
    } else {
        out!("WARNINGS ({}):", warnings.len())?;
        for warning in &warnings {
            out!("  ! {warning}")?;
        }
    }
    for input in &input_files {
        out!("{}", input.describe_columns())?;
    }
    out!(
        "records: {}   fields not read as given: {diagnostic_count} (dropped as unparseable; a date of birth with a day or month that does not exist is kept as written; a phone number's country may be guessed)",
        record_count
    )?;
    for (column, count) in diagnostics_by_column {
        out!("  {column}: {count}")?;
    }
    match &args.model_spec {
        Some(path) => out!("model file: {} ({} person fields, {} added)", path.display(), spec.person_fields.len(), spec.fields.len())?,
        None if args.model_in.is_some() => out!("model file: the one saved with --model-in ({} added fields)", spec.fields.len())?,
        None => out!("model file: the person model (--print-model-spec shows it)")?,
    }
    out!("blocking rules (pairs before de-duplication; blocks over {} records skipped):", args.max_block_size)?;
    // Declared rules come after the built-in ones, in the model file's order: named as written.
    let declared_names: Vec<String> = spec.blocking.rules.iter().map(|rule| format!("declared: {}", rule.join(" + "))).collect();
    let built_in_count = result.blocking_rules.len().saturating_sub(declared_names.len());
    for (position, rule) in result.blocking_rules.iter().enumerate() {
        let name = position.checked_sub(built_in_count).and_then(|index| declared_names.get(index)).unwrap_or(&rule.rule);
        out!(
            "  {:<42} {:>12} pairs {:>9} blocks  largest {:>6}  oversized {} ({} records)",
            name,
            rule.pairs,
            rule.blocks,
            rule.largest_block,
            rule.oversized_blocks,
            rule.records_in_oversized_blocks
        )?;
    }
    out!("candidate pairs: {}; records with name order repaired: {}", result.candidate_pair_count, result.swapped_name_order)?;
    if let Some(path) = &args.blocking_truth {
        let recall = blocking_recall_against(path, &records, &result.candidate_pairs, args.link_only)?;
        out!(
            "blocking recall: {:.4} ({} of {} true pairs are candidates; {} lost)",
            recall.recall,
            recall.true_pairs_in_candidates,
            recall.true_pairs,
            recall.true_pairs - recall.true_pairs_in_candidates
        )?;
        let lost: Vec<String> =
            recall.lost_examples.iter().map(|(left, right)| format!("{}-{}", records[*left as usize].record_id, records[*right as usize].record_id)).collect();
        out!("  lost pairs, e.g.: {}", lost.join(" "))?;
    }
    let model = &result.scorer.model;
    out!(
        "model: population prior {:.3e} (~{:.0} matching pairs), household prior {:.3}, sibling prior {:.3}; u from {} random pairs; \
         EM on {} same-dob, {} same-name, {} household and {} sibling pairs ({:?} iterations)",
        model.population.prior_match_probability,
        model.training.estimated_matches,
        model.household.prior_match_probability,
        model.sibling.prior_match_probability,
        model.training.random_pairs_for_u,
        model.training.pairs_same_date_of_birth,
        model.training.pairs_same_name,
        model.training.household_pairs_for_em,
        model.training.sibling_pairs_for_em,
        model.training.em_iterations
    )?;
    // Each compared field's weights per level, log2(m / u), the person fields first.
    let weights = |names: &[&str], m: &[f64], u: &[f64]| -> String {
        names.iter().enumerate().skip(1).map(|(level, name)| format!("{name}: {:+.1}", (m[level] / u[level]).log2())).collect::<Vec<_>>().join(" | ")
    };
    for field in spec.person_field_list() {
        let parameters = &model.population.fields[field.index()];
        out!("  {:<12} {}", field.name(), weights(field.level_names(), &parameters.m, &parameters.u))?;
    }
    for (field, parameters) in spec.fields.iter().zip(&model.population.extra) {
        let names = field.level_names();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        out!("  {:<12} {}", field.name, weights(&names, &parameters.m, &parameters.u))?;
    }
    let linked_pairs = result.scored_pairs.iter().filter(|pair| f64::from(pair.2) >= aidant_link::model::weight_of_probability(args.threshold)).count();
    let mut sizes: HashMap<u32, u32> = HashMap::new();
    for cluster in &result.clustering.cluster_of {
        *sizes.entry(*cluster).or_insert(0) += 1;
    }
    let largest = sizes.values().max().copied().unwrap_or(0);
    let singletons = sizes.values().filter(|size| **size == 1).count();
    if !result.clustering.oversized_clusters.is_empty() {
        out!(
            "clusters over {} records rebuilt from strong links only: {} (sizes {:?})",
            args.max_cluster_size,
            result.clustering.oversized_clusters.len(),
            result.clustering.oversized_clusters.iter().take(10).collect::<Vec<_>>()
        )?;
    }
    out!(
        "clusters: {} ({} single records, largest {}); linked pairs: {}; clusters held by one weak link: {}{}",
        result.clustering.cluster_count,
        singletons,
        largest,
        linked_pairs,
        result.clustering.weak_links.len(),
        if args.keep_weak_links { " (kept)" } else { " (cut)" }
    )?;
    if let Some(path) = &args.pairs_out {
        out!("pairs written to {}: {pairs_written} (match probability at least {min_probability})", path.display())?;
    }
    for (stage, duration) in &timings {
        out!("  {:<38} {:>8.2} s", stage.name(), duration.as_secs_f64())?;
    }
    out!("  {:<38} {:>8.2} s", "writing outputs", writing_time.as_secs_f64())?;
    out!("total wall time {:.2} s", started.elapsed().as_secs_f64())?;

    if !args.explain.is_empty() {
        let index_of: HashMap<&str, usize> = records.iter().enumerate().map(|(index, record)| (record.record_id.as_str(), index)).collect();
        for pair in &args.explain {
            let (left, right) = pair.split_once(',').with_context(|| format!("--explain {pair}: expected LEFT,RIGHT"))?;
            let left_index = *index_of.get(left.trim()).with_context(|| format!("--explain: no record {left}"))?;
            let right_index = *index_of.get(right.trim()).with_context(|| format!("--explain: no record {right}"))?;
            let explanation = result.explain_ids((left.trim(), left_index), (right.trim(), right_index));
            if args.explain_json { out!("{}", explanation.to_json())? } else { out!("\n{}", explanation.to_text())? }
        }
    }
    Ok(())
}

fn blocking_recall_against(
    path: &PathBuf,
    records: &[RecordKey],
    candidate_pairs: &[(u32, u32)],
    link_only: bool,
) -> anyhow::Result<aidant_link::blocking::BlockingRecall> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut label_of: HashMap<String, u64> = HashMap::new();
    let mut labels: HashMap<String, u64> = HashMap::new();
    for (row, line) in reader.records().enumerate() {
        let line = line.with_context(|| format!("{}: row {}", path.display(), row + 2))?;
        let (Some(record_id), Some(cluster)) = (line.get(0), line.get(1)) else {
            bail!("{}: row {}: expected record_id,cluster_id", path.display(), row + 2);
        };
        let next = labels.len() as u64;
        let label = *labels.entry(cluster.to_string()).or_insert(next);
        label_of.insert(record_id.to_string(), label);
    }
    // Records missing from the truth file get labels of their own.
    let mut next_unlabelled = u64::MAX / 2;
    let truth: Vec<u64> = records
        .iter()
        .map(|record| {
            label_of.get(&record.record_id).copied().unwrap_or_else(|| {
                next_unlabelled += 1;
                next_unlabelled
            })
        })
        .collect();
    let sources: Vec<u16> = records.iter().map(|record| record.source).collect();
    Ok(aidant_link::blocking::blocking_recall(candidate_pairs, &truth, link_only.then_some(sources.as_slice())))
}
