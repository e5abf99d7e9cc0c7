//! The audit chain: each entry's hash covers the previous entry's hash and
//! the entry itself, so editing, deleting or reordering any entry breaks
//! every hash after it.
//!
//! `hash = SHA-256(prev_hash || canonical(entry))`, where the canonical form
//! is a length-prefixed encoding of every field (so no choice of field
//! contents can make two different entries encode alike).

use sha2::{Digest, Sha256};

use crate::organisation::{UnknownName, named_enum};

/// The hash that precedes the first entry.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// One audit entry as it is hashed. Text fields never hold personal data:
/// they name people and records by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the chain, starting at 1, without gaps.
    pub sequence: i64,
    /// Unix time in milliseconds.
    pub occurred_at_ms: i64,
    /// Who acted: a user id, `public` for an anonymous reporter, or `system`.
    pub actor: String,
    /// What was done, for example `report.create` or `report.view`.
    pub action: String,
    /// The kind of record acted on, for example `report`.
    pub record_kind: String,
    /// The record's id.
    pub record_id: String,
    /// The reason given, where one was asked for.
    pub reason: Option<String>,
}

impl AuditEntry {
    /// The canonical byte encoding that is hashed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(128);
        bytes.extend_from_slice(&self.sequence.to_be_bytes());
        bytes.extend_from_slice(&self.occurred_at_ms.to_be_bytes());
        for field in [&self.actor, &self.action, &self.record_kind, &self.record_id] {
            push_length_prefixed(&mut bytes, field.as_bytes());
        }
        match &self.reason {
            None => bytes.push(0),
            Some(reason) => {
                bytes.push(1);
                push_length_prefixed(&mut bytes, reason.as_bytes());
            }
        }
        bytes
    }

    /// This entry's hash given the previous entry's hash.
    pub fn chain_hash(&self, previous_hash: &[u8; 32]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(previous_hash);
        hasher.update(self.canonical_bytes());
        hasher.finalize().into()
    }
}

fn push_length_prefixed(bytes: &mut Vec<u8>, field: &[u8]) {
    bytes.extend_from_slice(&(field.len() as u64).to_be_bytes());
    bytes.extend_from_slice(field);
}

/// An entry as stored: the entry plus the hashes recorded beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuditEntry {
    pub entry: AuditEntry,
    pub previous_hash: String,
    pub hash: String,
}

/// What is wrong at the first bad place in a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {sequence}: its contents do not match its hash (edited)")]
    Edited { sequence: i64 },
    #[error("entry {sequence}: expected sequence {expected} (an entry before it was deleted or the entries were reordered)")]
    OutOfSequence { sequence: i64, expected: i64 },
    #[error("entry {sequence}: it does not follow the entry before it (entries deleted, inserted or reordered)")]
    BrokenLink { sequence: i64 },
    #[error("the chain ends at entry {last_sequence} but the head records entry {head_sequence} (entries removed from the end)")]
    Truncated { last_sequence: i64, head_sequence: i64 },
}

/// The summary of a chain that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSummary {
    pub entries: i64,
    pub head_hash: String,
}

/// Checks a chain one entry at a time, so a store can stream entries from
/// disk without holding them all.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_previous: [u8; 32],
    expected_sequence: i64,
    count: i64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { expected_previous: GENESIS_HASH, expected_sequence: 1, count: 0 }
    }
}

impl ChainVerifier {
    /// Checks the next entry in stored order.
    pub fn push(&mut self, stored: &StoredAuditEntry) -> Result<(), ChainBreak> {
        let sequence = stored.entry.sequence;
        if sequence != self.expected_sequence {
            return Err(ChainBreak::OutOfSequence { sequence, expected: self.expected_sequence });
        }
        if stored.previous_hash != hex::encode(self.expected_previous) {
            return Err(ChainBreak::BrokenLink { sequence });
        }
        let recomputed = stored.entry.chain_hash(&self.expected_previous);
        if stored.hash != hex::encode(recomputed) {
            return Err(ChainBreak::Edited { sequence });
        }
        self.expected_previous = recomputed;
        self.expected_sequence += 1;
        self.count += 1;
        Ok(())
    }

