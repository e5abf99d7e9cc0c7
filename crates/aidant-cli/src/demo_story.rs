//! "Operation Aidant": the story `aidant demo` plants among its ordinary
//! synthetic reports, so that a person trying the workspace (and the tests of
//! the entity pipeline) has an organised crime group to find.
//!
//! A man, Florin Dumitru, controls young Romanian women who work in nail bars
//! in Luton, Bedford and Dunstable and in a flat used as a brothel in
//! Bedford. He runs them through three phones, two vehicles and three
//! addresses, and they arrive and are moved on through Toddington Services on
//! the M1, which many unrelated reports mention too. Members of the public
//! see pieces of this over about eight weeks and write them down as people
//! do: the same phone in five forms, a registration in lower case or only its
//! first half, a name misspelt or written family name first. The Gangmasters
//! and Labour Abuse Authority (GLAA) and Bedfordshire Police hold graded
//! intelligence on the group, and share some of it as a real force would.
//!
//! Everything is invented: the phone numbers are in Ofcom's ranges for
//! drama (07700 900000 to 900999), the registrations and the inward codes of
//! the postcodes are made up (on real districts), and so are the people and
//! the businesses. Toddington Services and its postcode are the one real
//! place, a motorway services anyone can visit.
//!
//! The story is fixed content, not random: every run plants the same reports
//! and records.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use aidant_core::audit::AuditActor;
use aidant_core::grading::{Grading, IntelligenceAssessment, SourceEvaluation};
use aidant_core::ids::{OrganisationId, ReportId};
use aidant_core::intelligence::{PersonNamed, PersonRole};
use aidant_core::organisation::Role;
use aidant_core::policy::{Handling, SharingConditions};
use aidant_core::report::{ReportAnswers, VehicleAnswer};
use aidant_core::text::{BoundedText, Lines};
use aidant_store::Store;
use aidant_store::intelligence::{IntelligenceInsert, SourceDetails};

use crate::startup::Failure;

/// The operation's name, as the demo and the README call it.
pub const OPERATION: &str = "Operation Aidant";

/// The controller, given name first. Reports also write him "Florin",
/// "F. Dumitru", "DUMITRU Florin", "Florin Dumitr" and "the boss Florin".
pub const CONTROLLER: &str = "Florin Dumitru";

/// A woman he exploits, given name first. Reports also write her "Ioana",
/// "POPESCU Ioana" and "Iona Popescu".
pub const VICTIM: &str = "Ioana Popescu";

/// The group's three phones in E.164: Florin's own (on booking cards and job
/// adverts), the drivers' phone, and the number on the brothel's adverts.
/// They are Ofcom drama numbers, which libphonenumber's rules (and so
/// `aidant_core::phone::PhoneE164::parse`) reject as unallocated: whatever
/// is to find them must accept Ofcom's drama ranges.
pub const GROUP_PHONES_E164: &[&str] = &["+447700900123", "+447700900456", "+447700900789"];

/// The group's two vehicles, in the compact form reports store: a white Ford
/// Transit (`LJ15 XKR`) and a silver Vauxhall Zafira (`WN64 HZD`).
pub const GROUP_REGISTRATIONS: &[&str] = &["LJ15XKR", "WN64HZD"];

/// The group's three addresses: a house of multiple occupation in Luton
/// where the women sleep, the flat above Star Nails in Luton, and a flat in
/// Bedford used as a brothel.
pub const GROUP_POSTCODES: &[&str] = &["LU4 9WX", "LU1 2NX", "MK40 3TQ"];

/// The nail bars the women are put to work in, each as most reports write it
/// ("STAR NAILS" and "Star Nail's" also appear).
pub const GROUP_BUSINESSES: &[&str] = &["Star Nails", "Diamond Nails & Beauty", "Pearl Nail Bar"];

/// The hub every route runs through, which unrelated reports mention too.
pub const HUB_NAME: &str = "Toddington Services";
pub const HUB_POSTCODE: &str = "LU5 6HR";

/// The story is planted only among at least this many ordinary reports, so
/// that it stays a thread to find rather than most of the data, and so that
/// a small demo (`--reports 0` for the browser tests, a few dozen for quick
/// checks) holds exactly the reports asked for.
pub const STORY_MIN_REPORTS: usize = 100;

/// Mixed into the demo's seed for the story reports' references, so the
/// ordinary reports draw exactly the random numbers they drew before the
/// story existed.
pub(crate) const REFERENCE_SEED: u64 = 0x0AD0_57A2_2026;

/// The organisations the story names, as the demo creates them.
pub const BEDFORDSHIRE_POLICE: &str = "Bedfordshire Police";
pub const NATIONAL_CRIME_AGENCY: &str = "National Crime Agency";
pub const GLAA: &str = "Gangmasters and Labour Abuse Authority";

/// The GLAA analyst the story adds, who owns the GLAA's records (the demo
/// otherwise gives partner agencies a partner user only, who cannot write
/// intelligence).
pub const GLAA_ANALYST_EMAIL: &str = "analyst@glaa.example";
const POLICE_ANALYST_EMAIL: &str = "analyst@beds.police.example";

/// Whether a demo of `ordinary` reports gets the story.
pub fn planted_among(ordinary: usize) -> bool {
    ordinary >= STORY_MIN_REPORTS
}

