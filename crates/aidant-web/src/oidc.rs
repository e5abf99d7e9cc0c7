//! Single sign-on with OpenID Connect (the authorization code flow with
//! PKCE, a nonce and a state bound to the browser), for forces and agencies
//! whose staff already sign in to an identity provider.
//!
//! Each provider is configured with the groups that may use Aidant: a group
//! names an Aidant organisation and the roles it gives. At every sign-in the
//! provider's groups decide the user's organisation and roles afresh
//! (`aidant_store::federation`); a person in no such group is refused and
//! loses whatever access their account had. Aidant does not ask the
//! provider again on each request, so removing someone from a group takes
//! effect at their next sign-in; their open sessions end at the idle or
//! absolute timeout, or at once when an administrator disables the account.
//!
//! This module holds the settings, the mapping from groups to roles (pure),
//! and the protocol client (discovery, cached; the code exchange; the ID
//! token's checks by the `openidconnect` crate). The pages are in
//! `staff::single_sign_on`.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use aidant_core::organisation::Role;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::url;
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenFields, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};

/// The single sign-on settings: where Aidant is reached (for the address the
/// provider sends people back to) and the providers.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Aidant's address as people's browsers reach it, without a trailing
    /// slash (`https://aidant.force.example`).
    pub public_url: String,
    pub providers: Vec<Provider>,
}

impl Settings {
    pub fn provider(&self, name: &str) -> Option<&Provider> {
        self.providers.iter().find(|provider| provider.name == name)
    }

    /// Where `provider` sends people back to; registered at the provider.
    pub fn redirect_url(&self, provider: &Provider) -> String {
        format!("{}/staff/sign-in/sso/{}/callback", self.public_url.trim_end_matches('/'), provider.name)
    }

    /// Checks the settings as a whole; one line naming what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.providers.is_empty() {
            return Ok(());
        }
        check_web_address("public_url", &self.public_url)?;
        for (index, provider) in self.providers.iter().enumerate() {
            provider.check()?;
            if self.providers[..index].iter().any(|other| other.name == provider.name) {
                return Err(format!("single_sign_on: two providers are named {:?}", provider.name));
            }
        }
        Ok(())
    }
}

/// One identity provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// A short name for addresses: lower-case letters, digits and hyphens.
    pub name: String,
    /// What the sign-in button says after "Sign in with".
    pub label: String,
    /// The issuer, as the provider's discovery document gives it.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: ProviderSecret,
    /// The claim (in the ID token, or else from the userinfo endpoint)
    /// that lists the person's groups.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Scopes to ask for beside `openid email profile` (some providers give
    /// groups only for a scope of their own).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The groups that may use Aidant. No group, no access.
    pub groups: Vec<GroupRule>,
}

fn default_groups_claim() -> String {
    "groups".to_owned()
}

/// A group at the provider, and what it gives in Aidant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRule {
    /// The group's name or id as the provider's groups claim lists it.
    pub group: String,
    /// The Aidant organisation, by name.
    pub organisation: String,
    /// Aidant's role names (`analyst`, `officer`...).
    pub roles: Vec<String>,
}

/// A client secret: never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProviderSecret(pub String);

impl fmt::Debug for ProviderSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

