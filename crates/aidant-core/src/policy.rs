//! The one access policy: may this user do this action on this record?
//!
//! Deny unless a rule allows. The decision depends only on the user's
//! organisation and roles, the record's owner, its handling code and the
//! organisations it is shared with, and the time (for expiring
//! conditions), so it is a pure function tested as a table over every role
//! and action. Every caller (pages, API, exports) asks here; nothing else
//! decides access.

use std::collections::BTreeSet;

use crate::ids::OrganisationId;
use crate::organisation::Role;

/// What a user wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Read a public report (answers, triage, history).
    ViewReport,
    /// Assign a report or change its status.
    TriageReport,
    /// Write a reply the anonymous reporter reads.
    ReplyToReporter,
    /// Open a reporter's sealed contact details.
    RevealContact,
    /// Read an intelligence record's sanitised text and grading.
    ViewIntelligence,
    /// Read the restricted source text (originating unit only).
    ViewSourceText,
    /// Create or change an intelligence record.
    EditIntelligence,
    /// Share an intelligence record with another organisation.
    ShareIntelligence,
    /// Export records or the network for court or partners.
    Export,
    /// Read the audit history of a record.
    ViewAudit,
}

impl Action {
    pub const ALL: [Action; 10] = [
        Action::ViewReport,
        Action::TriageReport,
        Action::ReplyToReporter,
        Action::RevealContact,
        Action::ViewIntelligence,
        Action::ViewSourceText,
        Action::EditIntelligence,
        Action::ShareIntelligence,
        Action::Export,
        Action::ViewAudit,
    ];
}

/// The kind of record acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Report,
    Intelligence,
}

/// Conditions attached to handling code C (3x5x2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharingConditions {
    /// Only these organisations may receive it (empty: any named share).
    pub recipient_organisations: BTreeSet<OrganisationId>,
    /// Recipients may not pass it on. Always holds today: recipients may only
    /// read; kept so the grading is recorded and shown as given.
    pub no_onward_sharing: bool,
    /// The originator must consent to each share.
    pub originator_consent_required: bool,
    /// Recipients may see the sanitised text only. Always holds today: the
    /// source text is for the originating organisation alone.
    pub sanitised_only: bool,
    /// After this time (Unix ms) recipients lose access.
    pub expires_at_ms: Option<i64>,
}

/// Handling code: P (lawful sharing permitted) or C (with conditions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handling {
    Permitted,
    Conditional(SharingConditions),
}

/// What the policy needs to know about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub organisation_id: OrganisationId,
    pub roles: BTreeSet<Role>,
}

/// What the policy needs to know about a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAccess {
    pub kind: RecordKind,
    /// `None` for a public report no organisation has received yet: nobody
    /// may act on it.
    pub owner_organisation_id: Option<OrganisationId>,
    pub handling: Handling,
    /// Organisations it has been shared with.
    pub shared_with: BTreeSet<OrganisationId>,
}

/// The answer, with the reason a person (and the audit log) can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(&'static str),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }
}

/// Roles that may do an action on a record their own organisation owns.
fn owner_roles(action: Action, kind: RecordKind) -> &'static [Role] {
    use Role::*;
    match (action, kind) {
        (Action::ViewReport, RecordKind::Report) => &[CallHandler, Analyst, Officer, Supervisor, SafeguardingLead],
        (Action::TriageReport, RecordKind::Report) => &[CallHandler, Supervisor],
        (Action::ReplyToReporter, RecordKind::Report) => &[CallHandler, Supervisor],
        (Action::RevealContact, RecordKind::Report) => &[CallHandler, Supervisor, SafeguardingLead],
        (Action::ViewIntelligence, RecordKind::Intelligence) => &[CallHandler, Analyst, Officer, Supervisor, SafeguardingLead],
        (Action::ViewSourceText, RecordKind::Intelligence) => &[Analyst, Supervisor],
        (Action::EditIntelligence, RecordKind::Intelligence) => &[CallHandler, Analyst, Supervisor],
        (Action::ShareIntelligence, RecordKind::Intelligence) => &[Analyst, Supervisor],
        (Action::Export, _) => &[Analyst, Supervisor],
        (Action::ViewAudit, _) => &[Supervisor],
        _ => &[],
    }
}

/// Roles in a recipient organisation that may read what was shared.
const RECIPIENT_ROLES: [Role; 5] = [Role::Partner, Role::Analyst, Role::Officer, Role::Supervisor, Role::SafeguardingLead];

