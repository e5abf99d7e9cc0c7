//! Configuration, loaded once at start-up into a typed struct from an
//! optional TOML file and `AIDANT_*` environment variables (which win), then
//! passed down. Secrets are wrapped so `Debug` and `aidant config` never
//! print them.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Settings read from the environment, by their `AIDANT_` suffix.
const ENVIRONMENT_KEYS: [&str; 24] = [
    "public_url",
    "metrics_listen",
    "single_sign_on",
    "trusted_proxies",
    "database_url",
    "listen",
    "data_dir",
    "key_file",
    "key_dir",
    "master_key",
    "catalogue_file",
    "body_limit_bytes",
    "request_timeout_seconds",
    "exit_url",
    "public_submissions_per_minute",
    "public_submissions_burst",
    "sign_in_max_failures",
    "sign_in_lockout_minutes",
    "sign_ins_per_minute",
    "session_idle_minutes",
    "session_absolute_hours",
    "audit_signing_key_file",
    "people_model_file",
    "retention",
];

/// A value that must never be printed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `sqlite://PATH` or `postgres://USER[:PASSWORD]@HOST:PORT/DATABASE`.
    /// Defaults to `sqlite://DATA_DIR/aidant.db`. May hold a password, so it
    /// is treated as a secret and printed redacted.
    pub database_url: Option<Secret>,
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Where the SQLite database lives. The keys are kept apart (`key_dir`).
    pub data_dir: PathBuf,
    /// Where the key files live by default: outside the data directory, so
    /// that a copy or backup of the data does not carry the keys that open
    /// it. Defaults to a directory beside the data directory, named after it
    /// with `-keys` (`aidant-data-keys`), created (mode 0700) on first start.
    /// Aidant refuses to start with a key file inside the data directory.
    pub key_dir: Option<PathBuf>,
    /// File holding the master key as 64 hex characters; defaults to
    /// `KEY_DIR/master.key`, created on first start.
    pub key_file: Option<PathBuf>,
    /// The master key itself, as 64 hex characters (instead of a key file).
    pub master_key: Option<Secret>,
    /// A catalogue file to use instead of the built-in `data/indicators.toml`.
    pub catalogue_file: Option<PathBuf>,
    /// Largest request body accepted.
    pub body_limit_bytes: usize,
    /// Longest a request may take.
    pub request_timeout_seconds: u64,
    /// The neutral site that quick exit replaces the page with.
    pub exit_url: String,
    /// Reports, drafts, feedback and keep-in-contact sign-ins one address
    /// may make per minute, sustained; 0 turns flood protection off.
    pub public_submissions_per_minute: u32,
    /// How many of those may come in a quick burst.
    pub public_submissions_burst: u32,
    /// Wrong passwords in a row before a staff account locks.
    pub sign_in_max_failures: u32,
    /// How long a locked staff account stays locked.
    pub sign_in_lockout_minutes: u64,
    /// Staff sign-in attempts one address may make per minute (burst of
    /// twice that); 0 turns this limit off (the per-account lockout stays).
    pub sign_ins_per_minute: u32,
    /// A staff session unused this long ends.
    pub session_idle_minutes: u64,
    /// A staff session ends this long after sign-in, however busy.
    pub session_absolute_hours: u64,
    /// File holding the Ed25519 key that signs audit checkpoints, as 64 hex
    /// characters; defaults to `KEY_DIR/audit-signing.key`, created on first
    /// use. Keep it out of the database and away from database backups.
    pub audit_signing_key_file: Option<PathBuf>,
    /// A model saved by `aidant link --model-out` (trained on the force's own records, with or
    /// without a model file) to link the people named in records with, instead of the built-in
    /// reference model. Used when the database first starts linking people.
    pub people_model_file: Option<PathBuf>,
    /// Where to serve Prometheus metrics (`GET /metrics`) for operators: an
    /// address and port of its own, on loopback or a private network, never
    /// the public listener's. Off when unset.
    pub metrics_listen: Option<SocketAddr>,
    /// Reverse proxies (addresses or networks such as `10.0.0.0/8`) whose
    /// `X-Forwarded-For` is believed, so that flood protection and the
    /// sign-in limit count each client instead of the proxy. Empty: the
    /// header is ignored (a client could write anything in it). In the
    /// environment, a TOML list: `AIDANT_TRUSTED_PROXIES='["10.0.0.5"]'`.
    pub trusted_proxies: Vec<String>,
    /// Review periods in months by kind of record (Management of Police
    /// Information: records are reviewed, not kept forever). A table:
    /// `[retention]` with `victim_cases_months`, `reports_months`,
    /// `intelligence_months` and `operations_months` (each 72 by default, six
    /// years); in the environment `AIDANT_RETENTION='{victim_cases_months=120}'`.
    /// Confirm the periods with the force's information management lead.
    pub retention: aidant_core::retention::ReviewPeriods,
    /// Aidant's address as staff browsers reach it (`https://aidant.force.example`):
    /// identity providers send people back to it. Needed with `single_sign_on`.
    pub public_url: Option<String>,
    /// Identity providers (OpenID Connect) staff may sign in through, each
    /// with the groups that may use Aidant; see docs/security.md. In the
    /// environment, a TOML list: `AIDANT_SINGLE_SIGN_ON='[{name="beds", ...}]'`.
    pub single_sign_on: Vec<aidant_web::oidc::Provider>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("aidant-data"),
            key_dir: None,
            key_file: None,
            master_key: None,
            catalogue_file: None,
            body_limit_bytes: 64 * 1024,
            request_timeout_seconds: 30,
            exit_url: aidant_web::DEFAULT_EXIT_URL.to_owned(),
            public_submissions_per_minute: 10,
            public_submissions_burst: 20,
            sign_in_max_failures: 5,
            sign_in_lockout_minutes: 15,
            sign_ins_per_minute: 10,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            audit_signing_key_file: None,
            people_model_file: None,
            metrics_listen: None,
            trusted_proxies: Vec::new(),
            retention: aidant_core::retention::ReviewPeriods::default(),
            public_url: None,
            single_sign_on: Vec::new(),
        }
    }
}