/// One report of the story, as a member of the public would answer the form.
#[derive(Debug, Clone, Copy)]
pub struct StoryReport {
    /// Names the report an intelligence record is developed from.
    pub key: Option<&'static str>,
    pub sector: &'static str,
    pub town: &'static str,
    pub postcode: Option<&'static str>,
    pub location_description: Option<&'static str>,
    pub business_name: Option<&'static str>,
    pub signs: &'static [&'static str],
    pub people_count: Option<u32>,
    pub age_groups: &'static [&'static str],
    pub people_description: Option<&'static str>,
    /// Registration as typed (if any) and description.
    pub vehicles: &'static [(Option<&'static str>, &'static str)],
    pub narrative: &'static str,
    /// The store stamps a report when it arrives, so when it was seen, over
    /// the eight weeks, is in the reporter's words here.
    pub when_seen: &'static str,
    pub immediate_danger: bool,
}

impl StoryReport {
    const BLANK: StoryReport = StoryReport {
        key: None,
        sector: "other",
        town: "",
        postcode: None,
        location_description: None,
        business_name: None,
        signs: &[],
        people_count: None,
        age_groups: &[],
        people_description: None,
        vehicles: &[],
        narrative: "",
        when_seen: "",
        immediate_danger: false,
    };

    /// The answers as the public form would send them.
    pub fn answers(&self) -> ReportAnswers {
        let owned = |text: Option<&str>| text.map(str::to_owned);
        ReportAnswers {
            sector: Some(self.sector.to_owned()),
            postcode: owned(self.postcode),
            town: Some(self.town.to_owned()),
            location_description: owned(self.location_description),
            business_name: owned(self.business_name),
            signs: self.signs.iter().map(|sign| (*sign).to_owned()).collect(),
            people_count: self.people_count.map(|count| count.to_string()),
            age_groups: self.age_groups.iter().map(|group| (*group).to_owned()).collect(),
            people_description: owned(self.people_description),
            vehicles: self
                .vehicles
                .iter()
                .map(|(registration, description)| VehicleAnswer { registration: owned(*registration), description: Some((*description).to_owned()) })
                .collect(),
            narrative: Some(self.narrative.to_owned()),
            when_seen: Some(self.when_seen.to_owned()),
            immediate_danger: self.immediate_danger,
            contact: None,
        }
    }
}

const TODDINGTON: &str = "Toddington";
const SERVICES: Option<&str> = Some("Toddington Services (M1)");

