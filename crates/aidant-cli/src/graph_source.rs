//! The network in Aidant's own database, for `aidant graph --from-database`:
//! the entities' network. Every entity the entity worker found in reports,
//! intelligence records and reporters' messages (people, phones, vehicles,
//! addresses, businesses, emails and online accounts) is one node, whatever
//! form it was written in: the worker keys each by its normal form, so a van
//! written `ab12 cde` and `AB12CDE` is one node, and a business is its folded
//! name and town, with or without a postcode.
//!
//! Two entities one record names are linked, once per record, so every link
//! cites the record it rests on (its reference), the day the record named
//! both, and a confidence: the record's (0.5 for an unverified public
//! report) times how sure the worker was of each mention. The pair of kinds
//! types the link where it implies one (a person uses a phone, drives a
//! vehicle, works at a business, was at an address, is an associate of a
//! person); any other pair is `mentioned_with`. Each record's source is the
//! organisation that holds it, so hubs can be counted by distinct records
//! and sources as well as people.

use aidant_core::audit::AuditActor;
use aidant_graph::NetworkGraph;
use aidant_store::Store;
use aidant_store::entity_network::{EntityNetworkRows, network_from_rows};
use aidant_store::{Keyring, StoreError};
use anyhow::Context;

use crate::config::Config;
use crate::startup::{Failure, KeySource, StoreUse, load_master_key, load_retired_keys, open_store};

/// The longest operating-system login kept in the audit entry.
const LOGIN_MAX_CHARS: usize = 64;

/// Who runs the command, as the audit entry names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// `--operator`: the email of a member of staff in this database, who is
    /// then the audit entry's actor.
    pub staff_email: Option<String>,
    /// The operating system's login (`$USER` or `$LOGNAME`), kept in the
    /// entry's reason either way.
    pub login: Option<String>,
}

impl Operator {
    /// The staff email given on the command line and the login from the
    /// environment, trimmed of control characters and to a sane length.
    pub fn from_environment(staff_email: Option<&str>) -> Self {
        let login = ["USER", "LOGNAME"]
            .iter()
            .find_map(|name| std::env::var(name).ok())
            .map(|login| login.chars().filter(|character| !character.is_control()).take(LOGIN_MAX_CHARS).collect::<String>().trim().to_owned());
        Operator { staff_email: staff_email.map(|email| email.trim().to_owned()), login: login.filter(|login| !login.is_empty()) }
    }

    /// What the audit entry says besides its actor.
    fn reason(&self) -> String {
        format!("aidant graph --from-database, at the command line as OS user {}", self.login.as_deref().unwrap_or("unknown"))
    }
}

/// Reads the entities' network from the database the configuration names
/// (the read is audited, naming the operator) and builds it.
pub fn network_from_database(config: &Config, operator: &Operator) -> Result<NetworkGraph, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Runtime(format!("cannot start the async runtime: {error}")))?;
    let rows = runtime.block_on(async {
        let store = open_store_with_key(config).await?;
        let rows = read_rows(&store, operator).await;
        store.close().await;
        rows
    })?;
    network_from_rows(&rows).context("building the network from the database").map_err(Failure::from_error)
}

/// The store with the master key (and any retired keys) that opens the
/// entities' values. Unlike `serve`, no key is made when there is none: a
/// new key opens nothing already sealed, and a read should leave no file
/// behind. No migration is applied either.
async fn open_store_with_key(config: &Config) -> Result<Store, Failure> {
    // The database first: where there is none, that is what to say.
    let store = open_store(config, StoreUse::Maintenance).await?;
    let key = match load_master_key(config)? {
        KeySource::Existing(key) => key,
        KeySource::New(_, path) => {
            return Err(Failure::Config(format!(
                "graph --from-database needs the master key that sealed the entities: set master_key or put the key file at {}",
                path.display()
            )));
        }
    };
    let retired = load_retired_keys(config)?.into_iter().map(|(key, _)| key).collect();
    Ok(store.with_keyring(Keyring::new(key, retired)))
}

async fn read_rows(store: &Store, operator: &Operator) -> Result<EntityNetworkRows, Failure> {
    let failed = |error: StoreError| Failure::Runtime(format!("reading the entities' network: {error}"));
    let actor = match &operator.staff_email {
        None => AuditActor::Cli,
        Some(email) => match store.find_user_by_email(email).await.map_err(failed)? {
            Some(user) if !user.disabled => AuditActor::user(user.id.as_str()),
            Some(_) => return Err(Failure::Config(format!("--operator: the user {email} is disabled"))),
            None => return Err(Failure::Config(format!("--operator: no user has the email {email} in this database"))),
        },
    };
    let queue = store.entity_queue_counts().await.map_err(failed)?;
    if queue.waiting > 0 || queue.parked > 0 {
        eprintln!(
            "note: {} records wait for the entity worker and {} could not be read (aidant entities status); the network leaves out what they mention",
            queue.waiting, queue.parked
        );
    }
    store.entity_network(&actor, &operator.reason()).await.map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operator_is_named_by_their_login() {
        let operator = Operator { staff_email: None, login: Some("analyst1".to_owned()) };
        assert_eq!(operator.reason(), "aidant graph --from-database, at the command line as OS user analyst1");
        let nobody = Operator { staff_email: None, login: None };
        assert!(nobody.reason().ends_with("as OS user unknown"));
    }
}