/// Where the data lives, as given on the command line (`--data-dir`,
/// `--database-url`): these win over the file and the environment, so every
/// command that opens the database can be pointed at the demo's or a copy's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locations {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
}

/// A configuration problem: one line naming the setting and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The key directory beside a data directory: `aidant-data` → `aidant-data-keys`.
pub fn default_key_dir(data_dir: &Path) -> PathBuf {
    let data_dir = absolute(data_dir);
    let name = data_dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "aidant-data".to_owned());
    data_dir.with_file_name(format!("{name}-keys"))
}

/// `path` made absolute against the working directory, with `.` and `..`
/// resolved by name, so that two spellings of one place compare equal.
fn absolute(path: &Path) -> PathBuf {
    let joined = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut clean = PathBuf::new();
    for component in joined.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    clean
}

impl Config {
    /// Loads defaults, then the file (if any), then the environment.
    /// An explicitly named file must exist; `aidant.toml` in the working
    /// directory is read when present.
    pub fn load(explicit_file: Option<&Path>, locations: &Locations) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match explicit_file {
            Some(path) => {
                if !path.is_file() {
                    return Err(ConfigError(format!("configuration file {} does not exist", path.display())));
                }
                figment = figment.merge(Toml::file_exact(path));
            }
            None if Path::new("aidant.toml").is_file() => figment = figment.merge(Toml::file_exact("aidant.toml")),
            None => {}
        }
        figment = figment.merge(Env::prefixed("AIDANT_").only(&ENVIRONMENT_KEYS));
        if let Some(data_dir) = &locations.data_dir {
            figment = figment.merge(Serialized::default("data_dir", data_dir));
        }
        if let Some(url) = &locations.database_url {
            figment = figment.merge(Serialized::default("database_url", url));
        }
        let config: Config = figment.extract().map_err(describe_figment_error)?;
        config.check()?;
        Ok(config)
    }

    /// A configuration file's text alone (no environment, no other file),
    /// read and checked as `load` reads and checks it.
    pub fn from_toml_text(text: &str) -> Result<Self, ConfigError> {
        let figment = Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(text));
        let config: Config = figment.extract().map_err(describe_figment_error)?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        self.retention.check().map_err(|message| ConfigError(format!("setting {message}")))?;
        if let Some(url) = &self.database_url {
            aidant_store::Backend::from_url(url.expose())
                .map_err(|_| ConfigError("setting database_url: must start with sqlite: or postgres://".to_owned()))?;
        }
        if let Some(key) = &self.master_key {
            aidant_store::MasterKey::from_hex(key.expose())
                .map_err(|_| ConfigError("setting master_key: must be 64 hexadecimal characters (32 bytes)".to_owned()))?;
        }
        if self.body_limit_bytes < 1024 {
            return Err(ConfigError("setting body_limit_bytes: must be at least 1024".to_owned()));
        }
        if !(self.exit_url.starts_with("https://") || self.exit_url.starts_with("http://")) || self.exit_url.contains(char::is_whitespace) {
            return Err(ConfigError("setting exit_url: must be a web address starting with https://".to_owned()));
        }
        if self.sign_in_max_failures == 0 {
            return Err(ConfigError("setting sign_in_max_failures: must be at least 1".to_owned()));
        }
        if self.session_idle_minutes == 0 || self.session_absolute_hours == 0 {
            return Err(ConfigError("settings session_idle_minutes and session_absolute_hours: must be at least 1".to_owned()));
        }
        if self.request_timeout_seconds == 0 {
            return Err(ConfigError("setting request_timeout_seconds: must be at least 1".to_owned()));
        }
        self.trusted_proxy_networks()?;
        self.single_sign_on_settings().check().map_err(|message| ConfigError(format!("setting {message}")))?;
        Ok(())
    }

    /// The identity providers, with the address they send people back to.
    pub fn single_sign_on_settings(&self) -> aidant_web::oidc::Settings {
        aidant_web::oidc::Settings { public_url: self.public_url.clone().unwrap_or_default(), providers: self.single_sign_on.clone() }
    }

    /// The trusted proxies as networks.
    pub fn trusted_proxy_networks(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|text| aidant_web::rate_limit::parse_proxy(text).map_err(|error| ConfigError(format!("setting trusted_proxies: {error}"))))
            .collect()
    }

    /// The database URL in force.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!("sqlite://{}", self.data_dir.join("aidant.db").display()),
        }
    }

    /// Where key files go unless named one by one.
    pub fn effective_key_dir(&self) -> PathBuf {
        self.key_dir.clone().unwrap_or_else(|| default_key_dir(&self.data_dir))
    }

    pub fn effective_key_file(&self) -> PathBuf {
        self.key_file.clone().unwrap_or_else(|| self.effective_key_dir().join("master.key"))
    }

    /// Refuses key files that a copy of the data directory would carry: a
    /// key file inside it, or one left there by an earlier version (which
    /// must be moved, not replaced by a new key that opens nothing).
    pub fn check_keys_apart_from_data(&self) -> Result<(), ConfigError> {
        let data_dir = absolute(&self.data_dir);
        let mut files = vec![("audit_signing_key_file", self.effective_audit_signing_key_file(), "audit-signing.key")];
        if self.master_key.is_none() {
            files.insert(0, ("key_file", self.effective_key_file(), "master.key"));
        }
        for (setting, file, default_name) in files {
            if absolute(&file).starts_with(&data_dir) {
                return Err(ConfigError(format!(
                    "setting {setting}: {} is inside the data directory {}, so any copy or backup of the data would carry the key that opens it; \
                     keep it elsewhere (set key_dir or {setting})",
                    file.display(),
                    self.data_dir.display()
                )));
            }
            let left_behind = self.data_dir.join(default_name);
            if left_behind.exists() && !file.exists() {
                return Err(ConfigError(format!(
                    "{} is inside the data directory, where an earlier version kept it: move it to {} (or set {setting} to where it is kept now)",
                    left_behind.display(),
                    file.display()
                )));
            }
        }
        Ok(())
    }

    /// Lockout and session timeouts for staff.
    pub fn sign_in_policy(&self) -> aidant_store::identity::SignInPolicy {
        aidant_store::identity::SignInPolicy {
            max_failures: i64::from(self.sign_in_max_failures),
            lockout: Duration::from_secs(self.sign_in_lockout_minutes * 60),
            idle_timeout: Duration::from_secs(self.session_idle_minutes * 60),
            absolute_timeout: Duration::from_secs(self.session_absolute_hours * 3600),
        }
    }

    pub fn effective_audit_signing_key_file(&self) -> PathBuf {
        self.audit_signing_key_file.clone().unwrap_or_else(|| self.effective_key_dir().join("audit-signing.key"))
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_seconds)
    }

    /// The configuration as TOML with secrets replaced, for `aidant config`.
    pub fn to_display_toml(&self) -> String {
        let mut lines = vec![
            format!("database_url = {:?}", aidant_store::redact_url(&self.effective_database_url())),
            format!("listen = \"{}\"", self.listen),
            format!("data_dir = {:?}", self.data_dir.display().to_string()),
            format!("key_dir = {:?}", self.effective_key_dir().display().to_string()),
        ];
        match &self.master_key {
            Some(_) => lines.push("master_key = \"[redacted]\"".to_owned()),
            None => lines.push(format!("key_file = {:?}", self.effective_key_file().display().to_string())),
        }
        match &self.catalogue_file {
            Some(path) => lines.push(format!("catalogue_file = {:?}", path.display().to_string())),
            None => lines.push("# catalogue_file: the built-in data/indicators.toml".to_owned()),
        }
        lines.push(format!("body_limit_bytes = {}", self.body_limit_bytes));
        lines.push(format!("request_timeout_seconds = {}", self.request_timeout_seconds));
        lines.push(format!("exit_url = {:?}", self.exit_url));
        lines.push(format!("public_submissions_per_minute = {}", self.public_submissions_per_minute));
        lines.push(format!("public_submissions_burst = {}", self.public_submissions_burst));
        lines.push(format!("sign_in_max_failures = {}", self.sign_in_max_failures));
        lines.push(format!("sign_in_lockout_minutes = {}", self.sign_in_lockout_minutes));
        lines.push(format!("sign_ins_per_minute = {}", self.sign_ins_per_minute));
        lines.push(format!("session_idle_minutes = {}", self.session_idle_minutes));
        lines.push(format!("session_absolute_hours = {}", self.session_absolute_hours));
        lines.push(format!("audit_signing_key_file = {:?}", self.effective_audit_signing_key_file().display().to_string()));
        match &self.people_model_file {
            Some(path) => lines.push(format!("people_model_file = {:?}", path.display().to_string())),
            None => lines.push("# people_model_file: the built-in reference model".to_owned()),
        }
        match &self.metrics_listen {
            Some(address) => lines.push(format!("metrics_listen = \"{address}\"")),
            None => lines.push("# metrics_listen: no metrics listener".to_owned()),
        }
        lines.push(format!("trusted_proxies = {:?}", self.trusted_proxies));
        let periods = &self.retention;
        lines.push(format!(
            "retention = {{ victim_cases_months = {}, reports_months = {}, intelligence_months = {}, operations_months = {} }}",
            periods.victim_cases_months, periods.reports_months, periods.intelligence_months, periods.operations_months
        ));
        match &self.public_url {
            Some(url) => lines.push(format!("public_url = {url:?}")),
            None => lines.push("# public_url: not set (needed for single sign-on)".to_owned()),
        }
        if self.single_sign_on.is_empty() {
            lines.push("# single_sign_on: no identity provider; staff sign in with a password and an authenticator app".to_owned());
        }
        for provider in &self.single_sign_on {
            lines.push(String::new());
            lines.push("[[single_sign_on]]".to_owned());
            lines.push(format!("name = {:?}", provider.name));
            lines.push(format!("label = {:?}", provider.label));
            lines.push(format!("issuer = {:?}", provider.issuer));
            lines.push(format!("client_id = {:?}", provider.client_id));
            lines.push("client_secret = \"[redacted]\"".to_owned());
            lines.push(format!("groups_claim = {:?}", provider.groups_claim));
            lines.push(format!("scopes = {:?}", provider.scopes));
            for rule in &provider.groups {
                lines.push("[[single_sign_on.groups]]".to_owned());
                lines.push(format!("group = {:?}", rule.group));
                lines.push(format!("organisation = {:?}", rule.organisation));
                lines.push(format!("roles = {:?}", rule.roles));
            }
        }
        lines.join("\n")
    }
}