impl Provider {
    fn check(&self) -> Result<(), String> {
        let setting = format!("single_sign_on {:?}", self.name);
        if self.name.is_empty() || !self.name.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-') {
            return Err(format!("{setting}: name must be lower-case letters, digits and hyphens"));
        }
        if self.label.trim().is_empty() {
            return Err(format!("{setting}: label must say whose sign-in it is"));
        }
        check_web_address(&format!("{setting}: issuer"), &self.issuer)?;
        if self.client_id.trim().is_empty() || self.client_secret.0.is_empty() {
            return Err(format!("{setting}: client_id and client_secret are needed"));
        }
        if self.groups_claim.trim().is_empty() {
            return Err(format!("{setting}: groups_claim must name a claim"));
        }
        if self.groups.is_empty() {
            return Err(format!("{setting}: groups must list at least one group that may use Aidant"));
        }
        if let Some(rule) = self.groups.iter().find(|rule| rule.group.trim().is_empty() || rule.organisation.trim().is_empty() || rule.roles.is_empty()) {
            return Err(format!("{setting}: the group {:?} needs an organisation and at least one role", rule.group));
        }
        for rule in &self.groups {
            if let Some(unknown) = rule.roles.iter().find(|role| role.parse::<Role>().is_err()) {
                let known: Vec<&str> = Role::ALL.iter().map(|role| role.as_str()).collect();
                return Err(format!("{setting}: the group {:?} gives the role {unknown:?}, which is not one of {}", rule.group, known.join(", ")));
            }
        }
        Ok(())
    }
}

/// A web address that must be `https://`, or `http://` to this machine
/// only (a provider or a proxy on the same host, and tests).
fn check_web_address(setting: &str, text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|_| format!("{setting}: {text:?} is not a web address"))?;
    let local = match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
        Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if local => Ok(()),
        _ => Err(format!("{setting}: must start with https:// (http:// only for this machine)")),
    }
}

/// What a person's groups give them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    /// The organisation (by name) and every role their groups give.
    Granted { organisation: String, roles: Vec<Role> },
    /// None of their groups may use Aidant.
    NoGroup,
    /// Their groups put them in more than one organisation; a user belongs to one.
    SeveralOrganisations,
}

/// Maps a person's groups through the provider's rules.
pub fn membership(rules: &[GroupRule], groups: &[String]) -> Membership {
    let matched: Vec<&GroupRule> = rules.iter().filter(|rule| groups.iter().any(|group| group == &rule.group)).collect();
    let Some(first) = matched.first() else { return Membership::NoGroup };
    if matched.iter().any(|rule| !rule.organisation.eq_ignore_ascii_case(&first.organisation)) {
        return Membership::SeveralOrganisations;
    }
    let mut roles: Vec<Role> = matched.iter().flat_map(|rule| rule.roles.iter().filter_map(|role| role.parse().ok())).collect();
    roles.sort();
    roles.dedup();
    Membership::Granted { organisation: first.organisation.clone(), roles }
}

/// The claims Aidant reads beyond the standard ones: every other claim, so
/// the groups claim can have whatever name the provider gives it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims(HashMap<String, serde_json::Value>);

impl AdditionalClaims for OtherClaims {}

impl OtherClaims {
    /// The groups under `claim`: a list of names, or a single name.
    fn groups(&self, claim: &str) -> Option<Vec<String>> {
        match self.0.get(claim)? {
            serde_json::Value::Array(values) => Some(values.iter().filter_map(|value| value.as_str().map(str::to_owned)).collect()),
            serde_json::Value::String(value) => Some(vec![value.clone()]),
            _ => None,
        }
    }
}

type IdFields = IdTokenFields<OtherClaims, EmptyExtraTokenFields, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

type Client = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<IdFields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a single sign-on could not be completed. The messages are for the
/// log and name no person.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("the identity provider could not be reached or answered wrongly: {0}")]
    Provider(String),
    #[error("the identity provider's answer failed a check: {0}")]
    Rejected(String),
}

/// What a browser keeps between leaving for the provider and coming back:
/// the provider, the state (checked against the provider's answer), the
/// nonce (checked in the ID token) and the PKCE verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

impl Pending {
    /// As a cookie value: four base64url parts joined by dots.
    pub fn to_cookie(&self) -> String {
        format!("{}.{}.{}.{}", self.provider, self.state, self.nonce, self.verifier)
    }