/// Decides whether `actor` may do `action` on `record` at `now_ms`.
pub fn may(actor: &Actor, action: Action, record: &RecordAccess, now_ms: i64) -> Decision {
    if record.owner_organisation_id.as_ref() == Some(&actor.organisation_id) {
        let allowed = owner_roles(action, record.kind);
        if !actor.roles.iter().any(|role| allowed.contains(role)) {
            return Decision::Deny("none of your roles allows this");
        }
        if action == Action::ShareIntelligence
            && let Handling::Conditional(conditions) = &record.handling
            && conditions.originator_consent_required
            && !actor.roles.contains(&Role::Supervisor)
        {
            return Decision::Deny("sharing needs the originator's consent, recorded by a supervisor");
        }
        return Decision::Allow;
    }
    // Another organisation: only intelligence shared with it, only to read
    // (sanitised), and only while the conditions hold.
    if record.kind != RecordKind::Intelligence || !record.shared_with.contains(&actor.organisation_id) {
        return Decision::Deny("this record has not been shared with your organisation");
    }
    if action != Action::ViewIntelligence {
        return Decision::Deny("shared records can only be read by the organisations they are shared with");
    }
    if !actor.roles.iter().any(|role| RECIPIENT_ROLES.contains(role)) {
        return Decision::Deny("none of your roles allows reading shared intelligence");
    }
    if let Handling::Conditional(conditions) = &record.handling {
        if !conditions.recipient_organisations.is_empty() && !conditions.recipient_organisations.contains(&actor.organisation_id) {
            return Decision::Deny("the handling conditions do not name your organisation");
        }
        if conditions.expires_at_ms.is_some_and(|expiry| now_ms >= expiry) {
            return Decision::Deny("the handling conditions have expired");
        }
    }
    Decision::Allow
}

/// Things a user may do that are not about one record: workspace pages and
/// lists. Lists still show only the records `may` allows, one by one.
/// Whether `sender` may put a record into an export package for the
/// organisation `recipient`. Only the organisation holding a record may
/// disclose it (a record shared with you is not yours to pass on), and
/// only its analysts and supervisors; intelligence goes only where its
/// handling conditions allow (named recipients, not expired, and with the
/// originator's consent recorded by a supervisor when that is required).
pub fn may_disclose(sender: &Actor, recipient: &OrganisationId, record: &RecordAccess, now_ms: i64) -> Decision {
    if record.owner_organisation_id.as_ref() != Some(&sender.organisation_id) {
        return Decision::Deny("only the organisation that holds a record may disclose it");
    }
    if recipient == &sender.organisation_id {
        return Decision::Deny("a package goes to another organisation");
    }
    if !sender.roles.iter().any(|role| owner_roles(Action::Export, record.kind).contains(role)) {
        return Decision::Deny("none of your roles allows this");
    }
    if let Handling::Conditional(conditions) = &record.handling {
        if !conditions.recipient_organisations.is_empty() && !conditions.recipient_organisations.contains(recipient) {
            return Decision::Deny("the handling conditions do not name the recipient");
        }
        if conditions.expires_at_ms.is_some_and(|expiry| now_ms >= expiry) {
            return Decision::Deny("the handling conditions have expired");
        }
        if conditions.originator_consent_required && !sender.roles.contains(&Role::Supervisor) {
            return Decision::Deny("sharing needs the originator's consent, recorded by a supervisor");
        }
    }
    Decision::Allow
}

/// Whether an organisation of this kind may receive a potential victim's
/// identity, address and phone in an export package: those with a duty to
/// safeguard them (police forces, national agencies, local authorities).
/// A regulator, the DVLA, a charity outside a referral, and Immigration
/// Enforcement (whom victims fear, and whose involvement the Modern Slavery
/// statutory guidance keeps apart from support) get the group without them.
pub fn may_receive_victim_identity(kind: crate::organisation::OrganisationKind) -> bool {
    use crate::organisation::OrganisationKind::*;
    matches!(kind, PoliceForce | NationalAgency | LocalAuthority)
}