    /// Checks the end of the chain against the separately recorded head,
    /// which catches deletion of the newest entries.
    pub fn finish(self, head_sequence: i64, head_hash: &str) -> Result<ChainSummary, ChainBreak> {
        if head_sequence != self.count || head_hash != hex::encode(self.expected_previous) {
            return Err(ChainBreak::Truncated { last_sequence: self.count, head_sequence });
        }
        Ok(ChainSummary { entries: self.count, head_hash: hex::encode(self.expected_previous) })
    }
}

/// A point on the chain recorded earlier, for example in a signed
/// checkpoint: the entry at `sequence` had hash `hash` (sequence 0 with the
/// genesis hash is the empty chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainAnchor {
    pub sequence: i64,
    pub hash: String,
}

/// Why a chain no longer matches an anchor recorded earlier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnchorBreak {
    /// The chain itself is broken; this names the first bad entry.
    #[error(transparent)]
    Chain(#[from] ChainBreak),
    #[error(
        "the log ends at entry {last_sequence} but the checkpoint recorded entry {sequence} (entries removed from the end and the head rewritten to match)"
    )]
    Missing { sequence: i64, last_sequence: i64 },
    #[error(
        "entry {sequence} no longer has the hash the checkpoint recorded: the log up to entry {sequence} was rewritten with recomputed hashes (an entry at or before it was edited, deleted, inserted or reordered)"
    )]
    Rewritten { sequence: i64 },
}

/// Checks a chain that verified on its own against an anchor. `hash_at_anchor`
/// is the verified hash of the entry at the anchor's sequence, if the chain
/// reaches it.
pub fn check_anchor(summary: &ChainSummary, anchor: &ChainAnchor, hash_at_anchor: Option<&str>) -> Result<(), AnchorBreak> {
    if anchor.sequence == 0 {
        return if anchor.hash == hex::encode(GENESIS_HASH) { Ok(()) } else { Err(AnchorBreak::Rewritten { sequence: 0 }) };
    }
    match hash_at_anchor {
        None => Err(AnchorBreak::Missing { sequence: anchor.sequence, last_sequence: summary.entries }),
        Some(hash) if hash == anchor.hash => Ok(()),
        Some(_) => Err(AnchorBreak::Rewritten { sequence: anchor.sequence }),
    }
}

/// Walks entries in stored order and checks every link against `head`, the
/// sequence and hash the store recorded separately as the chain's tip.
pub fn verify_chain<I>(entries: I, head: (i64, &str)) -> Result<ChainSummary, ChainBreak>
where
    I: IntoIterator<Item = StoredAuditEntry>,
{
    let mut verifier = ChainVerifier::default();
    for stored in entries {
        verifier.push(&stored)?;
    }
    verifier.finish(head.0, head.1)
}

// ---------------------------------------------------------------------------
// The audit vocabulary: who acted, what they did, to which record. Entries are
// stored as text (`AuditEntry`), but every writer names them through these
// types, so one action has one spelling and a reader can turn it back.