/// The story's reports, oldest first: the demo inserts them in this order,
/// spread evenly among the ordinary reports.
pub const STORY_REPORTS: &[StoryReport] = &[
    // About eight weeks ago.
    StoryReport {
        sector: "nail_bar",
        town: "Luton",
        postcode: Some("LU1 2NX"),
        business_name: Some("Star Nails"),
        signs: &["cash_only_unusually_cheap", "controlling_manager", "staff_not_allowed_to_talk"],
        people_count: Some(4),
        age_groups: &["18_to_24"],
        people_description: Some("Three or four young women, Romanian I think. One of them was called Ioana."),
        narrative: "Had my nails done at Star Nails. The girls did not talk to customers and a man watched them from the back the whole time. \
                    There was no price list and no receipt, only a card with a mobile number for bookings: 07700 900123. \
                    One of the girls said they all live upstairs.",
        when_seen: "About eight weeks ago, on a Saturday afternoon",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "lorries_and_services",
        town: TODDINGTON,
        postcode: Some(HUB_POSTCODE),
        business_name: SERVICES,
        signs: &["banging_from_inside_lorry", "refrigerated_lorry_people"],
        vehicles: &[(None, "Refrigerated lorry with a Bulgarian trailer")],
        narrative: "Heard knocking from inside a refrigerated trailer in the northbound lorry park. The driver said it was the fridge motor and drove off \
                    towards the motorway.",
        when_seen: "About eight weeks ago, late at night",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "brothel_and_massage",
        town: "Bedford",
        postcode: Some("MK40 3TQ"),
        signs: &["several_foreign_women_one_address", "men_visiting_day_and_night", "cctv_or_security_at_door"],
        people_count: Some(4),
        people_description: Some("Young women, foreign, I think Romanian. They never go out alone."),
        vehicles: &[(Some("WN64 HZD"), "Silver Vauxhall Zafira")],
        narrative: "The flat above the shops at MK40 3TQ has men going in and out all night, each for about twenty minutes. A silver Vauxhall Zafira, \
                    WN64 HZD, drops women off and picks them up. Every couple of weeks the women are different.",
        when_seen: "Over the past two months, mostly at night",
        ..StoryReport::BLANK
    },
    // About seven weeks ago.
    StoryReport {
        sector: "nail_bar",
        town: "Bedford",
        location_description: Some("On the parade opposite the bus station"),
        business_name: Some("Diamond Nails & Beauty"),
        signs: &["staff_seem_young", "controlling_manager", "no_chemical_protection"],
        people_count: Some(3),
        age_groups: &["18_to_24"],
        narrative: "The women do acrylics all day without masks or gloves. A white Ford Transit drops them at 9am and collects them after closing; \
                    I only got part of the plate, it began LJ15. The manager told me the owner is Florin and that he 'looks after the girls'.",
        when_seen: "Seven weeks ago, Tuesday morning",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "lorries_and_services",
        town: TODDINGTON,
        postcode: Some(HUB_POSTCODE),
        business_name: SERVICES,
        signs: &["waiting_for_unknown_collection", "transported_in_groups", "no_local_language"],
        people_count: Some(5),
        age_groups: &["18_to_24"],
        people_description: Some("Women in their twenties, speaking Romanian, each with a wheelie suitcase."),
        vehicles: &[(Some("LJ15 XKR"), "White Ford Transit van")],
        narrative: "Five young women waiting by the coach stop at Toddington Services, southbound side, at about 11pm. None of them spoke English or \
                    knew who was coming. A white Transit picked them up and the driver shouted at them to hurry. The van was LJ15XKR.",
        when_seen: "Seven weeks ago, Sunday night",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "car_wash",
        town: TODDINGTON,
        location_description: Some("The hand car wash on the road just off the motorway, near Toddington Services"),
        business_name: Some("Shine Bright Hand Car Wash"),
        signs: &["no_protective_equipment", "workers_living_on_site", "cash_only_unusually_cheap"],
        people_count: Some(6),
        people_description: Some("Men in their twenties and thirties, speaking Albanian."),
        narrative: "The men work in the rain with no boots or gloves, £6 for a full wash, cash only. There is a caravan behind the wash where they \
                    seem to sleep.",
        when_seen: "Seven weeks ago",
        ..StoryReport::BLANK
    },
    // About six weeks ago.
    StoryReport {
        sector: "nail_bar",
        town: "Luton",
        postcode: Some("LU1 2NX"),
        business_name: Some("STAR NAILS"),
        signs: &["workers_living_on_site", "someone_else_holds_passport", "little_or_no_pay", "fearful_or_anxious"],
        people_count: Some(3),
        age_groups: &["18_to_24"],
        people_description: Some("A girl called Iona Popescu, maybe 19 or 20, very thin, from Romania."),
        narrative: "I go every fortnight. Iona told me quietly that she has not been paid since she came from Romania and that the boss Florin keeps \
                    her passport 'for safety'. She went white when his phone rang. The card on the counter still says call 07700900123.",
        when_seen: "About six weeks ago",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "lorries_and_services",
        town: TODDINGTON,
        postcode: Some(HUB_POSTCODE),
        business_name: SERVICES,
        signs: &["people_leave_lorry_suddenly"],
        people_count: Some(3),
        people_description: Some("Three men, I could not hear what language."),
        vehicles: &[(None, "Curtain-sided lorry, foreign plates")],
        narrative: "Three men climbed out of the back of a curtain-sided lorry in the southbound lorry park and walked off across the car park towards \
                    the fields.",
        when_seen: "About six weeks ago, early morning",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "online_adverts",
        town: "Bedford",
        signs: &["advert_same_photo_many_names", "women_moved_between_addresses", "bank_of_phones"],
        narrative: "An adult services advert for 'new girls in Bedford centre, 24/7' says 'MK40 3TQ area' and gives 07700 900789. The same photos \
                    were on a Luton advert last month under other names, with the number written 07700900789.",
        when_seen: "About six weeks ago",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "other",
        town: "Luton",
        postcode: Some("LU4 9WX"),
        signs: &["poor_accommodation", "transported_in_groups", "movements_controlled"],
        people_count: Some(10),
        age_groups: &["18_to_24", "25_and_over"],
        people_description: Some("About ten women, Romanian, in their twenties."),
        narrative: "The house next door is a house of multiple occupation with mattresses in every room and at least ten women living in it. \
                    A white van takes them away at 7am and brings them back after 10pm. The bins overflow and the curtains are never opened.",
        when_seen: "For the past six weeks",
        ..StoryReport::BLANK
    },
    // About five weeks ago.
    StoryReport {
        sector: "brothel_and_massage",
        town: "Bedford",
        postcode: Some("MK40 3TQ"),
        signs: &["men_visiting_day_and_night", "several_foreign_women_one_address", "movements_controlled"],
        people_count: Some(5),
        age_groups: &["18_to_24"],
        people_description: Some("Four or five women, Romanian, early twenties."),
        vehicles: &[(Some("WN64HZD"), "Silver Vauxhall Zafira")],
        narrative: "I live below. A man the women call Florin comes on Sunday nights and collects cash. He drives a silver Zafira, wn64hzd. \
                    One girl said her name was Ioana and asked me for a phone charger, then a man pulled her back inside.",
        when_seen: "Five weeks ago, Sunday night",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "lorries_and_services",
        town: TODDINGTON,
        postcode: Some(HUB_POSTCODE),
        business_name: SERVICES,
        signs: &["vehicle_parked_away_watched", "waiting_for_unknown_collection"],
        people_count: Some(2),
        age_groups: &["18_to_24"],
        people_description: Some("Two young women, one with a big suitcase, speaking Romanian."),
        vehicles: &[(None, "Silver Vauxhall Zafira")],
        narrative: "A silver people carrier sat away from the shops at Toddington Services for an hour, the driver watching the coach stop. Two women \
                    got off a coach and went straight to it. I only got part of the plate: WN64 H..",
        when_seen: "Five weeks ago, Sunday evening",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "nail_bar",
        town: "Luton",
        postcode: Some("LU1 2NX"),
        business_name: Some("Star Nail's"),
        signs: &["cash_only_unusually_cheap", "staff_not_allowed_to_talk", "staff_seem_young"],
        people_count: Some(2),
        age_groups: &["under_18", "18_to_24"],
        narrative: "£15 for a full set, cash only. Two girls working, one looked about 16. A man came in, took the cash from the till and said \
                    'Florin wants it tonight'. The shop phone is 01632 960472 but the card says text +44 7700 900123 for bookings.",
        when_seen: "Five weeks ago",
        ..StoryReport::BLANK
    },
    // About four weeks ago.
    StoryReport {
        sector: "nail_bar",
        town: "Dunstable",
        business_name: Some("Pearl Nail Bar"),
        signs: &["controlling_manager", "transported_in_groups", "excessive_hours"],
        people_count: Some(3),
        people_description: Some("New girls, Romanian, they call each other by first names only."),
        narrative: "New girls started at Pearl Nail Bar. They arrive together in a white Transit van (lj15 xkr) at 8am and are collected at 10pm. \
                    One of them said she also works in Luton, at Star Nails.",
        when_seen: "About a month ago",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "lorries_and_services",
        town: TODDINGTON,
        postcode: Some(HUB_POSTCODE),
        business_name: SERVICES,
        signs: &["waiting_for_unknown_collection", "child_without_parents"],
        people_count: Some(3),
        age_groups: &["under_18"],
        people_description: Some("Three Vietnamese boys, about 15."),
        vehicles: &[(None, "Black BMW saloon")],
        narrative: "A coach driver told me three Vietnamese teenagers got off at Toddington Services with no adult and were met by a man in a black \
                    BMW who took their phones.",
        when_seen: "About a month ago",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "brothel_and_massage",
        town: "Luton",
        postcode: Some("LU4 9WX"),
        signs: &["several_foreign_women_one_address", "women_moved_between_addresses", "cctv_or_security_at_door"],
        people_count: Some(10),
        age_groups: &["18_to_24"],
        people_description: Some("Romanian women, I have heard one called Ioana."),
        vehicles: &[(Some("LJ15 XKR"), "White Ford Transit")],
        narrative: "The house at LU4 9WX has about ten women in it. The white Ford Transit collects them every morning at 8 and brings them back at \
                    10pm; on Sundays some are taken to Bedford. Men visit the house late at night as well.",
        when_seen: "About four weeks ago, and most days since",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "online_adverts",
        town: "Luton",
        signs: &["job_too_good_to_be_true", "false_promises"],
        narrative: "A Facebook job advert in Romanian: 'Beauty salon work in England, room and travel paid, no experience needed, girls 18 to 25'. \
                    Contact on WhatsApp 0044 7700 900 123, name given as F. Dumitru.",
        when_seen: "About four weeks ago",
        ..StoryReport::BLANK
    },
    // About three weeks ago.
    StoryReport {
        key: Some("sunday-swap"),
        sector: "lorries_and_services",
        town: TODDINGTON,
        postcode: Some(HUB_POSTCODE),
        business_name: SERVICES,
        signs: &["transported_in_groups", "vehicle_parked_away_watched"],
        people_count: Some(6),
        people_description: Some("Six women, young, speaking Romanian."),
        vehicles: &[(None, "White Ford Transit"), (None, "Silver Vauxhall Zafira")],
        narrative: "Sunday night again at Toddington Services (LU5 6HR): a white Transit whose plate began LJ15 and a silver Zafira parked side by \
                    side at the far end of the car park. Women were moved from the van into the Zafira. The man in charge was on the phone the whole \
                    time and I heard him say 'Florin'.",
        when_seen: "Three weeks ago, Sunday about midnight",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "car_wash",
        town: TODDINGTON,
        location_description: Some("Near Toddington Services, on the road by the motorway bridge"),
        business_name: Some("Shine Bright Hand Car Wash"),
        signs: &["workers_living_on_site", "workers_fearful_withdrawn", "no_receipt"],
        people_count: Some(5),
        narrative: "The car wash workers sleep in a shipping container at the back. The boss's number on the sign is 07700 900870 and he pays them \
                    in cash at the end of the week, if at all.",
        when_seen: "Three weeks ago",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "nail_bar",
        town: "Bedford",
        location_description: Some("On the parade opposite the bus station"),
        business_name: Some("Diamond Nails and Beauty"),
        signs: &["controlling_manager", "transported_in_groups"],
        people_count: Some(3),
        people_description: Some("The women are Romanian, in their early twenties."),
        narrative: "When I asked about a job for my niece the manager gave me a number for her boss: 07700 900456, 'ask for the driver'. \
                    The women here are picked up in a silver Zafira every night.",
        when_seen: "Three weeks ago",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "brothel_and_massage",
        town: "Bedford",
        postcode: Some("MK40 3TQ"),
        signs: &["women_moved_between_addresses", "cannot_leave_work_or_home"],
        people_count: Some(4),
        narrative: "The silver Zafira WN64 HZD again, taking women away at 2am. One of them asked me to ring 07700 900 456 for her because her \
                    phone had no credit; she said the driver would come.",
        when_seen: "Three weeks ago",
        ..StoryReport::BLANK
    },
    // About two weeks ago.
    StoryReport {
        sector: "lorries_and_services",
        town: TODDINGTON,
        postcode: Some(HUB_POSTCODE),
        business_name: SERVICES,
        signs: &["vehicle_parked_away_watched", "same_clothes_every_day"],
        people_count: Some(2),
        people_description: Some("Two men, Eastern European, never leave the cab."),
        vehicles: &[(None, "Lorry with a Lithuanian trailer")],
        narrative: "A lorry has been parked in the services for over a week with two men living in the cab. A car comes each evening and the \
                    driver gives them food and takes something away.",
        when_seen: "Two weeks ago",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "nail_bar",
        town: "Luton",
        location_description: Some("The nail bar in the town centre with the flat above it"),
        business_name: Some("Star Nails"),
        signs: &["owes_debt_to_employer", "little_or_no_pay", "someone_else_holds_passport", "threatened_or_family_threatened"],
        people_count: Some(1),
        age_groups: &["18_to_24"],
        people_description: Some("POPESCU Ioana, Romanian, about 20."),
        narrative: "POPESCU Ioana, who I know from church, told me she owes £4,000 for her travel and that Florin Dumitr takes all her wages. \
                    She lives in the flat above Star Nails. She gave me his number, (07700) 900123, and said he threatens her family at home. \
                    She is frightened to leave.",
        when_seen: "Two weeks ago, after the Sunday service",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "online_adverts",
        town: "Bedford",
        signs: &["advert_suggests_young", "women_moved_between_addresses"],
        narrative: "Adult advert: 'Bedford, new Romanian girls, young, outcalls to Luton', call +447700900789. The photos look like girls under 20.",
        when_seen: "Two weeks ago",
        ..StoryReport::BLANK
    },
    // In the last week.
    StoryReport {
        sector: "lorries_and_services",
        town: TODDINGTON,
        postcode: Some(HUB_POSTCODE),
        business_name: SERVICES,
        signs: &["waiting_for_unknown_collection", "transported_in_groups", "fearful_or_anxious"],
        people_count: Some(4),
        age_groups: &["18_to_24"],
        vehicles: &[(None, "White Ford Transit")],
        narrative: "The white van LJ15 X.. again at Toddington Services on Sunday at midnight. Four women with suitcases got in. When the security \
                    guard asked, the driver gave him a number, +44 7700 900456, and said they were cleaners working for DUMITRU Florin.",
        when_seen: "Last Sunday, about midnight",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "brothel_and_massage",
        town: "Bedford",
        postcode: Some("MK40 3TQ"),
        signs: &["bank_of_phones", "men_visiting_day_and_night"],
        narrative: "Cards in the phone boxes near the station say 'Bedford, Romanian girls, 24 hours' with 07700 900 789. Men go up to the flat \
                    within an hour of the cards going up.",
        when_seen: "This week",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "lorries_and_services",
        town: TODDINGTON,
        postcode: Some(HUB_POSTCODE),
        business_name: SERVICES,
        signs: &["does_not_know_address", "fearful_or_anxious", "no_local_language"],
        people_count: Some(1),
        age_groups: &["18_to_24"],
        people_description: Some("A young woman, Romanian, very upset."),
        narrative: "Found a young woman crying in the ladies at Toddington Services. She had no money, only a piece of paper with 07700900456 and \
                    'Luton' written on it, and kept saying that Florin would come for her.",
        when_seen: "Four days ago",
        ..StoryReport::BLANK
    },
    StoryReport {
        sector: "lorries_and_services",
        town: TODDINGTON,
        postcode: Some(HUB_POSTCODE),
        business_name: SERVICES,
        signs: &["refrigerated_lorry_people", "banging_from_inside_lorry"],
        vehicles: &[(None, "Refrigerated lorry, Dutch plates")],
        narrative: "Voices and knocking from a refrigerated lorry in the northbound lorry park. The driver was asleep in the cab.",
        when_seen: "Three days ago, early morning",
        ..StoryReport::BLANK
    },
    StoryReport {
        key: Some("forced-into-van"),
        sector: "brothel_and_massage",
        town: "Luton",
        postcode: Some("LU4 9WX"),
        signs: &["injuries_from_assault", "cannot_leave_work_or_home", "fearful_or_anxious"],
        people_count: Some(1),
        age_groups: &["18_to_24"],
        people_description: Some("A young woman, Romanian; the others call her Ioana."),
        vehicles: &[(Some("lj15 xkr"), "White Ford Transit van")],
        narrative: "A woman was screaming outside the house and a man dragged her into the white Transit, LJ15XKR, by her hair. She had blood on \
                    her face. They drove off towards the motorway.",
        when_seen: "Last night at about 11pm",
        immediate_danger: true,
        ..StoryReport::BLANK
    },
];

