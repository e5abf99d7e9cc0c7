//! Turning a configuration into a running service: the data directory, the
//! master key, the store, the catalogue and the listener. Every failure a
//! person can fix (bad settings, unreachable database, read-only directory,
//! port in use) is a one-line message and exit code 2.

use std::path::{Path, PathBuf};

use aidant_core::Catalogue;
use aidant_store::{Keyring, MasterKey, Store, StoreOptions};
use aidant_web::{AppState, WebSettings};

use crate::config::{Config, ConfigError};

/// The built-in catalogue, so a fresh checkout runs with no extra files.
pub const BUILT_IN_CATALOGUE: &str = include_str!("../../../data/indicators.toml");

/// Why the command stopped.
#[derive(Debug)]
pub enum Failure {
    /// Bad configuration: exit 2.
    Config(String),
    /// The environment does not allow starting (database, directory, port): exit 2.
    Startup(String),
    /// Something failed while running: exit 1.
    Runtime(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Config(message) => message,
            Failure::Startup(message) | Failure::Runtime(message) => message,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Config(_) | Failure::Startup(_) => 2,
            Failure::Runtime(_) => 1,
        }
    }

    /// A failure while running, with its whole chain of causes on one line.
    pub fn from_error(error: anyhow::Error) -> Self {
        Failure::Runtime(format!("{error:#}"))
    }
}

impl From<ConfigError> for Failure {
    fn from(error: ConfigError) -> Self {
        Failure::Config(error.0)
    }
}

/// Makes sure the data directory exists and can be written.
pub fn prepare_data_dir(data_dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(data_dir).map_err(|error| Failure::Startup(format!("cannot create the data directory {}: {error}", data_dir.display())))?;
    let probe = data_dir.join(".aidant-write-check");
    std::fs::write(&probe, b"ok").map_err(|error| Failure::Startup(format!("cannot write to the data directory {}: {error}", data_dir.display())))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Where the master key came from.
pub enum KeySource {
    /// From the setting or an existing key file.
    Existing(MasterKey),
    /// Generated now; written to the key file once the database is known to work,
    /// so a failed first start leaves nothing behind.
    New(MasterKey, std::path::PathBuf),
}

impl KeySource {
    fn key(&self) -> &MasterKey {
        match self {
            KeySource::Existing(key) | KeySource::New(key, _) => key,
        }
    }
}

/// The master key from the setting, the key file, or (first start) a new
/// key for a new key file readable only by this user.
pub fn load_master_key(config: &Config) -> Result<KeySource, Failure> {
    config.check_keys_apart_from_data().map_err(|error| Failure::Config(error.0))?;
    if let Some(key) = &config.master_key {
        return MasterKey::from_hex(key.expose())
            .map(KeySource::Existing)
            .map_err(|_| Failure::Config("setting master_key: must be 64 hexadecimal characters".to_owned()));
    }
    let path = config.effective_key_file();
    match std::fs::read_to_string(&path) {
        Ok(text) => MasterKey::from_hex(&text)
            .map(KeySource::Existing)
            .map_err(|_| Failure::Config(format!("setting key_file: {} does not hold 64 hexadecimal characters", path.display()))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(KeySource::New(MasterKey::generate(), path)),
        Err(error) => Err(Failure::Startup(format!("cannot read the key file {}: {error}", path.display()))),
    }
}

fn persist_new_key(source: &KeySource) -> Result<(), Failure> {
    if let KeySource::New(key, path) = source {
        create_private_dir_for(path).map_err(|error| Failure::Startup(format!("cannot create the key directory for {}: {error}", path.display())))?;
        write_private_file(path, key.to_hex().as_bytes())
            .map_err(|error| Failure::Startup(format!("cannot create the key file {}: {error}", path.display())))?;
        tracing::info!(key_id = %hex_id(key), "created a new master key file");
    }
    Ok(())
}

pub fn hex_id(key: &MasterKey) -> String {
    key.key_id().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Creates the directory a key file goes in, if missing, open to this user
/// only (mode 0700).
pub fn create_private_dir_for(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() && !parent.exists() => std::fs::DirBuilder::new().recursive(true).mode(0o700).create(parent),
        _ => Ok(()),
    }
}

/// Creates `path` readable and writable by this user only; fails if it exists.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Writes `path` (mode 0600) so that it holds either its old contents or
/// `contents` whatever moment the process dies at: a private temporary file
/// beside it, synced, renamed over it, and the directory synced.
pub fn replace_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut temporary_name = path.file_name().unwrap_or_default().to_os_string();
    temporary_name.push(".partial");
    let temporary = path.with_file_name(temporary_name);
    match std::fs::remove_file(&temporary) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    write_private_file(&temporary, contents)?;
    std::fs::rename(&temporary, path)?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::File::open(directory)?.sync_all()
}

/// Where a master key retired by rotation is kept: beside the key file, as
/// `<key file name>.retired-<key id>`.
pub fn retired_key_path(config: &Config, key: &MasterKey) -> PathBuf {
    let key_file = config.effective_key_file();
    let mut name = key_file.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".retired-{}", hex_id(key)));
    key_file.with_file_name(name)
}