/// Whether a potential victim may be referred to an organisation of this
/// kind for support (a charity such as the victim care contractor, or a
/// local authority's children's or adult services), which then reads what
/// the referral gave it. No enforcement or regulatory body gives support.
pub fn may_give_support(kind: crate::organisation::OrganisationKind) -> bool {
    use crate::organisation::OrganisationKind::*;
    matches!(kind, Charity | LocalAuthority)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    /// The triage queue of public reports owned by the user's organisation.
    UseQueue,
    /// Start an intelligence record (from a report or directly).
    CreateIntelligence,
    /// Search and list the reports and intelligence the user may see.
    Search,
    /// Add, disable and reset users, and require a second factor, in the
    /// user's own organisation.
    ManageUsers,
    /// Read the audit trail of a user in the user's own organisation.
    ViewUserAudit,
    /// Decide that records are or are not the same person, or take a record
    /// out of a person.
    DecidePeople,
    /// Undo another's decision about people.
    UndoPeopleDecision,
    /// Draw, save and export link charts of the entities in the records the
    /// user may see.
    UseLinkCharts,
    /// Run the organised-crime-group analysis over the entities the user may
    /// see, save it, and give people roles in a group.
    AnalyseNetworks,
    /// Put together an export package of records, entities and charts for
    /// another organisation.
    CreateDisclosurePackage,
    /// Read the organisation's disclosure log.
    ViewDisclosureLog,
    /// The safeguarding dashboard: the organisation's potential victims
    /// under their pseudonyms, and opening a case for someone.
    Safeguarding,
    /// The support portal: the people referred to the user's organisation
    /// for support.
    SupportReferrals,
    /// Safeguarding statistics in the Home Office's dimensions (a partner
    /// sees none below the publication threshold).
    SafeguardingStatistics,
    /// Plan an operation led by the user's organisation.
    PlanOperations,
    /// Take part in operations: the list of them, a team's briefing and
    /// the field app (what each allows is `may_on_operation`'s).
    Operations,
    /// Review what the force keeps past its review date (MoPI): keep it for
    /// a reason or delete it.
    ReviewRetention,
    /// The dashboards: counts over the reports and intelligence the user
    /// may see (as search scopes them), never a record.
    ViewInsight,
    /// Publish the organisation's potential victims' data for researchers
    /// and the public, k-anonymised or synthetic (recorded in the
    /// disclosure log).
    PublishStatistics,
}

impl Capability {
    pub const ALL: [Capability; 19] = [
        Capability::UseQueue,
        Capability::CreateIntelligence,
        Capability::Search,
        Capability::ManageUsers,
        Capability::ViewUserAudit,
        Capability::DecidePeople,
        Capability::UndoPeopleDecision,
        Capability::UseLinkCharts,
        Capability::AnalyseNetworks,
        Capability::CreateDisclosurePackage,
        Capability::ViewDisclosureLog,
        Capability::Safeguarding,
        Capability::SupportReferrals,
        Capability::SafeguardingStatistics,
        Capability::PlanOperations,
        Capability::Operations,
        Capability::ReviewRetention,
        Capability::ViewInsight,
        Capability::PublishStatistics,
    ];
}

/// Roles that hold a capability.
fn capability_roles(capability: Capability) -> &'static [Role] {
    use Role::*;
    match capability {
        Capability::UseQueue => &[CallHandler, Analyst, Officer, Supervisor, SafeguardingLead],
        Capability::CreateIntelligence => &[CallHandler, Analyst, Supervisor],
        Capability::Search => &[CallHandler, Analyst, Officer, Supervisor, SafeguardingLead, Partner],
        Capability::ManageUsers => &[Administrator],
        Capability::ViewUserAudit => &[Supervisor],
        Capability::DecidePeople => &[Analyst, Supervisor],
        Capability::UndoPeopleDecision => &[Supervisor],
        Capability::UseLinkCharts => &[Analyst, Officer, Supervisor, SafeguardingLead, Partner],
        Capability::AnalyseNetworks => &[Analyst, Supervisor, Partner],
        Capability::CreateDisclosurePackage => &[Analyst, Supervisor],
        Capability::ViewDisclosureLog => &[Supervisor],
        Capability::Safeguarding => &[CallHandler, Analyst, Officer, Supervisor, SafeguardingLead],
        Capability::SupportReferrals => &[Partner, SafeguardingLead, Supervisor],
        Capability::SafeguardingStatistics => &[Analyst, Supervisor, SafeguardingLead, Partner],
        Capability::PlanOperations => &[Analyst, Supervisor],
        Capability::Operations => &[CallHandler, Analyst, Officer, Supervisor, SafeguardingLead, Partner],
        Capability::ReviewRetention => &[Supervisor],
        Capability::ViewInsight => &[CallHandler, Analyst, Officer, Supervisor, SafeguardingLead, Partner],
        Capability::PublishStatistics => &[Supervisor, SafeguardingLead],
    }
}

/// Decides whether `actor` holds `capability`. Deny unless a role grants it.
pub fn may_use(actor: &Actor, capability: Capability) -> Decision {
    if actor.roles.iter().any(|role| capability_roles(capability).contains(role)) { Decision::Allow } else { Decision::Deny("none of your roles allows this") }
}

/// What a user wants to do with a potential victim's case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VictimAction {
    /// Read the case under its pseudonym: stage, clock, referral without
    /// the person's identity.
    ViewCase,
    /// Open the person's sealed identity (always with a reason, audited).
    ViewIdentity,
    /// Change the case, write the referral or the Duty to Notify, record
    /// the Home Office's decisions.
    EditCase,
    /// Refer the person to a support organisation, choosing what it is
    /// given.
    ReferToSupport,
    /// Read what a support referral gave the organisation it went to.
    ViewSupportReferral,
    /// Record the support given back to the force.
    RecordSupport,
    /// Read the case's audit trail: who read it, opened the identity,
    /// changed or referred it, and the reasons they gave.
    ViewAudit,
    /// Decide at its review date whether the case is kept or deleted.
    ReviewRetention,
}