    pub fn from_cookie(value: &str) -> Option<Self> {
        let mut parts = value.split('.');
        let pending =
            Self { provider: parts.next()?.to_owned(), state: parts.next()?.to_owned(), nonce: parts.next()?.to_owned(), verifier: parts.next()?.to_owned() };
        (parts.next().is_none() && !pending.state.is_empty()).then_some(pending)
    }
}

/// The person as the provider vouched for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub subject: String,
    pub email: String,
    pub email_verified: bool,
    pub display_name: String,
    pub groups: Vec<String>,
}

/// How long a provider's discovery document and keys are kept before they
/// are fetched again (a key the provider has rotated in is also fetched
/// when a token names it).
const DISCOVERY_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// The protocol client: one HTTP client (no redirects followed, a short
/// time-out) and the providers' discovery documents, cached.
pub struct Sso {
    /// `None` when no provider is configured, or if no client could be made
    /// at all (then every single sign-on fails as "could not be reached").
    http: Option<openidconnect::reqwest::Client>,
    discovered: tokio::sync::Mutex<HashMap<String, (Instant, CoreProviderMetadata)>>,
}

impl Sso {
    /// The client for `settings`: with no provider configured, no HTTP
    /// client is made (reading the system's certificate store costs time at
    /// every start-up for nothing).
    pub fn new(settings: &Settings) -> Self {
        if settings.providers.is_empty() {
            return Self { http: None, discovered: tokio::sync::Mutex::new(HashMap::new()) };
        }
        let builder =
            || openidconnect::reqwest::ClientBuilder::new().redirect(openidconnect::reqwest::redirect::Policy::none()).timeout(Duration::from_secs(10));
        let http = builder().build().or_else(|error| {
            // The system's certificate store could not be read: the server
            // still runs, and single sign-on to an https provider fails
            // (as "could not be reached") until the store is mended.
            tracing::warn!(error = %error, "the system's certificate authorities could not be loaded for single sign-on");
            builder().tls_built_in_root_certs(false).build()
        });
        let http = http.inspect_err(|error| tracing::error!(error = %error, "no HTTP client for single sign-on")).ok();
        Self { http, discovered: tokio::sync::Mutex::new(HashMap::new()) }
    }

    fn http(&self) -> Result<&openidconnect::reqwest::Client, SsoError> {
        self.http.as_ref().ok_or_else(|| SsoError::Provider("no HTTP client could be made (see the log at start-up)".to_owned()))
    }