/// The story reports to insert just before ordinary report `position` (of
/// `ordinary`): report `j` of `k` goes before ordinary report
/// `(2j + 1) * ordinary / 2k`, which spreads them evenly and keeps their order.
pub(crate) fn due_before(position: usize, ordinary: usize) -> Range<usize> {
    let count = STORY_REPORTS.len();
    if ordinary == 0 {
        return 0..0;
    }
    let slot = |index: usize| (2 * index + 1) * ordinary / (2 * count);
    let start = (0..count).filter(|&index| slot(index) < position).count();
    let end = (0..count).filter(|&index| slot(index) <= position).count();
    start..end
}

/// Handling code C with its conditions; recipients by organisation name.
#[derive(Debug, Clone, Copy)]
pub struct StoryConditions {
    pub recipients: &'static [&'static str],
    pub no_onward_sharing: bool,
    pub originator_consent_required: bool,
    pub text: &'static str,
}

/// One intelligence record of the story.
#[derive(Debug, Clone, Copy)]
pub struct StoryIntelligence {
    /// The owning organisation's name.
    pub owner: &'static str,
    pub author_email: &'static str,
    pub title: &'static str,
    pub source: SourceEvaluation,
    pub assessment: IntelligenceAssessment,
    /// `None` is handling code P.
    pub conditions: Option<StoryConditions>,
    pub sanitised_text: &'static str,
    /// The sealed source: identity and what they said.
    pub source_details: Option<(&'static str, &'static str)>,
    /// The `key` of the story report it was developed from.
    pub developed_from: Option<&'static str>,
    /// Organisations (by name) the owner shares it with.
    pub shared_with: &'static [&'static str],
    /// The people it names, as its "people named" part.
    pub people: &'static [StoryPerson],
}