impl VictimAction {
    pub const ALL: [VictimAction; 8] = [
        VictimAction::ViewCase,
        VictimAction::ViewIdentity,
        VictimAction::EditCase,
        VictimAction::ReferToSupport,
        VictimAction::ViewSupportReferral,
        VictimAction::RecordSupport,
        VictimAction::ViewAudit,
        VictimAction::ReviewRetention,
    ];
}

/// What the policy needs to know about a potential victim's case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VictimCaseAccess {
    pub owner_organisation_id: OrganisationId,
    /// The officer in the case, who may read the identity like a
    /// safeguarding lead.
    pub officer_in_case: Option<crate::ids::UserId>,
    /// Support organisations the person has been referred to.
    pub support_organisations: BTreeSet<OrganisationId>,
}

/// Roles in the owning organisation that see a case under its pseudonym.
const CASE_READERS: [Role; 5] = [Role::CallHandler, Role::Analyst, Role::Officer, Role::Supervisor, Role::SafeguardingLead];

/// Roles in a support organisation that work with the people referred to it.
const SUPPORT_ROLES: [Role; 3] = [Role::Partner, Role::SafeguardingLead, Role::Supervisor];

/// Decides whether `actor`, signed in as `user`, may do `action` on a
/// potential victim's case. Telling as few people as possible who the
/// person is: in the owning organisation every role that works on cases
/// sees the pseudonym, but only safeguarding leads and the officer in the
/// case see the identity or change the case; a support organisation sees
/// only what its referral gave it and records the support it gives.
pub fn may_on_victim(actor: &Actor, user: &crate::ids::UserId, action: VictimAction, case: &VictimCaseAccess) -> Decision {
    if case.owner_organisation_id == actor.organisation_id {
        let safeguarding = actor.roles.contains(&Role::SafeguardingLead);
        let officer_in_case = case.officer_in_case.as_ref() == Some(user) && actor.roles.iter().any(|role| CASE_READERS.contains(role));
        return match action {
            VictimAction::ViewCase if actor.roles.iter().any(|role| CASE_READERS.contains(role)) => Decision::Allow,
            VictimAction::ViewCase => Decision::Deny("none of your roles allows this"),
            VictimAction::ViewIdentity | VictimAction::EditCase | VictimAction::ReferToSupport | VictimAction::ViewSupportReferral
                if safeguarding || officer_in_case =>
            {
                Decision::Allow
            }
            VictimAction::RecordSupport => Decision::Deny("support is recorded by the organisation giving it"),
            VictimAction::ViewAudit if safeguarding || actor.roles.contains(&Role::Supervisor) => Decision::Allow,
            VictimAction::ViewAudit => Decision::Deny("only safeguarding leads and supervisors read a case's audit trail"),
            VictimAction::ReviewRetention if actor.roles.contains(&Role::Supervisor) => Decision::Allow,
            VictimAction::ReviewRetention => Decision::Deny("only the force's supervisors decide what it keeps"),
            _ => Decision::Deny("only safeguarding leads and the officer in the case may do this"),
        };
    }
    if !case.support_organisations.contains(&actor.organisation_id) {
        return Decision::Deny("this person has not been referred to your organisation");
    }
    if !actor.roles.iter().any(|role| SUPPORT_ROLES.contains(role)) {
        return Decision::Deny("none of your roles allows working with referred people");
    }
    match action {
        VictimAction::ViewSupportReferral | VictimAction::RecordSupport => Decision::Allow,
        _ => Decision::Deny("a support organisation sees only what its referral gave it"),
    }
}

/// What a user wants to do with an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OperationAction {
    /// Read the whole plan: sites, teams, agencies.
    ViewPlan,
    /// Change the plan: dates, agencies, sites, teams and their members.
    EditPlan,
    /// Read one team's briefing: its sites, tasks and what the records
    /// behind them say, as far as the reader may see them.
    ViewBriefing,
    /// Record stops, visits and outcomes in the field for one team.
    Record,
    /// Watch what every team records as it arrives.
    ViewBoard,
    /// Read the debrief's totals and draft the press summary.
    Debrief,
}

impl OperationAction {
    pub const ALL: [OperationAction; 6] = [
        OperationAction::ViewPlan,
        OperationAction::EditPlan,
        OperationAction::ViewBriefing,
        OperationAction::Record,
        OperationAction::ViewBoard,
        OperationAction::Debrief,
    ];
}

