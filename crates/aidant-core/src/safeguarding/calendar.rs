//! Working days in England and Wales: weekdays that are not bank holidays.
//!
//! Bank holidays come from `data/bank-holidays-england-and-wales.txt`
//! (GOV.UK's list, Open Government Licence). For a year after the last one
//! the file lists, the standing rules are used; a one-off holiday
//! proclaimed for such a year must be added to the file.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use time::{Date, Duration, Month, Weekday};

const LISTED: &str = include_str!("../../../../data/bank-holidays-england-and-wales.txt");

/// The listed bank holidays and the last year the list covers.
fn listed() -> &'static (BTreeSet<Date>, i32) {
    static LISTED_DATES: OnceLock<(BTreeSet<Date>, i32)> = OnceLock::new();
    LISTED_DATES.get_or_init(|| {
        let dates: BTreeSet<Date> = LISTED
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| {
                let date = line.split_whitespace().next().unwrap_or_default();
                crate::text::parse_iso_date(date).expect("the shipped list of bank holidays holds only dates written YYYY-MM-DD")
            })
            .collect();
        let last_year = dates.last().map_or(i32::MIN, |date| date.year());
        (dates, last_year)
    })
}

/// Easter Sunday in the Gregorian calendar (the anonymous algorithm of
/// 1876, as in Meeus, "Astronomical Algorithms").
fn easter_sunday(year: i32) -> Date {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    let month = if month == 3 { Month::March } else { Month::April };
    Date::from_calendar_date(year, month, day as u8).expect("Easter falls in March or April")
}

fn first_monday(year: i32, month: Month) -> Date {
    let first = Date::from_calendar_date(year, month, 1).expect("every month has a first day");
    let mut day = first;
    while day.weekday() != Weekday::Monday {
        day = day.next_day().expect("within the calendar");
    }
    day
}