/// A person an intelligence record names: name as the record writes it,
/// date of birth when the record's author knew it, nationality and role.
#[derive(Debug, Clone, Copy)]
pub struct StoryPerson {
    pub name: &'static str,
    pub date_of_birth: Option<&'static str>,
    pub nationality: Option<&'static str>,
    pub role: PersonRole,
}

/// The controller's date of birth, known to the DVLA and so to the police.
pub const CONTROLLER_DATE_OF_BIRTH: &str = "1981-02-17";
/// The woman's date of birth, from the GLAA's interview.
pub const VICTIM_DATE_OF_BIRTH: &str = "2005-06-11";

const FLORIN_NAMED: StoryPerson =
    StoryPerson { name: "DUMITRU Florin", date_of_birth: None, nationality: Some("Romanian"), role: PersonRole::SuspectedOffender };
const FLORIN_KNOWN: StoryPerson =
    StoryPerson { name: "DUMITRU Florin", date_of_birth: Some(CONTROLLER_DATE_OF_BIRTH), nationality: Some("Romanian"), role: PersonRole::SuspectedOffender };
const IOANA_NAMED: StoryPerson = StoryPerson { name: "POPESCU Ioana", date_of_birth: None, nationality: Some("Romanian"), role: PersonRole::PotentialVictim };
const IOANA_KNOWN: StoryPerson =
    StoryPerson { name: "POPESCU Ioana", date_of_birth: Some(VICTIM_DATE_OF_BIRTH), nationality: Some("Romanian"), role: PersonRole::PotentialVictim };

