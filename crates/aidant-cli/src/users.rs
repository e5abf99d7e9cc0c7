//! `aidant organisations ...` and `aidant users ...`: setting up who can
//! sign in, from the command line (the first administrator has no web page
//! to use yet). Every change is audited as the actor `cli`.

use aidant_core::audit::AuditActor;
use aidant_core::ids::UserId;
use std::io::Read;

use aidant_core::organisation::{OrganisationKind, Role};
use aidant_store::Store;
use aidant_store::identity::check_new_password;
use aidant_web::staff::admin::{plausible_email, temporary_password};
use clap::{Args, Subcommand};

use crate::startup::Failure;

const CLI_ACTOR: &AuditActor = &AuditActor::Cli;

#[derive(Debug, Subcommand)]
pub enum OrganisationCommand {
    /// Add an organisation.
    Add {
        /// Its name, as users will see it.
        name: String,
        /// police_force, national_agency, regulator, immigration_enforcement, dvla, charity or local_authority.
        #[arg(long)]
        kind: String,
        /// This organisation owns the public reports (its control room triages them).
        #[arg(long)]
        receives_public_reports: bool,
    },
    /// List organisations.
    List,
    /// Make an organisation the owner of public reports, including any that
    /// arrived while none was.
    ReceivePublicReports { name: String },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user and print a one-time password to pass on securely (they
    /// must choose their own at first sign-in).
    Add(AddUser),
    /// List users, optionally of one organisation.
    List {
        #[arg(long)]
        organisation: Option<String>,
    },
    /// Disable a user: their sessions end and their API tokens are revoked.
    Disable { email: String },
    /// Re-enable a disabled user.
    Enable { email: String },
    /// Set a new password: a printed one-time password (their sessions end,
    /// their API tokens are revoked, and they must choose their own at next
    /// sign-in), or one read from standard input with --password-stdin,
    /// kept as given (their sessions end).
    ResetPassword {
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddUser {
    #[arg(long)]
    pub email: String,
    /// The person's full name.
    #[arg(long)]
    pub name: String,
    /// The organisation's name (see `aidant organisations list`).
    #[arg(long)]
    pub organisation: String,
    /// A role; repeat for several: call_handler, analyst, officer,
    /// supervisor, safeguarding_lead, partner, administrator.
    #[arg(long = "role", required = true)]
    pub roles: Vec<String>,
    /// Read the password from standard input, kept as given, instead of
    /// generating a one-time password.
    #[arg(long)]
    pub password_stdin: bool,
}

fn runtime(error: aidant_store::StoreError) -> Failure {
    Failure::Runtime(error.to_string())
}

fn read_password(from_stdin: bool) -> Result<(String, bool), Failure> {
    if !from_stdin {
        return Ok((temporary_password(), true));
    }
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password).map_err(|error| Failure::Runtime(format!("cannot read the password: {error}")))?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    check_new_password(&password).map_err(|rule| Failure::Config(rule.to_string()))?;
    Ok((password, false))
}

/// A generated password is one-time: its holder must choose their own at
/// first sign-in. One read from standard input is taken as the holder's
/// own choice (the first administrator setting up their account).
async fn set_password(store: &Store, user_id: &UserId, password: &str, generated: bool) -> Result<(), Failure> {
    if generated {
        store.set_temporary_password(user_id, password, CLI_ACTOR).await.map_err(runtime)
    } else {
        store.set_password(user_id, password, CLI_ACTOR).await.map_err(runtime)
    }
}

async fn organisation_named(store: &Store, name: &str) -> Result<aidant_store::organisations::Organisation, Failure> {
    store
        .find_organisation_by_name(name)
        .await
        .map_err(runtime)?
        .ok_or_else(|| Failure::Config(format!("no organisation is called '{name}' (see aidant organisations list)")))
}

async fn user_by_email(store: &Store, email: &str) -> Result<aidant_store::organisations::User, Failure> {
    store.find_user_by_email(email).await.map_err(runtime)?.ok_or_else(|| Failure::Config(format!("no user has the email address {email}")))
}

pub async fn organisations(store: &Store, command: OrganisationCommand) -> Result<(), Failure> {
    match command {
        OrganisationCommand::Add { name, kind, receives_public_reports } => {
            let kind: OrganisationKind = kind.parse().map_err(|error: aidant_core::organisation::UnknownName| Failure::Config(error.to_string()))?;
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 200 {
                return Err(Failure::Config("an organisation's name must be 1 to 200 characters".to_owned()));
            }
            if store.find_organisation_by_name(name).await.map_err(runtime)?.is_some() {
                return Err(Failure::Config(format!("an organisation called '{name}' already exists")));
            }
            let organisation = store.create_organisation(name, kind).await.map_err(runtime)?;
            println!("Added {} ({})", organisation.name, kind.label());
            if receives_public_reports {
                let claimed = store.set_receiving_organisation(&organisation.id, CLI_ACTOR).await.map_err(runtime)?;
                println!("{} now receives public reports ({claimed} waiting reports claimed)", organisation.name);
            }
        }
        OrganisationCommand::List => {
            for organisation in store.list_organisations().await.map_err(runtime)? {
                let mut notes = Vec::new();
                if organisation.receives_public_reports {
                    notes.push("receives public reports");
                }
                if organisation.require_second_factor {
                    notes.push("second factor required");
                }
                let notes = if notes.is_empty() { String::new() } else { format!(" [{}]", notes.join(", ")) };
                println!("{}\t{}{notes}", organisation.name, organisation.kind.as_str());
            }
        }
        OrganisationCommand::ReceivePublicReports { name } => {
            let organisation = organisation_named(store, &name).await?;
            let claimed = store.set_receiving_organisation(&organisation.id, CLI_ACTOR).await.map_err(runtime)?;
            println!("{} now receives public reports ({claimed} waiting reports claimed)", organisation.name);
        }
    }
    Ok(())
}

pub async fn users(store: &Store, command: UserCommand) -> Result<(), Failure> {
    match command {
        UserCommand::Add(add) => {
            let email = add.email.trim().to_owned();
            if !plausible_email(&email) {
                return Err(Failure::Config(format!("'{email}' is not an email address")));
            }
            let name = add.name.trim();
            if name.is_empty() || name.chars().count() > 200 {
                return Err(Failure::Config("a name must be 1 to 200 characters".to_owned()));
            }
            let roles = add.roles.iter().map(|role| role.parse::<Role>().map_err(|error| Failure::Config(error.to_string()))).collect::<Result<Vec<_>, _>>()?;
            let organisation = organisation_named(store, &add.organisation).await?;
            if store.find_user_by_email(&email).await.map_err(runtime)?.is_some() {
                return Err(Failure::Config(format!("a user with the email address {email} already exists")));
            }
            let (password, generated) = read_password(add.password_stdin)?;
            let user = store.create_user(&organisation.id, &email, name, &roles).await.map_err(runtime)?;
            set_password(store, &user.id, &password, generated).await?;
            println!("Added {email} to {}", organisation.name);
            if generated {
                println!("One-time password: {password}");
                println!("Pass it on by a separate, secure route; it is not shown again.");
            }
        }
        UserCommand::List { organisation } => {
            let organisations = store.list_organisations().await.map_err(runtime)?;
            let users = match organisation {
                Some(name) => store.list_users_in(&organisation_named(store, &name).await?.id).await.map_err(runtime)?,
                None => store.list_users().await.map_err(runtime)?,
            };
            for user in users {
                let organisation =
                    organisations.iter().find(|organisation| organisation.id == user.organisation_id).map_or("?", |organisation| organisation.name.as_str());
                let roles: Vec<&str> = user.roles.iter().map(|role| role.as_str()).collect();
                println!("{}\t{}\t{}\t{}{}", user.email, user.display_name, organisation, roles.join(","), if user.disabled { "\tdisabled" } else { "" });
            }
        }
        UserCommand::Disable { email } => {
            let user = user_by_email(store, &email).await?;
            store.disable_user(&user.id, CLI_ACTOR).await.map_err(runtime)?;
            println!("Disabled {}; their sessions ended and their API tokens were revoked", user.email);
        }
        UserCommand::Enable { email } => {
            let user = user_by_email(store, &email).await?;
            store.enable_user(&user.id, CLI_ACTOR).await.map_err(runtime)?;
            println!("Enabled {}", user.email);
        }
        UserCommand::ResetPassword { email, password_stdin } => {
            let user = user_by_email(store, &email).await?;
            let (password, generated) = read_password(password_stdin)?;
            set_password(store, &user.id, &password, generated).await?;
            if generated {
                println!("New password set for {}; their sessions ended and their API tokens were revoked", user.email);
            } else {
                println!("New password set for {}; their sessions ended", user.email);
            }
            if generated {
                println!("One-time password: {password}");
            }
        }
    }
    Ok(())
}