/// What the policy needs to know about an operation (and, for a briefing
/// or a record, the team in question).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationAccess {
    /// The force that leads it.
    pub lead_organisation_id: OrganisationId,
    /// The members of the team asked about, if any.
    pub team_members: BTreeSet<crate::ids::UserId>,
}

/// Roles in the leading force that plan, watch and debrief an operation.
/// (The same roles hold `Capability::PlanOperations`.)
const OPERATION_LEADS: [Role; 2] = [Role::Supervisor, Role::Analyst];

/// Decides whether `actor`, signed in as `user`, may do `action` on an
/// operation. The leading force's supervisors and analysts plan it, watch
/// it and debrief it; its other staff may read the plan; every member of a
/// team, whatever their agency, reads their team's briefing and records for
/// it; nobody else sees anything, so a partner agency's officer sees only
/// their own team's briefing.
pub fn may_on_operation(actor: &Actor, user: &crate::ids::UserId, action: OperationAction, operation: &OperationAccess) -> Decision {
    let lead_force = operation.lead_organisation_id == actor.organisation_id;
    let leads = lead_force && actor.roles.iter().any(|role| OPERATION_LEADS.contains(role));
    let staff = actor.roles.iter().any(|role| *role != Role::Administrator);
    let member = staff && operation.team_members.contains(user);
    let allowed = match action {
        OperationAction::ViewPlan => leads || (lead_force && actor.roles.iter().any(|role| CASE_READERS.contains(role))),
        OperationAction::EditPlan | OperationAction::ViewBoard | OperationAction::Debrief => leads,
        OperationAction::ViewBriefing => leads || member,
        OperationAction::Record => member,
    };
    if allowed {
        Decision::Allow
    } else if member || lead_force {
        Decision::Deny("your part in this operation does not include this")
    } else {
        Decision::Deny("you are not taking part in this operation")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORCE: &str = "0190f1c2-0000-7000-8000-000000000001";
    const GLAA: &str = "0190f1c2-0000-7000-8000-000000000002";
    const CHARITY: &str = "0190f1c2-0000-7000-8000-000000000003";

    fn organisation(id: &str) -> OrganisationId {
        OrganisationId::parse(id).unwrap()
    }
    const NOW: i64 = 1_800_000_000_000;

    fn actor(organisation: &str, role: Role) -> Actor {
        Actor { organisation_id: self::organisation(organisation), roles: BTreeSet::from([role]) }
    }

    fn record(kind: RecordKind, handling: Handling, shared_with: &[&str]) -> RecordAccess {
        RecordAccess { kind, owner_organisation_id: Some(organisation(FORCE)), handling, shared_with: shared_with.iter().map(|id| organisation(id)).collect() }
    }

    fn glaa_only() -> Handling {
        Handling::Conditional(SharingConditions { recipient_organisations: BTreeSet::from([organisation(GLAA)]), ..SharingConditions::default() })
    }

    /// The whole table for the owning organisation: every role against every
    /// action, on a report and on intelligence. Each row lists the actions
    /// the role may do; everything else must be denied.
    #[test]
    fn owner_table_over_every_role_and_action() {
        use Action::*;
        let expected: [(Role, &[Action], &[Action]); 7] = [
            (Role::CallHandler, &[ViewReport, TriageReport, ReplyToReporter, RevealContact], &[ViewIntelligence, EditIntelligence]),
            (Role::Analyst, &[ViewReport, Export], &[ViewIntelligence, ViewSourceText, EditIntelligence, ShareIntelligence, Export]),
            (Role::Officer, &[ViewReport], &[ViewIntelligence]),
            (
                Role::Supervisor,
                &[ViewReport, TriageReport, ReplyToReporter, RevealContact, Export, ViewAudit],
                &[ViewIntelligence, ViewSourceText, EditIntelligence, ShareIntelligence, Export, ViewAudit],
            ),
            (Role::SafeguardingLead, &[ViewReport, RevealContact], &[ViewIntelligence]),
            (Role::Partner, &[], &[]),
            (Role::Administrator, &[], &[]),
        ];
        for (role, on_report, on_intelligence) in expected {
            for (kind, allowed) in [(RecordKind::Report, on_report), (RecordKind::Intelligence, on_intelligence)] {
                for action in Action::ALL {
                    let decision = may(&actor(FORCE, role), action, &record(kind, Handling::Permitted, &[]), NOW);
                    assert_eq!(decision.is_allowed(), allowed.contains(&action), "{role:?} {action:?} on {kind:?}: {decision:?}");
                }
            }
        }
        assert_eq!(Role::ALL.len(), expected.len(), "every role is in the table");
    }

    /// Another organisation: only reading intelligence shared with it.
    #[test]
    fn recipient_table_over_every_role_and_action() {
        let shared = record(RecordKind::Intelligence, Handling::Permitted, &[GLAA]);
        for role in Role::ALL {
            for action in Action::ALL {
                let decision = may(&actor(GLAA, *role), action, &shared, NOW);
                let expected = action == Action::ViewIntelligence && RECIPIENT_ROLES.contains(role);
                assert_eq!(decision.is_allowed(), expected, "{role:?} {action:?}: {decision:?}");
            }
        }
    }

    #[test]
    fn what_was_not_shared_is_denied_even_by_url() {
        let shared_with_glaa = record(RecordKind::Intelligence, glaa_only(), &[GLAA]);
        assert!(may(&actor(GLAA, Role::Partner), Action::ViewIntelligence, &shared_with_glaa, NOW).is_allowed());
        assert_eq!(
            may(&actor(CHARITY, Role::Partner), Action::ViewIntelligence, &shared_with_glaa, NOW),
            Decision::Deny("this record has not been shared with your organisation")
        );
        let report = record(RecordKind::Report, Handling::Permitted, &[GLAA]);
        assert!(!may(&actor(GLAA, Role::Supervisor), Action::ViewReport, &report, NOW).is_allowed(), "public reports stay with their force");
    }

    #[test]
    fn conditions_limit_recipients_and_expire() {
        let mistakenly_shared = record(RecordKind::Intelligence, glaa_only(), &[GLAA, CHARITY]);
        assert!(!may(&actor(CHARITY, Role::Partner), Action::ViewIntelligence, &mistakenly_shared, NOW).is_allowed(), "conditions win over a share");
        let expiring = Handling::Conditional(SharingConditions { expires_at_ms: Some(NOW), ..SharingConditions::default() });
        let shared = record(RecordKind::Intelligence, expiring, &[GLAA]);
        assert!(may(&actor(GLAA, Role::Partner), Action::ViewIntelligence, &shared, NOW - 1).is_allowed());
        assert!(!may(&actor(GLAA, Role::Partner), Action::ViewIntelligence, &shared, NOW).is_allowed());
    }

    #[test]
    fn originator_consent_means_a_supervisor_shares() {
        let consent = Handling::Conditional(SharingConditions { originator_consent_required: true, ..SharingConditions::default() });
        let intelligence = record(RecordKind::Intelligence, consent, &[]);
        assert!(!may(&actor(FORCE, Role::Analyst), Action::ShareIntelligence, &intelligence, NOW).is_allowed());
        assert!(may(&actor(FORCE, Role::Supervisor), Action::ShareIntelligence, &intelligence, NOW).is_allowed());
    }

    #[test]
    fn an_empty_role_set_is_denied_everything() {
        let nobody = Actor { organisation_id: organisation(FORCE), roles: BTreeSet::new() };
        for action in Action::ALL {
            assert!(!may(&nobody, action, &record(RecordKind::Report, Handling::Permitted, &[]), NOW).is_allowed());
            assert!(!may(&nobody, action, &record(RecordKind::Intelligence, Handling::Permitted, &[]), NOW).is_allowed());
        }
    }
    #[test]
    fn only_the_holder_discloses_and_only_where_the_conditions_allow() {
        let report = record(RecordKind::Report, Handling::Permitted, &[]);
        let glaa = organisation(GLAA);
        assert!(may_disclose(&actor(FORCE, Role::Analyst), &glaa, &report, NOW).is_allowed());
        assert!(may_disclose(&actor(FORCE, Role::Supervisor), &glaa, &report, NOW).is_allowed());
        for role in [Role::CallHandler, Role::Officer, Role::SafeguardingLead, Role::Partner, Role::Administrator] {
            assert!(!may_disclose(&actor(FORCE, role), &glaa, &report, NOW).is_allowed(), "{role:?}");
        }
        assert!(!may_disclose(&actor(FORCE, Role::Analyst), &organisation(FORCE), &report, NOW).is_allowed(), "not to itself");
        let shared = record(RecordKind::Intelligence, Handling::Permitted, &[GLAA]);
        assert!(!may_disclose(&actor(GLAA, Role::Analyst), &organisation(CHARITY), &shared, NOW).is_allowed(), "a recipient does not pass it on");
        let named = SharingConditions { recipient_organisations: [organisation(GLAA)].into(), ..SharingConditions::default() };
        let conditional = record(RecordKind::Intelligence, Handling::Conditional(named), &[]);
        assert!(may_disclose(&actor(FORCE, Role::Analyst), &glaa, &conditional, NOW).is_allowed());
        assert_eq!(
            may_disclose(&actor(FORCE, Role::Analyst), &organisation(CHARITY), &conditional, NOW),
            Decision::Deny("the handling conditions do not name the recipient")
        );
        let expired = SharingConditions { expires_at_ms: Some(NOW), ..SharingConditions::default() };
        assert!(!may_disclose(&actor(FORCE, Role::Analyst), &glaa, &record(RecordKind::Intelligence, Handling::Conditional(expired), &[]), NOW).is_allowed());
        let consent = record(
            RecordKind::Intelligence,
            Handling::Conditional(SharingConditions { originator_consent_required: true, ..SharingConditions::default() }),
            &[],
        );
        assert!(!may_disclose(&actor(FORCE, Role::Analyst), &glaa, &consent, NOW).is_allowed());
        assert!(may_disclose(&actor(FORCE, Role::Supervisor), &glaa, &consent, NOW).is_allowed());
    }

    #[test]
    fn a_victims_identity_goes_only_to_those_who_safeguard() {
        use crate::organisation::OrganisationKind;
        let receiving: Vec<OrganisationKind> = OrganisationKind::ALL.iter().copied().filter(|kind| may_receive_victim_identity(*kind)).collect();
        assert_eq!(receiving, [OrganisationKind::PoliceForce, OrganisationKind::NationalAgency, OrganisationKind::LocalAuthority]);
        let supporting: Vec<OrganisationKind> = OrganisationKind::ALL.iter().copied().filter(|kind| may_give_support(*kind)).collect();
        assert_eq!(supporting, [OrganisationKind::Charity, OrganisationKind::LocalAuthority]);
    }

    fn user(number: u8) -> crate::ids::UserId {
        crate::ids::UserId::parse(&format!("0190f1c2-0000-7000-8000-0000000001{number:02}")).unwrap()
    }

    fn victim_case(officer: Option<u8>, support: &[&str]) -> VictimCaseAccess {
        VictimCaseAccess {
            owner_organisation_id: organisation(FORCE),
            officer_in_case: officer.map(user),
            support_organisations: support.iter().map(|id| organisation(id)).collect(),
        }
    }

    /// Every role against every action on a potential victim's case, in
    /// the owning force: as anyone, and as the officer in the case.
    #[test]
    fn victim_table_in_the_owning_force() {
        use VictimAction::*;
        let identity: &[VictimAction] = &[ViewCase, ViewIdentity, EditCase, ReferToSupport, ViewSupportReferral];
        let supervising: &[VictimAction] = &[ViewCase, ViewIdentity, EditCase, ReferToSupport, ViewSupportReferral, ViewAudit];
        let supervisor: &[VictimAction] = &[ViewCase, ViewIdentity, EditCase, ReferToSupport, ViewSupportReferral, ViewAudit, ReviewRetention];
        let expected: [(Role, &[VictimAction], &[VictimAction]); 7] = [
            (Role::CallHandler, &[ViewCase], identity),
            (Role::Analyst, &[ViewCase], identity),
            (Role::Officer, &[ViewCase], identity),
            (Role::Supervisor, &[ViewCase, ViewAudit, ReviewRetention], supervisor),
            (Role::SafeguardingLead, supervising, supervising),
            (Role::Partner, &[], &[]),
            (Role::Administrator, &[], &[]),
        ];
        for (role, as_anyone, as_officer_in_case) in expected {
            for action in VictimAction::ALL {
                let someone_else = may_on_victim(&actor(FORCE, role), &user(1), action, &victim_case(Some(2), &[CHARITY]));
                assert_eq!(someone_else.is_allowed(), as_anyone.contains(&action), "{role:?} {action:?}: {someone_else:?}");
                let in_case = may_on_victim(&actor(FORCE, role), &user(2), action, &victim_case(Some(2), &[CHARITY]));
                assert_eq!(in_case.is_allowed(), as_officer_in_case.contains(&action), "{role:?} in the case {action:?}: {in_case:?}");
            }
        }
        assert_eq!(Role::ALL.len(), expected.len(), "every role is in the table");
    }

    /// A support organisation: only the referral it was given, and only
    /// once the person has been referred to it.
    #[test]
    fn a_support_organisation_sees_only_its_referral() {
        for role in Role::ALL {
            for action in VictimAction::ALL {
                let referred = may_on_victim(&actor(CHARITY, *role), &user(3), action, &victim_case(None, &[CHARITY]));
                let expected = SUPPORT_ROLES.contains(role) && matches!(action, VictimAction::ViewSupportReferral | VictimAction::RecordSupport);
                assert_eq!(referred.is_allowed(), expected, "{role:?} {action:?}: {referred:?}");
                let elsewhere = may_on_victim(&actor(CHARITY, *role), &user(3), action, &victim_case(None, &[GLAA]));
                assert!(!elsewhere.is_allowed(), "{role:?} {action:?} on a person referred elsewhere");
                // Being named officer in the case in another organisation
                // gives nothing.
                assert!(!may_on_victim(&actor(GLAA, *role), &user(3), action, &victim_case(Some(3), &[])).is_allowed());
            }
        }
    }

    /// Every role against every operation action: in the leading force
    /// and in a partner agency, in the team asked about and not.
    #[test]
    fn operation_table_over_every_role() {
        use OperationAction::*;
        let operation =
            |members: &[u8]| OperationAccess { lead_organisation_id: organisation(FORCE), team_members: members.iter().map(|number| user(*number)).collect() };
        let leading: &[OperationAction] = &[ViewPlan, EditPlan, ViewBriefing, ViewBoard, Debrief];
        // (role, in the leading force outside the team, in the leading force
        // in the team, in a partner agency in the team)
        type Row = (Role, &'static [OperationAction], &'static [OperationAction], &'static [OperationAction]);
        let expected: [Row; 7] = [
            (Role::CallHandler, &[ViewPlan], &[ViewPlan, ViewBriefing, Record], &[ViewBriefing, Record]),
            (Role::Analyst, leading, &[ViewPlan, EditPlan, ViewBriefing, Record, ViewBoard, Debrief], &[ViewBriefing, Record]),
            (Role::Officer, &[ViewPlan], &[ViewPlan, ViewBriefing, Record], &[ViewBriefing, Record]),
            (Role::Supervisor, leading, &[ViewPlan, EditPlan, ViewBriefing, Record, ViewBoard, Debrief], &[ViewBriefing, Record]),
            (Role::SafeguardingLead, &[ViewPlan], &[ViewPlan, ViewBriefing, Record], &[ViewBriefing, Record]),
            (Role::Partner, &[], &[ViewBriefing, Record], &[ViewBriefing, Record]),
            (Role::Administrator, &[], &[], &[]),
        ];
        for (role, outside, in_team, partner_in_team) in expected {
            for action in OperationAction::ALL {
                let check = |organisation_id: &str, members: &[u8], allowed: &[OperationAction]| {
                    let decision = may_on_operation(&actor(organisation_id, role), &user(1), action, &operation(members));
                    assert_eq!(
                        decision.is_allowed(),
                        allowed.contains(&action),
                        "{role:?} {action:?} in {organisation_id} with members {members:?}: {decision:?}"
                    );
                };
                check(FORCE, &[2], outside);
                check(FORCE, &[1, 2], in_team);
                check(GLAA, &[1], partner_in_team);
                check(GLAA, &[2], &[]);
            }
        }
        assert_eq!(Role::ALL.len(), expected.len(), "every role is in the table");
    }

    #[test]
    fn capability_table_over_every_role() {
        use Capability::*;
        let expected: [(Role, &[Capability]); 7] = [
            (Role::CallHandler, &[UseQueue, CreateIntelligence, Search, Safeguarding, Operations, ViewInsight]),
            (
                Role::Analyst,
                &[
                    UseQueue,
                    CreateIntelligence,
                    Search,
                    DecidePeople,
                    UseLinkCharts,
                    AnalyseNetworks,
                    CreateDisclosurePackage,
                    Safeguarding,
                    SafeguardingStatistics,
                    PlanOperations,
                    Operations,
                    ViewInsight,
                ],
            ),
            (Role::Officer, &[UseQueue, Search, UseLinkCharts, Safeguarding, Operations, ViewInsight]),
            (
                Role::Supervisor,
                &[
                    UseQueue,
                    CreateIntelligence,
                    Search,
                    ViewUserAudit,
                    DecidePeople,
                    UndoPeopleDecision,
                    UseLinkCharts,
                    AnalyseNetworks,
                    CreateDisclosurePackage,
                    ViewDisclosureLog,
                    Safeguarding,
                    SupportReferrals,
                    SafeguardingStatistics,
                    PlanOperations,
                    Operations,
                    ReviewRetention,
                    ViewInsight,
                    PublishStatistics,
                ],
            ),
            (
                Role::SafeguardingLead,
                &[UseQueue, Search, UseLinkCharts, Safeguarding, SupportReferrals, SafeguardingStatistics, Operations, ViewInsight, PublishStatistics],
            ),
            (Role::Partner, &[Search, UseLinkCharts, AnalyseNetworks, SupportReferrals, SafeguardingStatistics, Operations, ViewInsight]),
            (Role::Administrator, &[ManageUsers]),
        ];
        for (role, allowed) in expected {
            for capability in Capability::ALL {
                let decision = may_use(&actor(FORCE, role), capability);
                assert_eq!(decision.is_allowed(), allowed.contains(&capability), "{role:?} {capability:?}: {decision:?}");
            }
        }
        assert_eq!(Role::ALL.len(), expected.len(), "every role is in the table");
        let nobody = Actor { organisation_id: organisation(FORCE), roles: BTreeSet::new() };
        assert!(Capability::ALL.iter().all(|capability| !may_use(&nobody, *capability).is_allowed()));
    }
}