impl StoryIntelligence {
    /// The grading's short code, as `Grading::code` writes it (`2 B C`).
    pub fn grading_code(&self) -> String {
        format!("{} {} {}", self.source.code(), self.assessment.code(), if self.conditions.is_some() { "C" } else { "P" })
    }
}

impl StoryPerson {
    fn named(&self) -> Result<PersonNamed, Failure> {
        let text = |text: &str, limit| BoundedText::parse(text, limit, Lines::Single).map_err(|_| Failure::Runtime("a story person does not parse".to_owned()));
        Ok(PersonNamed {
            name: text(self.name, aidant_core::intelligence::limits::PERSON_NAME)?,
            date_of_birth: self.date_of_birth.map(str::to_owned),
            nationality: self.nationality.map(|nationality| text(nationality, aidant_core::intelligence::limits::NATIONALITY)).transpose()?,
            role: self.role,
        })
    }
}

/// The story's intelligence records, in the order they are created.
pub const STORY_INTELLIGENCE: &[StoryIntelligence] = &[
    StoryIntelligence {
        owner: GLAA,
        author_email: GLAA_ANALYST_EMAIL,
        title: "Star Nails, Luton: workers' accounts at a licensing visit",
        source: SourceEvaluation::Reliable,
        assessment: IntelligenceAssessment::KnownIndirectlyCorroborated,
        conditions: Some(StoryConditions {
            recipients: &[BEDFORDSHIRE_POLICE, NATIONAL_CRIME_AGENCY],
            no_onward_sharing: true,
            originator_consent_required: false,
            text: "For Bedfordshire Police and the NCA only; no onward sharing without the GLAA's agreement.",
        }),
        sanitised_text: "GLAA officers visited STAR NAILS, LU1 2NX, and spoke to four Romanian women aged 19 to 24, among them POPESCU Ioana. \
                         All four live in the flat above the salon, were recruited through a Facebook advert, say they owe between £2,000 and \
                         £4,000 for their travel and are paid nothing directly: their wages go to DUMITRU Florin, who holds their passports. \
                         The salon's booking number is 07700 900123. The women are driven to and from work in a white Ford Transit, LJ15 XKR, \
                         and some are also put to work at Diamond Nails & Beauty, Bedford, and Pearl Nail Bar, Dunstable.",
        source_details: Some(("GLAA licensing inspection team, East", "Interview notes of the four workers, with the interpreter's record.")),
        developed_from: None,
        shared_with: &[BEDFORDSHIRE_POLICE, NATIONAL_CRIME_AGENCY],
        people: &[IOANA_KNOWN, FLORIN_NAMED],
    },
    StoryIntelligence {
        owner: GLAA,
        author_email: GLAA_ANALYST_EMAIL,
        title: "Diamond Nails & Beauty, Bedford: arrivals through Toddington Services",
        source: SourceEvaluation::Untested,
        assessment: IntelligenceAssessment::KnownIndirectly,
        conditions: None,
        sanitised_text: "A former worker at Diamond Nails & Beauty, Bedford, says women arriving by coach are met at Toddington Services \
                         (LU5 6HR) on Sunday nights and driven to Bedford in a silver Vauxhall Zafira, WN64 HZD. The drivers' number is \
                         07700 900456. She names the man in charge as DUMITRU Florin and says the women sleep at a flat at MK40 3TQ.",
        source_details: Some(("Former nail bar worker, through a victim navigator", "Account given at a reception centre.")),
        developed_from: None,
        shared_with: &[],
        people: &[FLORIN_NAMED],
    },
    StoryIntelligence {
        owner: BEDFORDSHIRE_POLICE,
        author_email: POLICE_ANALYST_EMAIL,
        title: "ANPR: LJ15XKR and WN64HZD together at Toddington Services",
        source: SourceEvaluation::Reliable,
        assessment: IntelligenceAssessment::KnownDirectly,
        conditions: None,
        sanitised_text: "ANPR places LJ15XKR (white Ford Transit) and WN64HZD (silver Vauxhall Zafira) at Toddington Services, LU5 6HR, within \
                         ten minutes of each other on five Sunday nights in the last eight weeks. WN64HZD then travels to Bedford (MK40), \
                         LJ15XKR to Luton (LU4). The registered keeper of both is DUMITRU Florin, 07700900123, at LU4 9WX, a house of multiple \
                         occupation.",
        source_details: None,
        developed_from: Some("sunday-swap"),
        shared_with: &[GLAA],
        people: &[FLORIN_KNOWN],
    },
    StoryIntelligence {
        owner: BEDFORDSHIRE_POLICE,
        author_email: POLICE_ANALYST_EMAIL,
        title: "Adverts for sexual services at MK40 3TQ, Bedford",
        source: SourceEvaluation::Untested,
        assessment: IntelligenceAssessment::KnownIndirectlyCorroborated,
        conditions: Some(StoryConditions {
            recipients: &[GLAA, NATIONAL_CRIME_AGENCY],
            no_onward_sharing: true,
            originator_consent_required: true,
            text: "Source protection: share only with the originator's consent.",
        }),
        sanitised_text: "Adult services adverts for a flat at MK40 3TQ, Bedford, give 07700 900789; the same photographs appear on adverts for \
                         Luton. The phone is used by DUMITRU Florin's group to book customers for women moved between Luton and Bedford, \
                         among them POPESCU Ioana. 07700 900789 and 07700 900123 are topped up at the same shop.",
        source_details: Some(("Source BP-0417", "Saw the booking phone at the flat and was told who answers it.")),
        developed_from: None,
        shared_with: &[],
        people: &[FLORIN_NAMED, IOANA_NAMED],
    },
    StoryIntelligence {
        owner: BEDFORDSHIRE_POLICE,
        author_email: POLICE_ANALYST_EMAIL,
        title: "Safeguarding: POPESCU Ioana",
        source: SourceEvaluation::Reliable,
        assessment: IntelligenceAssessment::KnownIndirectlyCorroborated,
        conditions: None,
        sanitised_text: "POPESCU Ioana (about 20, Romanian) is believed to be the woman forced into the white Ford Transit LJ15 XKR at LU4 9WX \
                         last night. She is controlled by DUMITRU Florin (+44 7700 900123) through a debt of about £4,000 and has been seen at \
                         Star Nails, Luton, and at the flat at MK40 3TQ. Safeguarding visit and referral to the National Referral Mechanism \
                         to follow.",
        source_details: None,
        developed_from: Some("forced-into-van"),
        shared_with: &[],
        people: &[
            StoryPerson { name: "Ioana Popescu", date_of_birth: Some(VICTIM_DATE_OF_BIRTH), nationality: Some("Romanian"), role: PersonRole::PotentialVictim },
            StoryPerson { name: "Florin Dumitru", date_of_birth: Some(CONTROLLER_DATE_OF_BIRTH), nationality: None, role: PersonRole::SuspectedOffender },
        ],
    },
];

