//! The `aidant` command as a library: the command line (`Cli`) and `run`,
//! which carries a parsed command out and returns the process's exit code.
//! `main.rs` only parses the arguments and calls `run`, so every subcommand's
//! code can be unit-tested here without starting a process.

/// `println!` that hands back the write's error instead of panicking, so a
/// closed pipe (`aidant graph ... | head`) ends the command quietly
/// (see `ends_quietly`) rather than with a panic and a backtrace.
macro_rules! out {
    ($($argument:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($argument)*)
    }};
}

mod audit_checkpoint;
mod backup;
mod bench;
mod bench_field;
mod bench_publication;
mod bench_staff;
mod config;
mod demo;
mod demo_operation;
pub mod demo_story;
mod demo_victims;
mod entities;
mod graph;
mod graph_source;
mod keys;
mod link;
mod startup;
mod users;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Config, Locations};
use crate::startup::{Failure, StoreUse, open_store, run_server};

const EXAMPLES: &str = "\
Examples:
  aidant demo                          Fresh demo data on SQLite, served at http://127.0.0.1:8080
  aidant serve                         Serve using ./aidant.toml and AIDANT_* settings
  AIDANT_DATABASE_URL=postgres://postgres@127.0.0.1:5432/aidant aidant migrate
  aidant config                        Show the settings in force (secrets redacted)
  aidant audit verify                  Check the audit log has not been altered
  aidant organisations add Beds --kind police_force --receives-public-reports
  aidant users add --organisation Beds --email a@beds.police.uk --name Ann --role administrator
  aidant audit checkpoint --out head.json   Sign the chain's head; keep the file elsewhere
  aidant audit verify --checkpoint head.json --public-key HEX   Prove the log was not rewritten
  aidant keys rotate                   New master key; rewrap every sealed value under it
  aidant backup --to /backups/today    Encrypted copy of the database with a manifest
  aidant restore --from /backups/today --data-dir new-data   Check a backup and restore it
  aidant graph communities --nodes n.csv --edges e.csv   Find groups in a network
  aidant link --input people.csv --output clusters.csv    Resolve people into entities

Settings come from an optional TOML file (--config, or ./aidant.toml) and
AIDANT_* environment variables, which win: AIDANT_DATABASE_URL, AIDANT_LISTEN,
AIDANT_DATA_DIR, AIDANT_KEY_FILE, AIDANT_MASTER_KEY, AIDANT_CATALOGUE_FILE,
AIDANT_BODY_LIMIT_BYTES, AIDANT_REQUEST_TIMEOUT_SECONDS, AIDANT_EXIT_URL,
AIDANT_PUBLIC_SUBMISSIONS_PER_MINUTE, AIDANT_PUBLIC_SUBMISSIONS_BURST,
AIDANT_SIGN_IN_MAX_FAILURES, AIDANT_SIGN_IN_LOCKOUT_MINUTES, AIDANT_SIGN_INS_PER_MINUTE,
AIDANT_SESSION_IDLE_MINUTES, AIDANT_SESSION_ABSOLUTE_HOURS, AIDANT_AUDIT_SIGNING_KEY_FILE.";

/// Aidant: find and stop modern slavery and human trafficking.
#[derive(Debug, Parser)]
#[command(name = "aidant", version, about = "Aidant: find and stop modern slavery and human trafficking.", after_help = EXAMPLES)]
pub struct Cli {
    /// A TOML configuration file (default: ./aidant.toml when present).
    #[arg(long, global = true, env = "AIDANT_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the data lives: the SQLite database, with the keys beside it in
    /// DIR-keys (default: the data_dir setting, aidant-data; for `demo`,
    /// aidant-demo-data). Wins over the file and AIDANT_DATA_DIR.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The database to use instead of DIR/aidant.db: sqlite://PATH or
    /// postgres://... Wins over the file and AIDANT_DATABASE_URL.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Log format: human-readable, or one JSON object per line.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the public site, the staff workspace and the API.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create a fresh data directory with realistic synthetic data and serve it.
    ///
    /// Settings (--config, ./aidant.toml, AIDANT_*) apply as for serve,
    /// except where the data lives: the demo always has its own --data-dir,
    /// database and keys. The database is SQLite in that directory, or an
    /// empty PostgreSQL database given as --database-url postgres://...
    Demo(demo::DemoArgs),
    /// Print the configuration in force, without secrets.
    Config,
    /// Measure the running system (see docs/benchmarks.md).
    Bench(bench::BenchArgs),
    /// Network analysis over a nodes CSV and an edges CSV: components,
    /// communities, centrality, paths and exports.
    #[command(subcommand)]
    Graph(graph::GraphCommand),
    /// Resolve people across CSV files into entities (probabilistic record
    /// linkage); see `aidant link --help` for the input columns.
    Link(link::LinkArgs),
    /// Add and list organisations, and choose which receives public reports.
    #[command(subcommand)]
    Organisations(users::OrganisationCommand),
    /// Add, list, disable and reset staff users.
    #[command(subcommand)]
    Users(users::UserCommand),
    /// Work with the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Write a consistent, encrypted copy of the database with a manifest
    /// (SQLite's VACUUM INTO or pg_dump; encrypted under the master key).
    Backup(backup::BackupArgs),
    /// Restore a backup into an empty data directory or database (or, with
    /// --replace, over a stopped SQLite one), after checking its manifest,
    /// its encryption and its audit chain.
    Restore(backup::RestoreArgs),
    /// Work with the master key that protects sealed fields.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Read queued records for entities, without serving (several workers
    /// may share one PostgreSQL database; `serve` runs one too).
    Worker,
    /// Rebuild entities from every record, or see the worker's queue.
    #[command(subcommand)]
    Entities(entities::EntitiesCommand),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain and name the first altered, deleted or reordered
    /// entry; with --checkpoint, also prove the log up to a signed checkpoint
    /// was not rewritten.
    Verify(audit_checkpoint::VerifyArgs),
    /// Sign the chain's head with the audit signing key (kept outside the
    /// database) and write it as a checkpoint to keep somewhere else.
    Checkpoint(audit_checkpoint::CheckpointArgs),
    /// Print the public key that verifies this installation's checkpoints.
    PublicKey,
}