named_enum! {
    /// What was done. The stored name is stable: the chain hashes it.
    AuditAction {
        ReportCreate => "report.create", "Report received";
        ReportView => "report.view", "Report opened";
        ReportReporterView => "report.reporter_view", "The reporter read their report";
        ReportAssign => "report.assign", "Report assigned";
        ReportStatus => "report.status", "Report status changed";
        ReportStaffReply => "report.staff_reply", "Replied to the reporter";
        ReportReporterMessage => "report.reporter_message", "The reporter added information";
        ReportContactReveal => "report.contact.reveal", "Contact details opened";
        ReportDelete => "report.delete", "Report deleted";
        ReportsNetworkRead => "reports.network_read", "Reports read as a network";
        IntelligenceCreate => "intelligence.create", "Intelligence created";
        IntelligenceView => "intelligence.view", "Intelligence opened";
        IntelligenceShare => "intelligence.share", "Intelligence shared";
        IntelligenceSourceRead => "intelligence.source.read", "Source details read";
        AccessDenied => "access.denied", "Access refused";
        Search => "search", "Searched";
        AuditView => "audit.view", "Audit trail read";
        AuditCheckpoint => "audit.checkpoint", "Audit chain signed";
        UserSignIn => "user.sign_in", "Signed in";
        UserSignInFailed => "user.sign_in_failed", "Sign-in failed";
        UserSignOut => "user.sign_out", "Signed out";
        UserSessionEnded => "user.session_ended", "A session ended from the workspace";
        UserPasswordChanged => "user.password_changed", "Password changed";
        UserPasswordSet => "user.password_set", "Password set";
        UserPasswordReset => "user.password_reset", "Password reset";
        UserSecondFactorEnrolled => "user.second_factor_enrolled", "Second factor set up";
        UserSecondFactorReset => "user.second_factor_reset", "Second factor reset";
        UserEnable => "user.enable", "User enabled";
        UserDisable => "user.disable", "User disabled";
        UserFederatedLinked => "user.federated_linked", "Account joined to an identity provider";
        UserFederatedCreated => "user.federated_created", "Account created at first single sign-on";
        UserFederatedRefused => "user.federated_refused", "Single sign-on refused: no group that may use Aidant";
        ApiTokenCreate => "api_token.create", "API token created";
        ApiTokenRevoke => "api_token.revoke", "API token revoked";
        OrganisationReceivePublicReports => "organisation.receive_public_reports", "Receives public reports";
        OrganisationSecondFactorRequired => "organisation.second_factor_required", "Second factor required";
        OrganisationSecondFactorOptional => "organisation.second_factor_optional", "Second factor optional";
        LinkStateSave => "link_state.save", "Entity resolver saved";
        LinkPeopleStart => "link.people.start", "Entity resolver started";
        LinkPeopleAdd => "link.people.add", "Person linked";
        LinkPeopleLoad => "link.people.load", "People loaded into the entity resolver";
        KeysRotateStart => "keys.rotate.start", "Key rotation started";
        KeysRotateResume => "keys.rotate.resume", "Key rotation resumed";
        KeysRotateFinish => "keys.rotate.finish", "Key rotation finished";
        EntitiesDerive => "entities.derive", "Entities found in a record";
        EntitiesJobParked => "entities.job_parked", "A record could not be read for entities";
        EntitiesRebuild => "entities.rebuild", "Entities rebuilt from every record";
        EntitiesRetryParked => "entities.retry_parked", "Records that could not be read for entities queued again";
        EntityView => "entity.view", "Entity opened";
        EntityWatch => "entity.watch", "Entity watched";
        EntityUnwatch => "entity.unwatch", "Entity no longer watched";
        PeopleDecide => "people.decide", "Decision about people recorded";
        ReportPersonNamed => "report.person_named", "Person named in a report";
        PeopleDecisionUndo => "people.decision_undo", "Decision about people undone";
        PeopleRegroup => "people.regroup", "People regrouped by decisions";
        ChartView => "chart.view", "Link chart drawn";
        ChartSave => "chart.save", "Link chart saved";
        ChartDelete => "chart.delete", "Link chart deleted";
        ChartExport => "chart.export", "Link chart exported";
        NetworkAnalyse => "network.analyse", "Network analysed for organised crime groups";
        NetworkAnalysisSave => "network.analysis_save", "Network analysis saved";
        NetworkAnalysisView => "network.analysis_view", "Saved network analysis opened";
        NetworkRoleAssign => "network.role_assign", "Role in a group given to a person";
        PackageCreate => "package.create", "Export package made";
        DisclosureLogView => "disclosure_log.view", "Disclosure log read";
        PublicationMake => "publication.make", "Safeguarding data published (k-anonymised or synthetic)";
        VictimCreate => "victim.create", "Potential victim's case opened";
        VictimView => "victim.view", "Potential victim's case read";
        VictimIdentityView => "victim.identity_view", "Potential victim's identity read";
        VictimUpdate => "victim.update", "Potential victim's case changed";
        VictimLink => "victim.link", "Record linked to a potential victim";
        VictimList => "victim.list", "Safeguarding dashboard read";
        ReferralSave => "referral.save", "NRM referral page saved";
        ReferralView => "referral.view", "NRM referral read";
        ReferralComplete => "referral.complete", "NRM referral or Duty to Notify completed";
        ReferralExport => "referral.export", "NRM referral printed or exported";
        SupportRefer => "support.refer", "Referred to a support organisation";
        SupportReferralView => "support.referral_view", "Support referral read";
        SupportList => "support.list", "People referred for support listed";
        SupportRecord => "support.record", "Support given recorded";
        VictimStatistics => "victim.statistics", "Safeguarding statistics read";
        OperationPlan => "operation.plan", "Operation planned";
        OperationChange => "operation.change", "Operation's plan changed";
        OperationView => "operation.view", "Operation's plan read";
        OperationBriefing => "operation.briefing", "Team briefing read";
        OperationSync => "operation.sync", "Field records received";
        OperationDebrief => "operation.debrief", "Operation debriefed";
        OperationBoard => "operation.board", "Operation board read";
        OperationSummary => "operation.summary", "Press summary saved";
        BackupCreated => "backup.created", "Backup written";
        BackupRestored => "backup.restored", "Database restored from a backup";
        RetentionQueue => "retention.queue", "Records due for review listed";
        InsightView => "insight.view", "Dashboard read";
        RetentionRetain => "retention.retain", "Kept at review";
        RetentionDelete => "retention.delete", "Deleted at review";
    }
}