/// The retired master keys beside the key file, so that values an
/// interrupted rotation has not yet rewrapped stay readable. A file whose
/// contents do not match the key id in its name stops start-up.
pub fn load_retired_keys(config: &Config) -> Result<Vec<(MasterKey, PathBuf)>, Failure> {
    let key_file = config.effective_key_file();
    let prefix = format!("{}.retired-", key_file.file_name().unwrap_or_default().to_string_lossy());
    let directory = match key_file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let entries = match std::fs::read_dir(&directory) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(Failure::Startup(format!("cannot read the key directory {}: {error}", directory.display()))),
    };
    let mut keys = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| Failure::Startup(format!("cannot read the key directory {}: {error}", directory.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(named_id) = name.strip_prefix(&prefix) else { continue };
        // Only `<prefix><16 hex digits>`: a `.partial` left by a crash is not a key.
        if named_id.len() != 16 || !named_id.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            continue;
        }
        let path = entry.path();
        let text = std::fs::read_to_string(&path).map_err(|error| Failure::Startup(format!("cannot read the retired key file {}: {error}", path.display())))?;
        let key =
            MasterKey::from_hex(&text).map_err(|_| Failure::Config(format!("retired key file {}: does not hold 64 hexadecimal characters", path.display())))?;
        if hex_id(&key) != named_id.to_ascii_lowercase() {
            return Err(Failure::Config(format!("retired key file {}: holds key {}, not the key its name says", path.display(), hex_id(&key))));
        }
        keys.push((key, path));
    }
    keys.sort_by(|left, right| left.1.cmp(&right.1));
    Ok(keys)
}

/// What a command needs from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreUse {
    /// Serving: the master key is loaded (or created) and migrations applied.
    Serve,
    /// `aidant migrate`: the database may be new (the SQLite file is created);
    /// no key needed.
    Migrate,
    /// Maintenance (users, audit, keys): an existing Aidant database only,
    /// opened without a key; a path with none is refused and nothing created.
    Maintenance,
    /// Work on an existing database with its key (the worker, entity
    /// rebuilds): refused like `Maintenance` where there is no database, and
    /// no key is made where there is none (a new key opens nothing sealed).
    Work,
}