/// Whether a configuration file's text is accepted, with the one line that
/// says what is wrong when it is not: the parser `fuzz/`'s `configuration`
/// target drives.
pub fn check_configuration_text(text: &str) -> Result<(), String> {
    Config::from_toml_text(text).map(|_| ()).map_err(|error| error.0)
}

/// A command's outcome with a closed standard output taken as the reader's
/// choice to stop (`| head`), not as a failure.
fn ends_quietly(outcome: anyhow::Result<()>) -> anyhow::Result<()> {
    match outcome {
        Err(error) if error.chain().any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)) => Ok(()),
        other => other,
    }
}

/// Carries out one `aidant` command and returns the process's exit code:
/// 0 on success, 1 when the work failed, 2 for a failure the operator can fix
/// (settings, database, directory, port), always after one line on stderr.
pub fn run(cli: Cli) -> ExitCode {
    init_logging(cli.log_format);
    let locations = Locations { data_dir: cli.data_dir, database_url: cli.database_url };
    // Graph analysis and linking are pure computation over files: no
    // runtime, and a database only for `graph --from-database`.
    let outcome = match cli.command {
        Command::Graph(command) => graph::run(command, cli.config.as_deref(), &locations).map(|()| ExitCode::SUCCESS),
        Command::Link(arguments) => ends_quietly(link::run(arguments)).map(|()| ExitCode::SUCCESS).map_err(Failure::from_error),
        command => run_with_runtime(cli.config.as_deref(), &locations, command),
    };
    outcome.unwrap_or_else(|failure| {
        eprintln!("aidant: error: {}", failure.message());
        ExitCode::from(failure.exit_code())
    })
}

fn run_with_runtime(config_file: Option<&Path>, locations: &Locations, command: Command) -> Result<ExitCode, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Runtime(format!("cannot start the async runtime: {error}")))?;
    runtime.block_on(run_async(config_file, locations, command))
}