named_enum! {
    /// The kind of record an entry is about.
    AuditRecordKind {
        Report => "report", "report";
        Reports => "reports", "reports";
        Intelligence => "intelligence", "intelligence record";
        User => "user", "user";
        Organisation => "organisation", "organisation";
        ApiToken => "api_token", "API token";
        AuditLog => "audit_log", "audit log";
        MasterKey => "master_key", "master key";
        Database => "database", "database";
        LinkState => "link_state", "entity resolver";
        LinkResolver => "link_resolver", "entity resolver";
        LinkRecord => "link_record", "linked record";
        Search => "search", "search";
        Workspace => "workspace", "workspace page";
        Entity => "entity", "entity";
        ReportMessage => "report_message", "reporter's message";
        PersonDecision => "person_decision", "decision about people";
        Chart => "chart", "link chart";
        Network => "network", "entities' network";
        NetworkAnalysis => "network_analysis", "network analysis";
        Package => "package", "export package";
        DisclosureLog => "disclosure_log", "disclosure log";
        Victim => "victim", "potential victim";
        SupportReferral => "support_referral", "support referral";
        Victims => "victims", "potential victims";
        Operation => "operation", "operation";
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AuditActor {
    /// A member of staff, by user id.
    User(String),
    /// An anonymous member of the public: a reporter.
    Public,
    /// An operator at the command line.
    Cli,
    /// The background worker that reads records for entities.
    Worker,
}

impl AuditActor {
    /// A member of staff, by id (a `UserId` or its text).
    pub fn user(user_id: impl AsRef<str>) -> Self {
        AuditActor::User(user_id.as_ref().to_owned())
    }

    /// The stored form: `user:<id>`, `public`, `cli` or `worker`.
    pub fn to_stored(&self) -> String {
        match self {
            AuditActor::User(user_id) => format!("user:{user_id}"),
            AuditActor::Public => "public".to_owned(),
            AuditActor::Cli => "cli".to_owned(),
            AuditActor::Worker => "worker".to_owned(),
        }
    }

    /// Reads a stored actor back; `None` for text no writer produces.
    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "public" => Some(AuditActor::Public),
            "cli" => Some(AuditActor::Cli),
            "worker" => Some(AuditActor::Worker),
            other => other.strip_prefix("user:").filter(|user_id| !user_id.is_empty()).map(AuditActor::user),
        }
    }

    /// The user id, for a member of staff.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            AuditActor::User(user_id) => Some(user_id),
            _ => None,
        }
    }
}