fn last_monday(year: i32, month: Month) -> Date {
    let last = Date::from_calendar_date(year, month, time::util::days_in_month(month, year)).expect("every month has a last day");
    let mut day = last;
    while day.weekday() != Weekday::Monday {
        day = day.previous_day().expect("within the calendar");
    }
    day
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The bank holidays of a year by the standing rules: fixed days that fall
/// at a weekend move to the next weekday not already a holiday.
pub fn standing_rules(year: i32) -> BTreeSet<Date> {
    let easter = easter_sunday(year);
    let mut holidays: BTreeSet<Date> = [
        easter - Duration::days(2),
        easter + Duration::days(1),
        first_monday(year, Month::May),
        last_monday(year, Month::May),
        last_monday(year, Month::August),
    ]
    .into_iter()
    .collect();
    for (month, day) in [(Month::January, 1), (Month::December, 25), (Month::December, 26)] {
        let mut date = Date::from_calendar_date(year, month, day).expect("a fixed holiday is a real date");
        while is_weekend(date) || holidays.contains(&date) {
            date = date.next_day().expect("within the calendar");
        }
        holidays.insert(date);
    }
    holidays
}

/// Whether `date` is a bank holiday in England and Wales.
pub fn is_bank_holiday(date: Date) -> bool {
    let (dates, last_year) = listed();
    if date.year() <= *last_year { dates.contains(&date) } else { standing_rules(date.year()).contains(&date) }
}

/// The bank holidays from `from` to `to`, both included, in order.
pub fn bank_holidays_between(from: Date, to: Date) -> Vec<Date> {
    let mut found = Vec::new();
    let mut day = from;
    while day <= to {
        if is_bank_holiday(day) {
            found.push(day);
        }
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    found
}

/// The day it is in the United Kingdom at the moment `utc`: British Summer
/// Time (an hour ahead of UTC) runs from 01:00 UTC on the last Sunday of
/// March to 01:00 UTC on the last Sunday of October. A referral made just
/// after midnight in summer is dated that day, not the day before.
pub fn uk_date(utc: time::OffsetDateTime) -> Date {
    let utc = utc.to_offset(time::UtcOffset::UTC);
    let year = utc.year();
    let last_sunday = |month: Month| {
        let mut day = Date::from_calendar_date(year, month, 31).unwrap_or(utc.date());
        while day.weekday() != Weekday::Sunday {
            day = day.previous_day().unwrap_or(day);
        }
        day.with_hms(1, 0, 0).map(|moment| moment.assume_utc()).unwrap_or(utc)
    };
    let summer = utc >= last_sunday(Month::March) && utc < last_sunday(Month::October);
    if summer { (utc + time::Duration::hours(1)).date() } else { utc.date() }
}

/// Whether `date` is a working day: a weekday that is not a bank holiday.
pub fn is_working_day(date: Date) -> bool {
    !is_weekend(date) && !is_bank_holiday(date)
}

/// The working day `count` working days after `date` (the day itself not
/// counted, whether or not it is a working day), or the calendar's last
/// day if it ends first.
pub fn add_working_days(date: Date, count: u32) -> Date {
    let mut day = date;
    let mut left = count;
    while left > 0 {
        let Some(next) = day.next_day() else { return day };
        day = next;
        if is_working_day(day) {
            left -= 1;
        }
    }
    day
}

/// Working days after `from` up to and including `to` (0 when `to` is not
/// after `from`).
pub fn working_days_between(from: Date, to: Date) -> u32 {
    let mut count = 0;
    let mut day = from;
    while day < to {
        day = day.next_day().expect("within the calendar");
        if is_working_day(day) {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn easter_is_where_the_almanacs_put_it() {
        for (year, sunday) in [
            (2019, date!(2019 - 04 - 21)),
            (2024, date!(2024 - 03 - 31)),
            (2025, date!(2025 - 04 - 20)),
            (2038, date!(2038 - 04 - 25)),
            (2285, date!(2285 - 03 - 22)),
        ] {
            assert_eq!(easter_sunday(year), sunday);
        }
    }

    #[test]
    fn the_standing_rules_give_the_listed_years_without_one_offs() {
        // 2024 to 2028 had no proclaimed one-off: the rules alone give them.
        let (dates, _) = listed();
        for year in 2024..=2028 {
            let year_listed: BTreeSet<Date> = dates.iter().copied().filter(|date| date.year() == year).collect();
            assert_eq!(standing_rules(year), year_listed, "{year}");
        }
        // 2022 had the Platinum Jubilee and the State Funeral: the list holds them.
        assert!(is_bank_holiday(date!(2022 - 06 - 03)) && is_bank_holiday(date!(2022 - 09 - 19)));
        assert!(!is_bank_holiday(date!(2022 - 05 - 30)), "the spring bank holiday moved to 2 June that year");
    }

    #[test]
    fn years_past_the_list_follow_the_rules_with_substitute_days() {
        // 2033: Christmas on a Sunday, so Boxing Day stays and Christmas
        // moves to the Tuesday.
        assert!(is_bank_holiday(date!(2033 - 12 - 26)) && is_bank_holiday(date!(2033 - 12 - 27)));
        assert!(!is_bank_holiday(date!(2033 - 12 - 25)));
        // 2032: Christmas on a Saturday, Boxing Day on a Sunday.
        assert_eq!(bank_holidays_between(date!(2032 - 12 - 20), date!(2032 - 12 - 31)), [date!(2032 - 12 - 27), date!(2032 - 12 - 28)]);
    }

    #[test]
    fn the_uk_day_follows_british_summer_time() {
        use time::macros::datetime;
        // 2026: BST from 01:00 UTC on 29 March to 01:00 UTC on 25 October.
        assert_eq!(uk_date(datetime!(2026-06-30 23:30 UTC)), date!(2026 - 07 - 01), "half past midnight in summer is the next day");
        assert_eq!(uk_date(datetime!(2026-12-31 23:30 UTC)), date!(2026 - 12 - 31), "in winter the UK keeps UTC");
        assert_eq!(uk_date(datetime!(2026-03-28 23:30 UTC)), date!(2026 - 03 - 28), "the night before the clocks go forward");
        assert_eq!(uk_date(datetime!(2026-03-29 23:30 UTC)), date!(2026 - 03 - 30), "the first night of summer time");
        assert_eq!(uk_date(datetime!(2026-10-24 23:30 UTC)), date!(2026 - 10 - 25), "the last night of summer time");
        assert_eq!(uk_date(datetime!(2026-10-25 23:30 UTC)), date!(2026 - 10 - 25), "the clocks have gone back");
    }

    #[test]
    fn christmas_and_new_year_cost_several_working_days() {
        // Christmas 2026 is a Friday and Boxing Day a Saturday (substitute
        // Monday 28th).
        assert!(!is_working_day(date!(2026 - 12 - 25)));
        assert!(!is_working_day(date!(2026 - 12 - 28)));
        assert!(is_working_day(date!(2026 - 12 - 29)));
        assert_eq!(add_working_days(date!(2026 - 12 - 23), 5), date!(2027 - 01 - 04));
        assert_eq!(working_days_between(date!(2026 - 12 - 23), date!(2027 - 01 - 04)), 5);
    }

    #[test]
    fn easter_and_the_early_may_bank_holiday_are_skipped() {
        // Maundy Thursday 2027 (25 March): Good Friday and Easter Monday
        // are not working days.
        assert_eq!(add_working_days(date!(2027 - 03 - 25), 5), date!(2027 - 04 - 05));
        // Thursday 30 April 2026: Monday 4 May is the early May bank holiday.
        assert_eq!(add_working_days(date!(2026 - 04 - 30), 5), date!(2026 - 05 - 08));
    }

    #[test]
    fn a_weekend_day_is_not_counted_itself() {
        assert_eq!(add_working_days(date!(2026 - 12 - 05), 1), date!(2026 - 12 - 07), "Saturday, then Monday");
        assert_eq!(add_working_days(date!(2026 - 12 - 07), 0), date!(2026 - 12 - 07));
        assert_eq!(working_days_between(date!(2026 - 12 - 07), date!(2026 - 12 - 07)), 0);
        assert_eq!(working_days_between(date!(2026 - 12 - 11), date!(2026 - 12 - 07)), 0);
    }
}