/// Figment's first error, as one line naming the setting.
fn describe_figment_error(error: figment::Error) -> ConfigError {
    let first = error.into_iter().next();
    let Some(first) = first else {
        return ConfigError("the configuration could not be read".to_owned());
    };
    let setting = first.path.last().cloned();
    let source = first.metadata.as_ref().map(|metadata| match &metadata.source {
        Some(source) => source.to_string(),
        None => metadata.name.to_string(),
    });
    // TOML parse errors draw a multi-line picture of the line; keep the words.
    let kind = first.kind.to_string().lines().filter(|line| !line.contains('|')).map(str::trim).filter(|line| !line.is_empty()).collect::<Vec<_>>().join(": ");
    let line = match (setting, source) {
        (Some(setting), Some(source)) => format!("setting {setting} (from {source}): {kind}"),
        (Some(setting), None) => format!("setting {setting}: {kind}"),
        (None, Some(source)) => format!("{source}: {kind}"),
        (None, None) => kind,
    };
    ConfigError(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug_and_display() {
        let config = Config {
            database_url: Some(Secret("postgres://aidant:hunter2@db:5432/aidant".into())),
            master_key: Some(Secret("ab".repeat(32))),
            ..Config::default()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2") && !debug.contains(&"ab".repeat(32)), "{debug}");
        let shown = config.to_display_toml();
        assert!(!shown.contains("hunter2") && !shown.contains(&"ab".repeat(32)), "{shown}");
        assert!(shown.contains("postgres://aidant:[redacted]@db:5432/aidant"));
    }

    /// `aidant config` is "the configuration in force": every setting the
    /// file and the environment can set appears in it, by the name they use.
    #[test]
    fn the_printed_configuration_names_every_setting() {
        let every = figment::providers::Serialized::defaults(Config::default());
        let names: Vec<String> = figment::Provider::data(&figment::Figment::from(every))
            .unwrap()
            .values()
            .flat_map(|dictionary| dictionary.keys().cloned().collect::<Vec<_>>())
            .collect();
        assert!(names.len() >= 18, "{names:?}");
        let shown = Config::default().to_display_toml();
        for name in &names {
            // An unset master key shows as the key file it falls back to.
            let written = if name == "master_key" { "key_file" } else { name.as_str() };
            assert!(
                shown.lines().any(|line| line.starts_with(&format!("{written} = ")) || line.starts_with(&format!("# {written}:"))),
                "aidant config leaves out {name}:\n{shown}"
            );
        }
    }

    /// Loads inside a figment jail: a temporary working directory and an
    /// environment holding only what the test sets.
    fn load_in_jail(files: &[(&str, &str)], environment: &[(&str, &str)], explicit_file: Option<&str>) -> Result<Config, ConfigError> {
        load_in_jail_with(files, environment, explicit_file, Locations::default())
    }

    #[expect(clippy::result_large_err, reason = "figment's Jail closure must return figment::Error, which is large by its design")]
    fn load_in_jail_with(
        files: &[(&str, &str)],
        environment: &[(&str, &str)],
        explicit_file: Option<&str>,
        locations: Locations,
    ) -> Result<Config, ConfigError> {
        let mut loaded = None;
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            for (name, contents) in files {
                jail.create_file(name, contents)?;
            }
            for (name, value) in environment {
                jail.set_env(name, value);
            }
            loaded = Some(Config::load(explicit_file.map(Path::new), &locations));
            Ok(())
        });
        loaded.expect("the jail ran")
    }

    #[test]
    fn retention_periods_come_from_a_table_or_the_environment_and_are_checked() {
        assert_eq!(load_in_jail(&[], &[], None).unwrap().retention.victim_cases_months, 72, "six years unless configured");
        let file = "[retention]\nvictim_cases_months = 120\n";
        assert_eq!(load_in_jail(&[("aidant.toml", file)], &[], None).unwrap().retention.victim_cases_months, 120);
        let environment = [("AIDANT_RETENTION", "{victim_cases_months=84}")];
        assert_eq!(load_in_jail(&[("aidant.toml", file)], &environment, None).unwrap().retention.victim_cases_months, 84);
        let error = load_in_jail(&[("aidant.toml", "[retention]\nvictim_cases_months = 0\n")], &[], None).unwrap_err();
        assert!(error.0.contains("retention.victim_cases_months"), "{}", error.0);
        let error = load_in_jail(&[("aidant.toml", "[retention]\nfeedback_months = 10\n")], &[], None).unwrap_err();
        assert!(error.0.contains("feedback_months"), "an unknown period is named: {}", error.0);
        assert!(Config::from_toml_text(file).is_ok() && Config::from_toml_text("listen = 5").is_err());
    }

    const SINGLE_SIGN_ON: &str = r#"
public_url = "https://aidant.beds.example"

[[single_sign_on]]
name = "beds"
label = "Bedfordshire Police"
issuer = "https://login.beds.example/"
client_id = "aidant"
client_secret = "not-for-printing"

[[single_sign_on.groups]]
group = "mss-analysts"
organisation = "Bedfordshire Police"
roles = ["analyst", "officer"]
"#;

    #[test]
    fn single_sign_on_is_read_checked_and_printed_without_its_secret() {
        let config = load_in_jail(&[("aidant.toml", SINGLE_SIGN_ON)], &[], None).unwrap();
        let settings = config.single_sign_on_settings();
        assert_eq!(settings.providers.len(), 1);
        assert_eq!(settings.providers[0].groups_claim, "groups", "the usual claim when none is named");
        assert_eq!(settings.redirect_url(&settings.providers[0]), "https://aidant.beds.example/staff/sign-in/sso/beds/callback");
        let printed = config.to_display_toml();
        assert!(!printed.contains("not-for-printing"), "{printed}");
        let reread = Config::from_toml_text(&printed.replace("client_secret = \"[redacted]\"", "client_secret = \"x\"")).unwrap();
        assert_eq!(reread.single_sign_on[0].groups, config.single_sign_on[0].groups, "what is printed reads back as the same providers");
        let without_url = SINGLE_SIGN_ON.replace("public_url = \"https://aidant.beds.example\"", "");
        let error = load_in_jail(&[("aidant.toml", &without_url)], &[], None).unwrap_err();
        assert!(error.0.contains("public_url"), "{}", error.0);
        let unknown_role = SINGLE_SIGN_ON.replace("\"officer\"", "\"chief\"");
        let error = load_in_jail(&[("aidant.toml", &unknown_role)], &[], None).unwrap_err();
        assert!(error.0.contains("\"chief\""), "{}", error.0);
        let environment = [(
            "AIDANT_SINGLE_SIGN_ON",
            "[{name=\"x\", label=\"X\", issuer=\"http://login.x.example\", client_id=\"a\", client_secret=\"b\", groups=[{group=\"g\", organisation=\"X\", roles=[\"analyst\"]}]}]",
        )];
        let error = load_in_jail(&[("aidant.toml", SINGLE_SIGN_ON)], &environment, None).unwrap_err();
        assert!(error.0.contains("https://"), "plain http to another machine is refused: {}", error.0);
    }

    #[test]
    fn the_command_line_locations_win_over_the_environment_and_the_file() {
        let file = "data_dir = \"from-file\"\n";
        let environment = [("AIDANT_DATA_DIR", "from-environment"), ("AIDANT_DATABASE_URL", "sqlite://environment.db")];
        let without = load_in_jail_with(&[("aidant.toml", file)], &environment, None, Locations::default()).unwrap();
        assert_eq!(without.data_dir, PathBuf::from("from-environment"));
        let locations = Locations { data_dir: Some(PathBuf::from("from-command-line")), database_url: Some("postgres://db.example/aidant".to_owned()) };
        let with = load_in_jail_with(&[("aidant.toml", file)], &environment, None, locations).unwrap();
        assert_eq!(with.data_dir, PathBuf::from("from-command-line"));
        assert_eq!(with.effective_database_url(), "postgres://db.example/aidant");
        let bad = Locations { database_url: Some("mysql://nope".to_owned()), ..Locations::default() };
        let error = load_in_jail_with(&[], &[], None, bad).unwrap_err();
        assert!(error.0.contains("database_url"), "{}", error.0);
    }

    #[test]
    fn the_environment_wins_over_the_file_which_wins_over_the_defaults() {
        let file = "listen = \"127.0.0.1:9000\"\nexit_url = \"https://file.example\"\nbody_limit_bytes = 2048\n";
        let config = load_in_jail(&[("custom.toml", file)], &[("AIDANT_LISTEN", "127.0.0.1:9100")], Some("custom.toml")).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:9100", "the environment wins");
        assert_eq!((config.exit_url.as_str(), config.body_limit_bytes), ("https://file.example", 2048), "the file wins over defaults");
        assert_eq!(config.request_timeout_seconds, Config::default().request_timeout_seconds, "defaults fill the rest");
    }

    #[test]
    fn a_named_file_replaces_aidant_toml_in_the_working_directory() {
        let files = [("aidant.toml", "listen = \"127.0.0.1:9001\"\nexit_url = \"https://working.example\"\n"), ("named.toml", "listen = \"127.0.0.1:9002\"\n")];
        let found = load_in_jail(&files, &[], None).unwrap();
        assert_eq!((found.listen.to_string().as_str(), found.exit_url.as_str()), ("127.0.0.1:9001", "https://working.example"));
        let named = load_in_jail(&files, &[], Some("named.toml")).unwrap();
        assert_eq!(named.listen.to_string(), "127.0.0.1:9002");
        assert_eq!(named.exit_url, Config::default().exit_url, "aidant.toml is not read when a file is named");
        assert_eq!(load_in_jail(&[], &[], None).unwrap(), Config::default(), "no file at all is the defaults");
    }

    #[test]
    fn a_named_file_must_exist() {
        let error = load_in_jail(&[("aidant.toml", "")], &[], Some("missing.toml")).unwrap_err();
        assert_eq!(error.0, "configuration file missing.toml does not exist");
    }

    #[test]
    fn other_aidant_variables_are_not_settings() {
        let environment = [("AIDANT_LOG", "debug"), ("AIDANT_CONFIG", "elsewhere.toml"), ("AIDANT_TEST_POSTGRES_URL", "postgres://x@y/z")];
        assert_eq!(load_in_jail(&[], &environment, None).unwrap(), Config::default());
    }

    #[test]
    fn a_bad_value_is_one_line_naming_the_setting_and_its_source() {
        let error = load_in_jail(&[], &[("AIDANT_BODY_LIMIT_BYTES", "lots")], None).unwrap_err();
        assert!(error.0.starts_with("setting body_limit_bytes (from ") && error.0.contains("AIDANT_") && !error.0.contains('\n'), "{}", error.0);
        let error = load_in_jail(&[("custom.toml", "body_limit_bytes = 10\n")], &[], Some("custom.toml")).unwrap_err();
        assert_eq!(error.0, "setting body_limit_bytes: must be at least 1024");
        let error = load_in_jail(&[], &[("AIDANT_DATABASE_URL", "mysql://db/aidant")], None).unwrap_err();
        assert_eq!(error.0, "setting database_url: must start with sqlite: or postgres://");
    }

    #[test]
    #[expect(clippy::result_large_err, reason = "figment's Jail closure must return figment::Error, which is large by its design")]
    fn defaults_put_the_data_in_the_data_directory_and_the_keys_beside_it() {
        // In a jail like the other tests here: they change the working
        // directory, which this one reads, so they must take turns.
        figment::Jail::expect_with(|_jail| {
            let config = Config::default();
            let here = std::env::current_dir().unwrap();
            assert_eq!(config.effective_database_url(), "sqlite://aidant-data/aidant.db");
            assert_eq!(config.effective_key_file(), here.join("aidant-data-keys/master.key"));
            assert_eq!(config.effective_audit_signing_key_file(), here.join("aidant-data-keys/audit-signing.key"));
            assert_eq!(default_key_dir(Path::new("/var/lib/aidant/")), PathBuf::from("/var/lib/aidant-keys"));
            assert_eq!(default_key_dir(Path::new("/srv/x/../aidant")), PathBuf::from("/srv/aidant-keys"));
            assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
            Ok(())
        });
    }

    #[test]
    fn a_key_file_inside_the_data_directory_is_refused_and_one_left_there_must_be_moved() {
        let root = tempfile::tempdir().unwrap();
        let data_dir = root.path().join("data");
        std::fs::create_dir_all(&data_dir).unwrap();
        let config = Config { data_dir: data_dir.clone(), ..Config::default() };
        config.check_keys_apart_from_data().unwrap();

        let inside = Config { key_file: Some(data_dir.join("keys/../master.key")), ..config.clone() };
        let refused = inside.check_keys_apart_from_data().unwrap_err().to_string();
        assert!(refused.contains("setting key_file") && refused.contains("inside the data directory"), "{refused}");
        let signing_inside = Config { key_dir: Some(data_dir.join("keys")), ..config.clone() };
        assert!(signing_inside.check_keys_apart_from_data().is_err(), "a key directory inside the data directory");
        // The master key given as a setting has no file to refuse; the signing key still has.
        let from_setting = Config { master_key: Some(Secret("ab".repeat(32))), audit_signing_key_file: Some(data_dir.join("s.key")), ..config.clone() };
        assert!(from_setting.check_keys_apart_from_data().unwrap_err().to_string().contains("audit_signing_key_file"));

        std::fs::write(data_dir.join("master.key"), "ab".repeat(32)).unwrap();
        let left = config.check_keys_apart_from_data().unwrap_err().to_string();
        assert!(left.contains("move it to") && left.contains("data-keys"), "{left}");
        std::fs::create_dir_all(config.effective_key_dir()).unwrap();
        std::fs::rename(data_dir.join("master.key"), config.effective_key_file()).unwrap();
        config.check_keys_apart_from_data().unwrap();
    }
}
