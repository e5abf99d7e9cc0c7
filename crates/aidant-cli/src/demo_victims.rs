//! The potential victims `aidant demo` safeguards: a case at every stage of
//! the National Referral Mechanism, some overdue, a child without a local
//! authority referral, one turning 18 before her Conclusive Grounds
//! decision, referrals written in Aidant (one half-way, one an anonymous
//! Duty to Notify), and people referred to the demo's charity and local
//! authority with the support they gave. Every name is invented.
//!
//! They are made through the same use cases a safeguarding lead uses, so
//! the demo holds nothing the workspace could not have made; the clock's
//! dates are then set relative to today.

use std::collections::BTreeMap;

use aidant_core::catalogue::Catalogue;
use aidant_core::ids::{OrganisationId, ReportId, VictimId};
use aidant_core::organisation::Role;
use aidant_core::policy::Actor;
use aidant_core::safeguarding::case::{CaseAnswers, DecisionAnswers, NewCase};
use aidant_core::safeguarding::referral::{Answers, Page};
use aidant_store::Store;
use aidant_store::cases::victims::{self, CaseSource};
use aidant_store::cases::{Caller, CaseError};
use time::{Date, Duration};

use crate::Failure;

/// A planted case: who, how old, what happened, and where it stands.
struct PlantedCase {
    name: &'static str,
    age: &'static str,
    /// Years before today (a child's exact birthday is set below).
    born_years_ago: Option<i64>,
    gender: &'static str,
    nationality: &'static str,
    languages: &'static str,
    types: &'static [&'static str],
    county_lines: bool,
    /// The story report it came from (`demo_story` keys), when planted.
    from_story: Option<&'static str>,
    stage: Planted,
    /// Support organisations it is referred to, with what they record.
    support: &'static [(&'static str, &'static [SupportGiven])],
}

/// Support a planted organisation records: its kind, how many days ago,
/// and a note.
type SupportGiven = (&'static str, i64, &'static str);