/// Opens the store, creating the data directory and key as the use needs.
pub async fn open_store(config: &Config, store_use: StoreUse) -> Result<Store, Failure> {
    let url = config.effective_database_url();
    let embedded = url.starts_with("sqlite:");
    let existing_only = matches!(store_use, StoreUse::Maintenance | StoreUse::Work);
    if existing_only {
        require_sqlite_file(config, &url)?;
    } else if embedded || store_use == StoreUse::Serve {
        prepare_data_dir(&config.data_dir)?;
    }
    let key_source = match store_use {
        StoreUse::Serve => Some(load_master_key(config)?),
        StoreUse::Work => Some(existing_master_key(config)?),
        StoreUse::Migrate | StoreUse::Maintenance => None,
    };
    let retired = match key_source {
        Some(_) => load_retired_keys(config)?,
        None => Vec::new(),
    };
    let master_key = key_source.as_ref().map(|source| source.key().clone());
    let people_model = load_people_model(config)?;
    let mut store = Store::connect(&url, &StoreOptions::default(), master_key).await.map_err(|error| Failure::Startup(error.to_string()))?;
    if existing_only && !store.holds_aidant_schema().await.map_err(|error| Failure::Startup(error.to_string()))? {
        store.close().await;
        return Err(no_database(config, &aidant_store::redact_url(&url)));
    }
    if let Some(model) = people_model {
        store = store.with_people_model(model);
    }
    if let Some(source) = &key_source {
        persist_new_key(source)?;
        if !retired.is_empty() {
            tracing::info!(retired = retired.len(), "retired master keys loaded to open values not yet rewrapped");
        }
        store = store.with_keyring(Keyring::new(source.key().clone(), retired.into_iter().map(|(key, _)| key).collect()));
    }
    if matches!(store_use, StoreUse::Serve | StoreUse::Work) {
        let applied = store.migrate().await.map_err(|error| Failure::Startup(error.to_string()))?;
        if applied > 0 {
            tracing::info!(applied, backend = store.backend().as_str(), "database migrations applied");
        }
        let newer = store.newer_migrations().await.map_err(|error| Failure::Startup(error.to_string()))?;
        if !newer.is_empty() {
            tracing::warn!(
                newer = ?newer,
                "the database holds migrations of a newer release; running as the previous release, as during a rolling upgrade (replace this process with the new release)"
            );
        }
    }
    Ok(store)
}

/// The SQLite file a URL names (`sqlite://PATH?options`), if it is one.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Refuses, before anything is opened or created, a SQLite path with no
/// file, or with a file that is not a SQLite database (an empty one would
/// be made one by opening it).
fn require_sqlite_file(config: &Config, url: &str) -> Result<(), Failure> {
    const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";
    let Some(path) = sqlite_file(url) else { return Ok(()) };
    let mut header = [0u8; 16];
    let is_sqlite = std::fs::File::open(&path).and_then(|mut file| std::io::Read::read_exact(&mut file, &mut header)).is_ok() && &header == SQLITE_HEADER;
    if is_sqlite { Ok(()) } else { Err(no_database(config, &path.display().to_string())) }
}

/// "There is no Aidant database at ...", with the way to the demo's when
/// the data directory was left at its default and the demo's is here.
fn no_database(config: &Config, location: &str) -> Failure {
    let demo = Path::new(crate::demo::DEMO_DATA_DIR);
    let hint = if config.database_url.is_none() && config.data_dir != demo && demo.join("aidant.db").is_file() {
        format!("; the demo's data is in {0}: add --data-dir {0}", demo.display())
    } else {
        "; give --data-dir or --database-url, or create one with `aidant migrate` or `aidant serve`".to_owned()
    };
    Failure::Config(format!("there is no Aidant database at {location}{hint}"))
}

/// The current master key (which must exist) and the retired ones: what a
/// backup is encrypted under and opens with.
pub fn existing_keyring(config: &Config) -> Result<Keyring, Failure> {
    let current = existing_master_key(config)?.key().clone();
    let retired = load_retired_keys(config)?.into_iter().map(|(key, _)| key).collect();
    Ok(Keyring::new(current, retired))
}

/// The master key a database's sealed values need: an existing one only.
fn existing_master_key(config: &Config) -> Result<KeySource, Failure> {
    match load_master_key(config)? {
        KeySource::New(_, path) => {
            Err(Failure::Config(format!("this command needs the master key that sealed the data: set master_key or put the key file at {}", path.display())))
        }
        existing => Ok(existing),
    }
}

/// The model of `people_model_file`, read and checked, if one is configured. Fields its model
/// file adds are not in any record the server reads, so they count for nothing: said once here.
pub fn load_people_model(config: &Config) -> Result<Option<aidant_link::model::Model>, Failure> {
    let Some(path) = &config.people_model_file else { return Ok(None) };
    let text = std::fs::read_to_string(path).map_err(|error| Failure::Config(format!("setting people_model_file: cannot read {}: {error}", path.display())))?;
    let model = aidant_link::model::Model::from_json(&text)
        .map_err(|error| Failure::Config(format!("setting people_model_file: {} is not a model saved by aidant link --model-out: {error}", path.display())))?;
    if !model.spec.fields.is_empty() {
        let names: Vec<&str> = model.spec.fields.iter().map(|field| field.name.as_str()).collect();
        tracing::warn!(fields = %names.join(", "), "the people model adds fields that records in the workspace do not have; they count as missing");
    }
    Ok(Some(model))
}