/// Creates the GLAA analyst and the story's intelligence records, developed
/// from the story reports in `developed` (by key), and shares them as
/// planned. Returns the sign-in the story adds: (organisation, role, email).
pub(crate) async fn plant_intelligence(store: &Store, developed: &BTreeMap<&'static str, ReportId>) -> Result<Vec<(String, String, String)>, Failure> {
    let runtime_error = |error: aidant_store::StoreError| Failure::Runtime(format!("planting {OPERATION} failed: {error}"));
    let organisations: BTreeMap<String, OrganisationId> =
        store.list_organisations().await.map_err(runtime_error)?.into_iter().map(|organisation| (organisation.name, organisation.id)).collect();
    let organisation = |name: &str| organisations.get(name).ok_or_else(|| Failure::Runtime(format!("the demo has no organisation named {name}")));

    let analyst = store.create_user(organisation(GLAA)?, GLAA_ANALYST_EMAIL, "Demo Analyst", &[Role::Analyst]).await.map_err(runtime_error)?;
    store.set_password(&analyst.id, crate::demo::DEMO_PASSWORD, &AuditActor::Cli).await.map_err(runtime_error)?;

    for planned in STORY_INTELLIGENCE {
        let author = store
            .find_user_by_email(planned.author_email)
            .await
            .map_err(runtime_error)?
            .ok_or_else(|| Failure::Runtime(format!("the demo has no user {}", planned.author_email)))?;
        let handling = match planned.conditions {
            None => Handling::Permitted,
            Some(conditions) => Handling::Conditional(SharingConditions {
                recipient_organisations: conditions.recipients.iter().map(|name| organisation(name).cloned()).collect::<Result<BTreeSet<_>, _>>()?,
                no_onward_sharing: conditions.no_onward_sharing,
                originator_consent_required: conditions.originator_consent_required,
                sanitised_only: true,
                expires_at_ms: None,
            }),
        };
        let grading = Grading::ThreeFiveTwo {
            source: planned.source,
            intelligence: planned.assessment,
            handling,
            conditions_text: planned.conditions.map(|conditions| conditions.text.to_owned()),
        };
        let source = planned.source_details.map(|(identity, text)| SourceDetails { identity: Some(identity.to_owned()), text: Some(text.to_owned()) });
        let report_id = match planned.developed_from {
            None => None,
            Some(key) => Some(developed.get(key).ok_or_else(|| Failure::Runtime(format!("no story report is keyed {key}")))?),
        };
        let people = planned.people.iter().map(StoryPerson::named).collect::<Result<Vec<_>, _>>()?;
        let insert = IntelligenceInsert {
            report_id,
            owner_organisation_id: organisation(planned.owner)?,
            created_by: &author.id,
            title: planned.title,
            grading: &grading,
            sanitised_text: planned.sanitised_text,
            source: source.as_ref(),
            review_on: None,
            people: &people,
            share_with: &[],
        };
        let (intelligence_id, _reference) = store.create_intelligence(&insert).await.map_err(runtime_error)?;
        for recipient in planned.shared_with {
            store.share_intelligence(&intelligence_id, organisation(recipient)?, &author.id).await.map_err(runtime_error)?;
        }
    }
    Ok(vec![(GLAA.to_owned(), Role::Analyst.label().to_owned(), GLAA_ANALYST_EMAIL.to_owned())])
}