/// The record an entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordRef {
    pub kind: AuditRecordKind,
    pub id: String,
}

impl RecordRef {
    pub fn new(kind: AuditRecordKind, id: impl Into<String>) -> Self {
        RecordRef { kind, id: id.into() }
    }

    pub fn report(id: &str) -> Self {
        RecordRef::new(AuditRecordKind::Report, id)
    }

    pub fn intelligence(id: &str) -> Self {
        RecordRef::new(AuditRecordKind::Intelligence, id)
    }

    pub fn user(id: &str) -> Self {
        RecordRef::new(AuditRecordKind::User, id)
    }
}

/// Reads a stored action back (unknown text is an error, never a guess).
pub fn parse_action(stored: &str) -> Result<AuditAction, UnknownName> {
    stored.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sequence: i64, action: &str) -> AuditEntry {
        AuditEntry {
            sequence,
            occurred_at_ms: 1_700_000_000_000 + sequence,
            actor: "public".into(),
            action: action.into(),
            record_kind: "report".into(),
            record_id: format!("r{sequence}"),
            reason: None,
        }
    }

    fn build_chain(length: i64) -> Vec<StoredAuditEntry> {
        let mut previous = GENESIS_HASH;
        (1..=length)
            .map(|sequence| {
                let entry = entry(sequence, "report.create");
                let hash = entry.chain_hash(&previous);
                let stored = StoredAuditEntry { entry, previous_hash: hex::encode(previous), hash: hex::encode(hash) };
                previous = hash;
                stored
            })
            .collect()
    }

    fn head(chain: &[StoredAuditEntry]) -> (i64, String) {
        chain.last().map(|last| (last.entry.sequence, last.hash.clone())).unwrap_or((0, hex::encode(GENESIS_HASH)))
    }

    #[test]
    fn an_intact_chain_verifies() {
        let chain = build_chain(5);
        let (sequence, hash) = head(&chain);
        let summary = verify_chain(chain, (sequence, &hash)).unwrap();
        assert_eq!(summary.entries, 5);
        assert_eq!(summary.head_hash, hash);
    }

    #[test]
    fn an_empty_chain_verifies_against_the_genesis_head() {
        let summary = verify_chain(Vec::new(), (0, &hex::encode(GENESIS_HASH))).unwrap();
        assert_eq!(summary.entries, 0);
    }

    #[test]
    fn an_edited_entry_is_named() {
        let mut chain = build_chain(5);
        let (sequence, hash) = head(&chain);
        chain[2].entry.action = "report.delete".into();
        assert_eq!(verify_chain(chain, (sequence, &hash)), Err(ChainBreak::Edited { sequence: 3 }));
    }

    #[test]
    fn an_edited_entry_with_a_recomputed_hash_breaks_the_next_link() {
        let mut chain = build_chain(5);
        let (sequence, hash) = head(&chain);
        chain[2].entry.actor = "someone-else".into();
        let previous: [u8; 32] = hex::decode(&chain[2].previous_hash).unwrap().try_into().unwrap();
        chain[2].hash = hex::encode(chain[2].entry.chain_hash(&previous));
        assert_eq!(verify_chain(chain, (sequence, &hash)), Err(ChainBreak::BrokenLink { sequence: 4 }));
    }

    #[test]
    fn a_deleted_entry_is_named() {
        let mut chain = build_chain(5);
        let (sequence, hash) = head(&chain);
        chain.remove(1);
        assert_eq!(verify_chain(chain, (sequence, &hash)), Err(ChainBreak::OutOfSequence { sequence: 3, expected: 2 }));
    }

    #[test]
    fn reordered_entries_are_named() {
        let mut chain = build_chain(5);
        let (sequence, hash) = head(&chain);
        chain.swap(1, 2);
        assert_eq!(verify_chain(chain, (sequence, &hash)), Err(ChainBreak::OutOfSequence { sequence: 3, expected: 2 }));
    }

    #[test]
    fn renumbered_reordering_is_caught_by_the_links() {
        let mut chain = build_chain(5);
        let (sequence, hash) = head(&chain);
        chain.swap(1, 2);
        chain[1].entry.sequence = 2;
        chain[2].entry.sequence = 3;
        assert_eq!(verify_chain(chain, (sequence, &hash)), Err(ChainBreak::BrokenLink { sequence: 2 }));
    }

    #[test]
    fn truncation_of_the_newest_entries_is_caught() {
        let mut chain = build_chain(5);
        let (sequence, hash) = head(&chain);
        chain.truncate(3);
        assert_eq!(verify_chain(chain, (sequence, &hash)), Err(ChainBreak::Truncated { last_sequence: 3, head_sequence: 5 }));
    }

    #[test]
    fn an_anchor_catches_a_consistently_rebuilt_or_shortened_chain() {
        let chain = build_chain(5);
        let anchor = ChainAnchor { sequence: 4, hash: chain[3].hash.clone() };
        let (sequence, hash) = head(&chain);
        let summary = verify_chain(chain.clone(), (sequence, &hash)).unwrap();
        assert_eq!(check_anchor(&summary, &anchor, Some(&chain[3].hash)), Ok(()));

        // Entry 2 edited and every hash after it recomputed: the chain alone
        // verifies, the anchor does not.
        let mut rebuilt = chain.clone();
        rebuilt[1].entry.actor = "someone-else".into();
        let mut previous: [u8; 32] = hex::decode(&rebuilt[1].previous_hash).unwrap().try_into().unwrap();
        for stored in &mut rebuilt[1..] {
            stored.previous_hash = hex::encode(previous);
            previous = stored.entry.chain_hash(&previous);
            stored.hash = hex::encode(previous);
        }
        let summary = verify_chain(rebuilt.clone(), (5, &hex::encode(previous))).unwrap();
        assert_eq!(check_anchor(&summary, &anchor, Some(&rebuilt[3].hash)), Err(AnchorBreak::Rewritten { sequence: 4 }));

        let shortened: Vec<_> = chain[..3].to_vec();
        let summary = verify_chain(shortened.clone(), (3, &shortened[2].hash)).unwrap();
        assert_eq!(check_anchor(&summary, &anchor, None), Err(AnchorBreak::Missing { sequence: 4, last_sequence: 3 }));
        let empty = ChainAnchor { sequence: 0, hash: hex::encode(GENESIS_HASH) };
        assert_eq!(check_anchor(&summary, &empty, None), Ok(()));
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let mut first = entry(1, "ab");
        first.record_kind = "c".into();
        let mut second = entry(1, "a");
        second.record_kind = "bc".into();
        assert_ne!(first.canonical_bytes(), second.canonical_bytes());
        let mut with_reason = entry(1, "x");
        with_reason.reason = Some(String::new());
        assert_ne!(with_reason.canonical_bytes(), entry(1, "x").canonical_bytes());
    }

    #[test]
    fn actors_and_actions_read_back_as_written() {
        for actor in [AuditActor::user("0190-ab"), AuditActor::Public, AuditActor::Cli] {
            assert_eq!(AuditActor::parse(&actor.to_stored()), Some(actor.clone()));
        }
        assert_eq!(AuditActor::parse("user:"), None);
        assert_eq!(AuditActor::parse("someone"), None);
        for action in AuditAction::ALL {
            assert_eq!(parse_action(action.as_str()), Ok(*action));
        }
        assert!(parse_action("report.teleport").is_err());
        let names: std::collections::BTreeSet<&str> = AuditAction::ALL.iter().map(|action| action.as_str()).collect();
        assert_eq!(names.len(), AuditAction::ALL.len(), "every action has its own stored name");
    }
}