async fn run_async(config_file: Option<&Path>, locations: &Locations, command: Command) -> Result<ExitCode, Failure> {
    if let Command::Bench(arguments) = command {
        // The server under test gets a fresh data directory and only the
        // settings the benchmark chooses, so that runs compare; say so
        // rather than silently ignoring a configuration file.
        if let Some(file) = config_file {
            eprintln!("aidant: note: bench does not read {}: it measures a fresh server with its own settings", file.display());
        }
        if locations.data_dir.is_some() {
            return Err(Failure::Config("bench makes a fresh data directory of its own; give it an empty database with --database-url instead".to_owned()));
        }
        return bench::run(arguments.on_database(locations.database_url.clone())).await.map_err(Failure::from_error);
    }
    if let Command::Demo(arguments) = command {
        // The demo's database is its own: a SQLite file in its directory, or
        // an empty PostgreSQL database named on the command line (never one
        // from the configuration, so it cannot fill a force's database).
        let postgres = match &locations.database_url {
            Some(url) if aidant_store::Backend::from_url(url).is_ok_and(|backend| backend == aidant_store::Backend::Postgres) => Some(url.clone()),
            Some(_) => {
                return Err(Failure::Config(
                    "the demo makes its own SQLite database (choose where with --data-dir), or fills an empty PostgreSQL database given as --database-url postgres://...".to_owned(),
                ));
            }
            None => None,
        };
        let config = Config::load(config_file, &Locations::default())?;
        return demo::run(arguments, locations.data_dir.clone(), postgres, config).await.map(|()| ExitCode::SUCCESS);
    }
    let config = Config::load(config_file, locations)?;
    match command {
        Command::Serve => run_server(&config).await.map(|()| ExitCode::SUCCESS),
        Command::Migrate => {
            let store = open_store(&config, StoreUse::Migrate).await?;
            let applied = store.migrate().await.map_err(|error| Failure::Startup(error.to_string()))?;
            println!("{applied} migration(s) applied to the {} database", store.backend().as_str());
            Ok(ExitCode::SUCCESS)
        }
        Command::Config => {
            println!("{}", config.to_display_toml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Organisations(command) => {
            let store = open_store(&config, StoreUse::Maintenance).await?;
            users::organisations(&store, command).await.map(|()| ExitCode::SUCCESS)
        }
        Command::Users(command) => {
            let store = open_store(&config, StoreUse::Maintenance).await?;
            users::users(&store, command).await.map(|()| ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Verify(arguments) } => audit_checkpoint::verify(&config, arguments).await,
        Command::Audit { command: AuditCommand::Checkpoint(arguments) } => audit_checkpoint::checkpoint(&config, arguments).await,
        Command::Audit { command: AuditCommand::PublicKey } => audit_checkpoint::public_key(&config),
        Command::Keys { command } => keys::run(&config, command).await,
        Command::Backup(arguments) => backup::backup(&config, arguments).await,
        Command::Restore(arguments) => backup::restore(&config, arguments).await,
        Command::Worker => entities::run_worker(&config).await.map(|()| ExitCode::SUCCESS),
        Command::Entities(command) => entities::run(&config, command).await.map(|()| ExitCode::SUCCESS),
        Command::Graph(_) | Command::Link(_) | Command::Bench(_) | Command::Demo(_) => unreachable!("handled before the configuration is loaded"),
    }
}

/// Logs go to stderr. A caller that has already set a subscriber keeps it.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AIDANT_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Human => {
            let _ = builder.try_init();
        }
        LogFormat::Json => {
            let _ = builder.json().flatten_event(true).try_init();
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(arguments: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("aidant").chain(arguments.iter().copied())).unwrap_or_else(|error| panic!("{arguments:?}: {error}"))
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn config_is_global_before_or_after_the_subcommand() {
        for arguments in [["--config", "a.toml", "graph", "components", "--from-database"], ["graph", "components", "--from-database", "--config", "a.toml"]] {
            assert_eq!(parse(&arguments).config.as_deref(), Some(Path::new("a.toml")), "{arguments:?}");
        }
    }

    #[test]
    fn data_dir_and_database_url_are_global_before_or_after_the_subcommand() {
        for arguments in [
            ["--data-dir", "d", "--database-url", "sqlite://x.db", "audit", "verify"],
            ["audit", "verify", "--data-dir", "d", "--database-url", "sqlite://x.db"],
        ] {
            let cli = parse(&arguments);
            assert_eq!((cli.data_dir.as_deref(), cli.database_url.as_deref()), (Some(Path::new("d")), Some("sqlite://x.db")), "{arguments:?}");
        }
        assert_eq!(parse(&["demo", "--data-dir", "mine"]).data_dir.as_deref(), Some(Path::new("mine")), "the demo's own --data-dir is the global one");
    }

    #[test]
    fn a_benchmark_runs_on_the_database_given_before_or_after_its_name() {
        for arguments in [["bench", "staff", "--database-url", "postgres://db/fresh"], ["--database-url", "postgres://db/fresh", "bench", "staff"]] {
            let cli = parse(&arguments);
            let Command::Bench(bench) = cli.command else { panic!("{arguments:?} is a benchmark") };
            assert_eq!(bench.on_database(cli.database_url).database_url(), Some("postgres://db/fresh"), "{arguments:?}");
        }
    }

    #[test]
    fn graph_from_the_database_reads_the_named_configuration() {
        let cli = parse(&["--config", "/nonexistent/aidant.toml", "graph", "components", "--from-database"]);
        let Command::Graph(command) = cli.command else { panic!("a graph command: {:?}", cli.command) };
        match graph::run(command, cli.config.as_deref(), &Locations::default()) {
            Err(failure @ Failure::Config(_)) => {
                assert_eq!((failure.message(), failure.exit_code()), ("configuration file /nonexistent/aidant.toml does not exist", 2));
            }
            other => panic!("the named file is read: {other:?}"),
        }
    }
}