pub fn load_catalogue(config: &Config) -> Result<Catalogue, Failure> {
    let (text, source) = match &config.catalogue_file {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|error| Failure::Config(format!("setting catalogue_file: cannot read {}: {error}", path.display())))?,
            path.display().to_string(),
        ),
        None => (BUILT_IN_CATALOGUE.to_owned(), "the built-in catalogue".to_owned()),
    };
    Catalogue::from_toml(&text).map_err(|error| Failure::Config(format!("indicator catalogue {source}: {}", error.to_string().replace('\n', " "))))
}

/// Runs the server until SIGTERM or Ctrl-C, then finishes requests in flight.
pub async fn run_server(config: &Config) -> Result<(), Failure> {
    let catalogue = load_catalogue(config)?;
    let store = open_store(config, StoreUse::Serve).await?;
    serve_store(config, store, catalogue).await
}

pub async fn serve_store(config: &Config, store: Store, catalogue: Catalogue) -> Result<(), Failure> {
    let settings = WebSettings {
        body_limit_bytes: config.body_limit_bytes,
        request_timeout: config.request_timeout(),
        exit_url: config.exit_url.clone(),
        rate_limit: aidant_web::rate_limit::RateLimit { per_minute: config.public_submissions_per_minute, burst: config.public_submissions_burst },
        sign_in_rate_limit: aidant_web::rate_limit::RateLimit { per_minute: config.sign_ins_per_minute, burst: config.sign_ins_per_minute.saturating_mul(2) },
        sign_in: config.sign_in_policy(),
        trusted_proxies: config.trusted_proxy_networks().map_err(|error| Failure::Config(error.0))?,
        guess_backoff: aidant_web::backoff::BackoffPolicy::default(),
        retention: config.retention,
        single_sign_on: config.single_sign_on_settings(),
    };
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.map_err(|error| Failure::Startup(format!("cannot listen on {}: {error}", config.listen)))?;
    let address = listener.local_addr().map_err(|error| Failure::Startup(error.to_string()))?;
    let backend = store.backend();
    spawn_draft_purge(store.clone());
    let worker = crate::entities::spawn_worker(store.clone());
    let state = AppState::new(store.clone(), catalogue, settings)
        .map_err(|error| Failure::Runtime(format!("the public site's templates or messages are broken: {error}")))?;
    if let Some(metrics_address) = config.metrics_listen {
        let metrics_listener = tokio::net::TcpListener::bind(metrics_address)
            .await
            .map_err(|error| Failure::Startup(format!("cannot listen for metrics on {metrics_address}: {error}")))?;
        let metrics_address = metrics_listener.local_addr().map_err(|error| Failure::Startup(error.to_string()))?;
        println!("Metrics for operators at http://{metrics_address}/metrics");
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(error) = aidant_web::serve_metrics(metrics_listener, state).await {
                tracing::warn!(error = %error, "the metrics listener stopped");
            }
        });
    }
    let app = aidant_web::router(state);
    println!("Aidant is listening on http://{address} (database: {})", backend.as_str());
    tracing::info!(%address, backend = backend.as_str(), "listening");
    aidant_web::serve(listener, app, shutdown_signal()).await.map_err(|error| Failure::Runtime(format!("the server stopped: {error}")))?;
    // A job the worker was in the middle of rolls back and runs again later.
    worker.abort();
    store.close().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Expired drafts are never served, but their sealed rows are also removed
/// promptly, so unfinished reports do not linger on disk.
fn spawn_draft_purge(store: Store) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            interval.tick().await;
            match store.purge_expired_drafts().await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "expired drafts removed"),
                Err(error) => tracing::warn!(error = %error, "removing expired drafts failed"),
            }
            if let Err(error) = store.optimize().await {
                tracing::warn!(error = %error, "refreshing query statistics failed");
            }
        }
    });
}

pub(crate) async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