#[cfg(test)]
mod tests {
    use aidant_core::{Catalogue, NewReport};

    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::from_toml(crate::startup::BUILT_IN_CATALOGUE).unwrap()
    }

    #[test]
    fn every_story_report_is_valid_with_signs_of_its_own_kind_of_place() {
        let catalogue = catalogue();
        for planted in STORY_REPORTS {
            let report = NewReport::parse(&planted.answers(), &catalogue).unwrap_or_else(|errors| panic!("{errors:?} in {}", planted.narrative));
            let fitting: BTreeSet<&str> = catalogue.indicators_for_place(planted.sector).map(|indicator| indicator.id.as_str()).collect();
            for sign in &report.signs {
                assert!(fitting.contains(sign.as_str()), "{sign} is not a sign for {}", planted.sector);
            }
        }
        assert!((25..=35).contains(&STORY_REPORTS.len()), "{} story reports", STORY_REPORTS.len());
    }

    #[test]
    fn the_story_reports_are_spread_among_the_ordinary_ones_in_order() {
        for ordinary in [STORY_MIN_REPORTS, 101, 400, 1_000] {
            let mut planted = Vec::new();
            for position in 0..ordinary {
                let due = due_before(position, ordinary);
                assert!(due.len() <= 1, "at most one story report between two ordinary ones when there are {ordinary}");
                planted.extend(due);
            }
            assert_eq!(planted, (0..STORY_REPORTS.len()).collect::<Vec<_>>(), "each once, in order, with {ordinary} ordinary reports");
        }
        assert!(!planted_among(STORY_MIN_REPORTS - 1) && planted_among(STORY_MIN_REPORTS));
    }

    #[test]
    fn the_constants_are_in_the_forms_the_parsers_give() {
        // Ofcom keeps these numbers unallocated for drama, so they can never
        // ring anyone. (libphonenumber's rules, and so `PhoneE164::parse`,
        // call them invalid for that reason, so they are checked by hand.)
        for phone in GROUP_PHONES_E164 {
            let subscriber = phone.strip_prefix("+447700900").unwrap_or_else(|| panic!("{phone} is not in 07700 900000 to 900999"));
            assert!(subscriber.len() == 3 && subscriber.bytes().all(|byte| byte.is_ascii_digit()), "{phone}");
        }
        for registration in GROUP_REGISTRATIONS {
            assert_eq!(aidant_core::vrm::Vrm::parse_uk(registration).map(|vrm| vrm.compact().to_owned()).as_deref(), Ok(*registration));
        }
        for postcode in GROUP_POSTCODES.iter().chain([&HUB_POSTCODE]) {
            assert_eq!(aidant_core::postcode::Postcode::parse(postcode).map(|parsed| parsed.to_string()).as_deref(), Ok(*postcode));
        }
    }

    #[test]
    fn every_record_is_developed_from_a_keyed_report_and_shared_within_its_conditions() {
        let keys: BTreeSet<&str> = STORY_REPORTS.iter().filter_map(|planted| planted.key).collect();
        for planned in STORY_INTELLIGENCE {
            if let Some(key) = planned.developed_from {
                assert!(keys.contains(key), "{key}");
            }
            if let Some(conditions) = planned.conditions {
                assert!(planned.shared_with.iter().all(|name| conditions.recipients.contains(name)), "{}", planned.title);
                assert!(!conditions.originator_consent_required || planned.shared_with.is_empty(), "consent is a supervisor's: {}", planned.title);
            }
            assert!(!planned.shared_with.contains(&planned.owner));
        }
    }
}