    async fn metadata(&self, provider: &Provider, fresh: bool) -> Result<CoreProviderMetadata, SsoError> {
        let mut discovered = self.discovered.lock().await;
        if !fresh
            && let Some((at, metadata)) = discovered.get(&provider.name)
            && at.elapsed() < DISCOVERY_LIFETIME
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(provider.issuer.clone()).map_err(|error| SsoError::Provider(error.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, self.http()?).await.map_err(|error| SsoError::Provider(error.to_string()))?;
        discovered.insert(provider.name.clone(), (Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    async fn client(&self, settings: &Settings, provider: &Provider, fresh: bool) -> Result<Client, SsoError> {
        let metadata = self.metadata(provider, fresh).await?;
        let redirect = RedirectUrl::new(settings.redirect_url(provider)).map_err(|error| SsoError::Provider(error.to_string()))?;
        Ok(Client::from_provider_metadata(metadata, ClientId::new(provider.client_id.clone()), Some(ClientSecret::new(provider.client_secret.0.clone())))
            .set_redirect_uri(redirect))
    }

    /// Where to send the browser to sign in at `provider`, and what it must
    /// keep until it comes back.
    pub async fn start(&self, settings: &Settings, provider: &Provider) -> Result<(String, Pending), SsoError> {
        let client = self.client(settings, provider, false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
        for scope in ["email", "profile"].into_iter().map(str::to_owned).chain(provider.scopes.iter().cloned()) {
            request = request.add_scope(Scope::new(scope));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending =
            Pending { provider: provider.name.clone(), state: state.secret().clone(), nonce: nonce.secret().clone(), verifier: verifier.secret().clone() };
        Ok((url.to_string(), pending))
    }

    /// Exchanges the code the provider sent back for tokens, checks the ID
    /// token (signature, issuer, audience, expiry, nonce) and reads the person.
    pub async fn finish(&self, settings: &Settings, provider: &Provider, pending: &Pending, code: &str) -> Result<Person, SsoError> {
        let client = self.client(settings, provider, false).await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|error| SsoError::Provider(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(self.http()?)
            .await
            .map_err(|error| SsoError::Rejected(describe_token_error(&error)))?;
        let id_token = tokens.id_token().ok_or_else(|| SsoError::Rejected("no ID token came with the tokens".to_owned()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            // The provider may have rotated its keys since they were fetched.
            Err(_) => {
                let client = self.client(settings, provider, true).await?;
                id_token.claims(&client.id_token_verifier(), &nonce).map_err(|error| SsoError::Rejected(error.to_string()))?.clone()
            }
        };
        let subject = claims.subject().to_string();
        let mut email = claims.email().map(|email| email.to_string());
        let mut email_verified = claims.email_verified().unwrap_or(false);
        let mut display_name = claims.name().and_then(|name| name.get(None)).map(|name| name.to_string());
        let mut groups = claims.additional_claims().groups(&provider.groups_claim);
        if (groups.is_none() || email.is_none())
            && let Ok(request) = client.user_info(tokens.access_token().clone(), Some(claims.subject().clone()))
        {
            let info: openidconnect::UserInfoClaims<OtherClaims, CoreGenderClaim> =
                request.request_async(self.http()?).await.map_err(|error| SsoError::Provider(error.to_string()))?;
            groups = groups.or_else(|| info.additional_claims().groups(&provider.groups_claim));
            if email.is_none() {
                email = info.email().map(|email| email.to_string());
                email_verified = info.email_verified().unwrap_or(false);
            }
            display_name = display_name.or_else(|| info.name().and_then(|name| name.get(None)).map(|name| name.to_string()));
        }
        let email = email.filter(|email| !email.trim().is_empty()).ok_or_else(|| SsoError::Rejected("the provider gave no e-mail address".to_owned()))?;
        let display_name = display_name.filter(|name| !name.trim().is_empty()).unwrap_or_else(|| email.clone());
        Ok(Person { subject, email, email_verified, display_name, groups: groups.unwrap_or_default() })
    }
}

/// The token endpoint's refusal in words (its error code, not its body).
fn describe_token_error<E: std::error::Error>(error: &openidconnect::RequestTokenError<E, StandardErrorResponse<CoreErrorResponseType>>) -> String {
    match error {
        openidconnect::RequestTokenError::ServerResponse(response) => format!("the token endpoint refused: {}", response.error()),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(group: &str, organisation: &str, roles: &[Role]) -> GroupRule {
        GroupRule { group: group.to_owned(), organisation: organisation.to_owned(), roles: roles.iter().map(|role| role.as_str().to_owned()).collect() }
    }

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn groups_give_the_union_of_their_roles_in_one_organisation() {
        let rules = [
            rule("mss-analysts", "Bedfordshire Police", &[Role::Analyst]),
            rule("mss-supervisors", "Bedfordshire Police", &[Role::Supervisor, Role::Analyst]),
            rule("glaa-officers", "GLAA", &[Role::Partner]),
        ];
        assert_eq!(
            membership(&rules, &groups(&["all-staff", "mss-supervisors", "mss-analysts"])),
            Membership::Granted { organisation: "Bedfordshire Police".to_owned(), roles: vec![Role::Analyst, Role::Supervisor] }
        );
        assert_eq!(membership(&rules, &groups(&["all-staff"])), Membership::NoGroup);
        assert_eq!(membership(&rules, &[]), Membership::NoGroup);
        assert_eq!(membership(&rules, &groups(&["mss-analysts", "glaa-officers"])), Membership::SeveralOrganisations);
    }

    #[test]
    fn a_group_name_must_match_exactly() {
        let rules = [rule("mss-analysts", "Bedfordshire Police", &[Role::Analyst])];
        assert_eq!(membership(&rules, &groups(&["MSS-Analysts", "mss-analysts-old", "mss"])), Membership::NoGroup);
    }

    #[test]
    fn the_pending_sign_in_reads_back_from_its_cookie_and_nothing_else_does() {
        let pending = Pending { provider: "beds".to_owned(), state: "s-1_x".to_owned(), nonce: "n".to_owned(), verifier: "v".to_owned() };
        assert_eq!(Pending::from_cookie(&pending.to_cookie()), Some(pending));
        assert_eq!(Pending::from_cookie("beds.s.n"), None);
        assert_eq!(Pending::from_cookie("beds.s.n.v.extra"), None);
        assert_eq!(Pending::from_cookie("beds..n.v"), None);
    }

    fn provider() -> Provider {
        Provider {
            name: "beds".to_owned(),
            label: "Bedfordshire Police".to_owned(),
            issuer: "https://login.beds.example/".to_owned(),
            client_id: "aidant".to_owned(),
            client_secret: ProviderSecret("secret".to_owned()),
            groups_claim: "groups".to_owned(),
            scopes: Vec::new(),
            groups: vec![rule("mss", "Bedfordshire Police", &[Role::Analyst])],
        }
    }

    #[test]
    fn settings_refuse_plain_http_away_from_this_machine_and_a_provider_without_groups() {
        let settings = Settings { public_url: "https://aidant.beds.example".to_owned(), providers: vec![provider()] };
        assert_eq!(settings.check(), Ok(()));
        assert_eq!(settings.redirect_url(&settings.providers[0]), "https://aidant.beds.example/staff/sign-in/sso/beds/callback");
        let local =
            Settings { public_url: "http://127.0.0.1:8080".to_owned(), providers: vec![Provider { issuer: "http://localhost:9000".to_owned(), ..provider() }] };
        assert_eq!(local.check(), Ok(()));
        let plain = Settings { providers: vec![Provider { issuer: "http://login.beds.example/".to_owned(), ..provider() }], ..settings.clone() };
        assert!(plain.check().unwrap_err().contains("https://"), "{:?}", plain.check());
        let no_public_url = Settings { public_url: String::new(), ..settings.clone() };
        assert!(no_public_url.check().unwrap_err().starts_with("public_url"));
        let no_groups = Settings { providers: vec![Provider { groups: Vec::new(), ..provider() }], ..settings.clone() };
        assert!(no_groups.check().unwrap_err().contains("at least one group"));
        let no_roles = Settings { providers: vec![Provider { groups: vec![rule("mss", "Bedfordshire Police", &[])], ..provider() }], ..settings.clone() };
        assert!(no_roles.check().unwrap_err().contains("at least one role"));
        let unknown_role = Settings {
            providers: vec![Provider { groups: vec![GroupRule { roles: vec!["chief".to_owned()], ..rule("mss", "Bedfordshire Police", &[]) }], ..provider() }],
            ..settings.clone()
        };
        assert!(unknown_role.check().unwrap_err().contains("\"chief\", which is not one of call_handler"));
        let bad_name = Settings { providers: vec![Provider { name: "Beds Police".to_owned(), ..provider() }], ..settings.clone() };
        assert!(bad_name.check().unwrap_err().contains("lower-case"));
        let twice = Settings { providers: vec![provider(), provider()], ..settings };
        assert!(twice.check().unwrap_err().contains("two providers"));
    }

    #[test]
    fn a_client_secret_is_never_printed() {
        assert!(!format!("{:?}", provider()).contains("secret\""));
        assert!(format!("{:?}", provider()).contains("[redacted]"));
    }
}