/// Where a planted case stands, in days before today.
enum Planted {
    Identified,
    /// A referral written up to the consent page and left.
    Draft,
    /// A referral written in full and completed (an adult who consents),
    /// then its dates as given.
    Referred {
        referred: i64,
        rg: Option<(i64, &'static str)>,
        cg: Option<(i64, &'static str)>,
        withdrawn: Option<i64>,
    },
    /// Referred outside Aidant: only the dates.
    Dates {
        referred: i64,
        rg: Option<(i64, &'static str)>,
        cg: Option<(i64, &'static str)>,
        withdrawn: Option<i64>,
        local_authority: Option<i64>,
    },
    /// An adult who did not consent: a Duty to Notify written in full.
    DutyToNotify {
        sent: i64,
    },
}

const JUSTICE_AND_CARE: &str = "Justice and Care";
const LUTON_COUNCIL: &str = "Luton Borough Council";

const CASES: &[PlantedCase] = &[
    PlantedCase {
        name: crate::demo_story::VICTIM,
        age: "adult",
        born_years_ago: None,
        gender: "female",
        nationality: "Romanian",
        languages: "Romanian",
        types: &["sexual", "labour"],
        county_lines: false,
        from_story: Some("forced-into-van"),
        stage: Planted::Referred { referred: 40, rg: Some((34, "positive")), cg: None, withdrawn: None },
        support: &[(
            JUSTICE_AND_CARE,
            &[("accommodation", 33, "Safe house place in Bedford."), ("interpreter", 30, "Romanian interpreter for GP visit."), ("medical", 30, "")],
        )],
    },
    PlantedCase {
        name: "Elena Marin",
        age: "adult",
        born_years_ago: Some(27),
        gender: "female",
        nationality: "Romanian",
        languages: "Romanian",
        types: &["sexual"],
        county_lines: false,
        from_story: None,
        stage: Planted::Referred { referred: 12, rg: None, cg: None, withdrawn: None },
        support: &[],
    },
    PlantedCase {
        name: "Andreea Stan",
        age: "adult",
        born_years_ago: Some(23),
        gender: "female",
        nationality: "Romanian",
        languages: "Romanian, some English",
        types: &["labour"],
        county_lines: false,
        from_story: None,
        stage: Planted::Dates { referred: 2, rg: None, cg: None, withdrawn: None, local_authority: None },
        support: &[],
    },
    PlantedCase {
        name: "Stefan Matei",
        age: "adult",
        born_years_ago: Some(41),
        gender: "male",
        nationality: "Romanian",
        languages: "Romanian",
        types: &["labour"],
        county_lines: false,
        from_story: None,
        stage: Planted::Dates { referred: 9, rg: None, cg: None, withdrawn: None, local_authority: None },
        support: &[],
    },
    PlantedCase {
        name: "Maria Ionescu",
        age: "adult",
        born_years_ago: Some(31),
        gender: "female",
        nationality: "Romanian",
        languages: "Romanian",
        types: &["sexual"],
        county_lines: false,
        from_story: None,
        stage: Planted::DutyToNotify { sent: 20 },
        support: &[],
    },
    PlantedCase {
        name: "Minh Nguyen",
        age: "possibly_child",
        born_years_ago: None,
        gender: "male",
        nationality: "Vietnamese",
        languages: "Vietnamese",
        types: &["criminal"],
        county_lines: true,
        from_story: None,
        stage: Planted::Identified,
        support: &[],
    },
    PlantedCase {
        name: "Bao Pham",
        age: "child",
        born_years_ago: Some(18),
        gender: "female",
        nationality: "Vietnamese",
        languages: "Vietnamese",
        types: &["labour", "domestic_servitude"],
        county_lines: false,
        from_story: None,
        stage: Planted::Dates { referred: 30, rg: Some((25, "positive")), cg: None, withdrawn: None, local_authority: Some(31) },
        support: &[(LUTON_COUNCIL, &[("accommodation", 29, "Foster placement."), ("legal", 20, "")])],
    },
    PlantedCase {
        name: "Gabriela Dobre",
        age: "adult",
        born_years_ago: Some(35),
        gender: "female",
        nationality: "Romanian",
        languages: "Romanian",
        types: &["sexual"],
        county_lines: false,
        from_story: None,
        stage: Planted::Dates { referred: 120, rg: Some((114, "positive")), cg: Some((60, "positive")), withdrawn: None, local_authority: None },
        support: &[(JUSTICE_AND_CARE, &[("counselling", 100, ""), ("financial", 90, "Subsistence payments.")])],
    },
    PlantedCase {
        name: "Cristina Lungu",
        age: "adult",
        born_years_ago: Some(29),
        gender: "female",
        nationality: "Moldovan",
        languages: "Romanian, Russian",
        types: &["sexual"],
        county_lines: false,
        from_story: None,
        stage: Planted::Dates { referred: 50, rg: Some((44, "negative")), cg: None, withdrawn: None, local_authority: None },
        support: &[],
    },
    PlantedCase {
        name: "Roxana Vasile",
        age: "adult",
        born_years_ago: Some(26),
        gender: "female",
        nationality: "Romanian",
        languages: "Romanian",
        types: &["sexual"],
        county_lines: false,
        from_story: None,
        stage: Planted::Dates { referred: 150, rg: Some((145, "positive")), cg: Some((80, "negative")), withdrawn: None, local_authority: None },
        support: &[],
    },
    PlantedCase {
        name: "Adrian Bogdan",
        age: "adult",
        born_years_ago: Some(38),
        gender: "male",
        nationality: "Romanian",
        languages: "Romanian",
        types: &["labour"],
        county_lines: false,
        from_story: None,
        stage: Planted::Dates { referred: 70, rg: None, cg: None, withdrawn: Some(65), local_authority: None },
        support: &[],
    },
    PlantedCase {
        name: "Daria Popa",
        age: "adult",
        born_years_ago: Some(24),
        gender: "female",
        nationality: "Romanian",
        languages: "Romanian",
        types: &["sexual"],
        county_lines: false,
        from_story: None,
        stage: Planted::Draft,
        support: &[],
    },
];

fn failure(error: CaseError) -> Failure {
    Failure::Runtime(format!("planting the demo's potential victims failed: {error:?}"))
}

fn answers(pairs: &[(&str, &str)]) -> Answers {
    let mut answers = Answers::new();
    for (field, value) in pairs {
        answers.entry((*field).to_owned()).or_default().push((*value).to_owned());
    }
    answers
}

/// The pages every planted referral answers after age, consent and the
/// person's details.
fn common_pages(types: &[&str], town: &str) -> Vec<(Page, Answers)> {
    let mut exploitation = answers(&[
        ("how_started", "Offered work in a nail bar in England by a man she knew from her town; her travel was paid and she was told she owed it."),
        ("journey", "By coach through Germany and France, then a lorry to Toddington Services."),
        ("treatment", "Passport taken, wages kept against the debt, moved between addresses at night."),
        ("still_in_situation", "no"),
        ("last_contact", "Phone calls from the controller until the day of the visit."),
    ]);
    exploitation.insert("exploitation_types".to_owned(), types.iter().map(|kind| (*kind).to_owned()).collect());
    vec![
        (Page::Background, answers(&[("background", "Left school at 16 and worked in a shop; came to England hoping to send money home.")])),
        (Page::Exploitation, exploitation),
        (
            Page::Indicators,
            answers(&[("professional_insight", "Found sleeping at the premises with no documents; scripted answers; the manager spoke for her.")]),
        ),
        (Page::Locations, answers(&[("uk_locations", town), ("overseas_locations", "Romania")])),
        (Page::Exploiters, answers(&[("exploiters", "A man known as Florin, who drives a white Transit.")])),
        (Page::OtherVictims, answers(&[("other_victims", "Two other women at the same address.")])),
        (Page::CrimeReference, answers(&[("crime_reference", "WA/26/0417")])),
        (Page::Support, answers(&[("support_needs", "Safe accommodation, a Romanian interpreter and a GP.")])),
    ]
}

async fn save(store: &Store, lead: &Caller, id: &VictimId, page: Page, answers: &Answers, signs: &[&str]) -> Result<(), Failure> {
    victims::save_referral_page(store, lead, id, page, answers, signs).await.map(drop).map_err(failure)
}

/// Plants the cases; `story` holds the story's reports by key, when the
/// story was planted.
pub(crate) async fn plant(store: &Store, catalogue: &Catalogue, story: &BTreeMap<&'static str, ReportId>) -> Result<usize, Failure> {
    let runtime_error = |error: aidant_store::StoreError| Failure::Runtime(format!("planting the demo's potential victims failed: {error}"));
    let lead_user = store
        .find_user_by_email("safeguarding.lead@beds.police.example")
        .await
        .map_err(runtime_error)?
        .ok_or_else(|| Failure::Runtime("the demo has no safeguarding lead".to_owned()))?;
    let officer = store.find_user_by_email("officer@beds.police.example").await.map_err(runtime_error)?;
    let lead = Caller::new(&lead_user.id, Actor { organisation_id: lead_user.organisation_id.clone(), roles: [Role::SafeguardingLead].into() });
    let organisations: BTreeMap<String, OrganisationId> =
        store.list_organisations().await.map_err(runtime_error)?.into_iter().map(|organisation| (organisation.name, organisation.id)).collect();
    let signs: Vec<&str> = catalogue.indicators.iter().map(|indicator| indicator.id.as_str()).collect();
    let first_sign: &str =
        catalogue.indicators.iter().find(|indicator| indicator.id == "someone_else_holds_passport").map_or(signs[0], |indicator| indicator.id.as_str());
    let today = victims::today();
    let day = |days: i64| (today - Duration::days(days)).to_string();

    for planted in CASES {
        let born_on = match (planted.born_years_ago, planted.age) {
            // A child who turns 18 in 45 days, before the CG is due.
            (Some(years), "child") => Some(birthday_in(today, years, 45)),
            (Some(years), _) => Some(birthday_in(today, years, 200)),
            (None, _) if planted.name == crate::demo_story::VICTIM => Some(crate::demo_story::VICTIM_DATE_OF_BIRTH.to_owned()),
            (None, _) => None,
        };
        let estimated = if planted.age == "possibly_child" { "16" } else { "" };
        let case = CaseAnswers {
            age: planted.age,
            name: planted.name,
            born_on: born_on.as_deref().unwrap_or_default(),
            estimated_age: estimated,
            gender: planted.gender,
            nationality: planted.nationality,
            languages: planted.languages,
            interpreter: true,
            contact: "Through the safeguarding lead",
            exploitation_types: planted.types.to_vec(),
            county_lines: planted.county_lines,
            ..CaseAnswers::default()
        };
        let new = NewCase::parse(&case, today).map_err(|errors| Failure::Runtime(format!("a planted case does not parse: {errors:?}")))?;
        let source = planted.from_story.and_then(|key| story.get(key)).map(|id| CaseSource::Report(id.clone()));
        let (id, _) = victims::open_case(store, &lead, &new, source.as_ref()).await.map_err(failure)?;
        if let Some(officer) = &officer {
            victims::set_officer_in_case(store, &lead, &id, Some(&officer.id)).await.map_err(failure)?;
        }
        let mut responder = answers(&[("responder_role", "Safeguarding lead"), ("responder_phone", "01234 567890")]);
        responder.insert("responder_name".to_owned(), vec![lead_user.display_name.clone()]);
        responder.insert("responder_organisation".to_owned(), vec!["Bedfordshire Police".to_owned()]);
        responder.insert("responder_email".to_owned(), vec![lead_user.email.clone()]);
        let mut age_page = answers(&[("age", planted.age)]);
        if let Some(born) = &born_on {
            age_page.insert("born_on".to_owned(), vec![born.clone()]);
        }
        let person = answers(&[
            ("name", planted.name),
            ("gender", planted.gender),
            ("nationality", planted.nationality),
            ("interpreter", "yes"),
            ("languages", planted.languages),
        ]);
        let mut indicators = answers(&[("indicators", first_sign)]);
        indicators.insert("professional_insight".to_owned(), vec!["Found sleeping at the premises with no documents; the manager spoke for her.".to_owned()]);
        match &planted.stage {
            Planted::Identified => {}
            Planted::Draft => {
                save(store, &lead, &id, Page::FirstResponder, &responder, &signs).await?;
                save(store, &lead, &id, Page::Age, &age_page, &signs).await?;
                save(store, &lead, &id, Page::Consent, &answers(&[("consent", "yes")]), &signs).await?;
            }
            Planted::Referred { .. } | Planted::DutyToNotify { .. } => {
                let consents = matches!(planted.stage, Planted::Referred { .. });
                save(store, &lead, &id, Page::FirstResponder, &responder, &signs).await?;
                save(store, &lead, &id, Page::Age, &age_page, &signs).await?;
                save(store, &lead, &id, Page::Consent, &answers(&[("consent", if consents { "yes" } else { "no" })]), &signs).await?;
                if consents {
                    save(store, &lead, &id, Page::PersonalDetails, &person, &signs).await?;
                } else {
                    save(store, &lead, &id, Page::AnonymousDetails, &answers(&[("gender", planted.gender), ("nationality", planted.nationality)]), &signs)
                        .await?;
                }
                // A Duty to Notify asks nothing about support.
                for (page, page_answers) in common_pages(planted.types, "Luton").into_iter().filter(|(page, _)| consents || *page != Page::Support) {
                    let page_answers = if page == Page::Indicators { indicators.clone() } else { page_answers };
                    save(store, &lead, &id, page, &page_answers, &signs).await?;
                }
                victims::complete_referral(store, &lead, &id, &signs).await.map_err(failure)?;
            }
            Planted::Dates { .. } => {}
        }
        let (referred, rg, cg, withdrawn, local_authority, duty_to_notify) = match planted.stage {
            Planted::Referred { referred, rg, cg, withdrawn } => (Some(referred), rg, cg, withdrawn, None, None),
            Planted::Dates { referred, rg, cg, withdrawn, local_authority } => (Some(referred), rg, cg, withdrawn, local_authority, None),
            Planted::DutyToNotify { sent } => (None, None, None, None, None, Some(sent)),
            Planted::Identified | Planted::Draft => (None, None, None, None, None, None),
        };
        // A case is opened a few days before anyone is referred.
        let opened_days_ago = referred.or(duty_to_notify).map_or(3, |days| days + 5);
        let opened_at = time::OffsetDateTime::now_utc() - Duration::days(opened_days_ago);
        store.set_victim_case_opened_at(&id, (opened_at.unix_timestamp_nanos() / 1_000_000) as i64).await.map_err(runtime_error)?;
        if referred.is_some() || duty_to_notify.is_some() {
            let text = |days: Option<i64>| days.map(day).unwrap_or_default();
            let (referred_on, rg_on, cg_on, withdrawn_on, la_on, dtn_on) =
                (text(referred), text(rg.map(|(days, _)| days)), text(cg.map(|(days, _)| days)), text(withdrawn), text(local_authority), text(duty_to_notify));
            let decisions = DecisionAnswers {
                age: planted.age,
                referred_on: &referred_on,
                duty_to_notify_on: &dtn_on,
                rg_on: &rg_on,
                rg_decision: rg.map_or("", |(_, decision)| decision),
                cg_on: &cg_on,
                cg_decision: cg.map_or("", |(_, decision)| decision),
                withdrawn_on: &withdrawn_on,
                local_authority_referred_on: &la_on,
            };
            victims::record_decisions(store, &lead, &id, &decisions).await.map_err(failure)?;
        }
        for (organisation, given) in planted.support {
            let organisation_id =
                organisations.get(*organisation).ok_or_else(|| Failure::Runtime(format!("the demo has no organisation named {organisation}")))?;
            let fields: Vec<String> =
                ["name", "languages", "contact", "age", "exploitation_types", "support_needs"].iter().map(|field| (*field).to_owned()).collect();
            let referral = victims::refer_to_support(store, &lead, &id, Some(organisation_id), &fields).await.map_err(failure)?;
            let partner_email = match *organisation {
                JUSTICE_AND_CARE => "partner@justiceandcare.example",
                _ => "partner@luton.gov.example",
            };
            let partner = store
                .find_user_by_email(partner_email)
                .await
                .map_err(runtime_error)?
                .ok_or_else(|| Failure::Runtime(format!("the demo has no user {partner_email}")))?;
            let partner = Caller::new(&partner.id, Actor { organisation_id: partner.organisation_id.clone(), roles: [Role::Partner].into() });
            for (kind, days, note) in *given {
                victims::record_support(store, &partner, &referral, kind, &day(*days), note).await.map_err(failure)?;
            }
        }
    }
    Ok(CASES.len())
}

/// A date of birth `years` ago, moved so the birthday falls `ahead` days
/// from today.
fn birthday_in(today: Date, years: i64, ahead: i64) -> String {
    let target = today + Duration::days(ahead);
    let year = i32::try_from(i64::from(target.year()) - years).unwrap_or(2000);
    Date::from_calendar_date(year, target.month(), target.day().min(28)).map(|day| day.to_string()).unwrap_or_else(|_| format!("{year}-01-01"))
}
