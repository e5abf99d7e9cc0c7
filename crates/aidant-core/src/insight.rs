//! Insight: what the dashboards count and how, without storage. The filter
//! a person types (a date range and an area) is parsed here with every
//! problem by field; counts are kept in a fixed order of categories so each
//! chart, its table and its CSV agree; and the few derived measures (the
//! week a report fell in, how long a report waited for its first look) are
//! defined once.

use std::collections::BTreeMap;

use time::{Date, Duration, Month, OffsetDateTime};

use crate::report::FieldError;

/// The longest range a dashboard covers (about five years): a wider one
/// is almost certainly a typing mistake and would draw hundreds of weeks.
pub const MAX_RANGE_DAYS: i64 = 5 * 366;

/// What a dashboard covers: received (or written) from `from` to `to`,
/// both days included, in an area (a postcode district or a town) or
/// everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightFilter {
    pub from: Date,
    pub to: Date,
    /// A postcode district (`LU1`) or a town, as the queue's area filter.
    pub area: Option<String>,
}

/// The filter as typed (`YYYY-MM-DD` dates; empty means the default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterAnswers<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub area: &'a str,
}

impl InsightFilter {
    /// The last 26 weeks up to `today`.
    pub fn default_for(today: Date) -> Self {
        Self { from: today - Duration::weeks(26) + Duration::days(1), to: today, area: None }
    }

    /// Parses the filter; every problem by field. A range that ends in the
    /// future is cut at `today` (nothing has been received there yet); one
    /// that starts after `today` is a problem.
    pub fn parse(answers: &FilterAnswers<'_>, today: Date) -> Result<Self, Vec<FieldError>> {
        let default = Self::default_for(today);
        let mut errors = Vec::new();
        let mut date = |field: &str, text: &str, fallback: Date, name: &str| -> Date {
            let text = text.trim();
            if text.is_empty() {
                return fallback;
            }
            match crate::text::parse_iso_date(text) {
                Some(date) => date,
                None => {
                    errors.push(FieldError { field: field.to_owned(), message: format!("Enter the {name} as a real date, for example 2026-01-31") });
                    fallback
                }
            }
        };
        let from = date("from", answers.from, default.from, "start date");
        let to = date("to", answers.to, default.to, "end date");
        if errors.is_empty() {
            if from > today {
                errors.push(FieldError {
                    field: "from".to_owned(),
                    message: "The start date is in the future: nothing has been received yet. Choose a start date today or earlier".to_owned(),
                });
            } else if from > to {
                errors.push(FieldError { field: "to".to_owned(), message: "The end date must be the same as or after the start date".to_owned() });
            } else if (to.min(today) - from).whole_days() > MAX_RANGE_DAYS {
                errors.push(FieldError { field: "from".to_owned(), message: "Choose a range of five years or less".to_owned() });
            }
        }
        let area = answers.area.trim();
        if area.chars().count() > 60 {
            errors.push(FieldError { field: "area".to_owned(), message: "Enter a postcode district or a town of 60 characters or fewer".to_owned() });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self { from, to: to.min(today), area: (!area.is_empty()).then(|| area.to_owned()) })
    }

    /// The range as Unix milliseconds: from the start of `from` to the end
    /// of `to` (exclusive), UTC.
    pub fn range_ms(&self) -> (i64, i64) {
        let start = day_start_ms(self.from);
        let end = day_start_ms(self.to.next_day().unwrap_or(self.to));
        (start, end)
    }

    /// Every week (by its Monday) the range touches, oldest first.
    pub fn weeks(&self) -> Vec<Date> {
        let mut weeks = Vec::new();
        let mut monday = week_of(self.from);
        while monday <= self.to {
            weeks.push(monday);
            monday += Duration::weeks(1);
        }
        weeks
    }
}

fn day_start_ms(date: Date) -> i64 {
    (date.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The Monday of the week `date` falls in.
pub fn week_of(date: Date) -> Date {
    date - Duration::days(i64::from(date.weekday().number_days_from_monday()))
}

/// The day (UTC) of a time in Unix milliseconds.
pub fn day_of_ms(unix_ms: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000)).map(|at| at.date()).unwrap_or(Date::MIN)
}

/// How long a report waited before anyone in the workspace opened it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FirstLook {
    WithinAnHour,
    WithinFourHours,
    WithinADay,
    WithinThreeDays,
    Longer,
    NotYet,
}

impl FirstLook {
    pub const ALL: [FirstLook; 6] =
        [FirstLook::WithinAnHour, FirstLook::WithinFourHours, FirstLook::WithinADay, FirstLook::WithinThreeDays, FirstLook::Longer, FirstLook::NotYet];

    /// The bands with an upper bound, shortest first: a wait of at most
    /// the bound (in milliseconds) falls in the band. A longer one is
    /// `Longer`; a report never opened is `NotYet`.
    pub const BOUNDED: [(FirstLook, i64); 4] = [
        (FirstLook::WithinAnHour, 60 * 60 * 1000),
        (FirstLook::WithinFourHours, 4 * 60 * 60 * 1000),
        (FirstLook::WithinADay, 24 * 60 * 60 * 1000),
        (FirstLook::WithinThreeDays, 72 * 60 * 60 * 1000),
    ];

    /// The band of a report received at `received_ms` and first opened at
    /// `opened_ms` (or never).
    pub fn of(received_ms: i64, opened_ms: Option<i64>) -> Self {
        let Some(opened_ms) = opened_ms else { return FirstLook::NotYet };
        let wait = opened_ms.saturating_sub(received_ms);
        Self::BOUNDED.iter().find(|(_, bound)| wait <= *bound).map_or(FirstLook::Longer, |(band, _)| *band)
    }

    /// A stable code for the band (what a database groups by).
    pub fn code(self) -> &'static str {
        match self {
            FirstLook::WithinAnHour => "hour",
            FirstLook::WithinFourHours => "four_hours",
            FirstLook::WithinADay => "day",
            FirstLook::WithinThreeDays => "three_days",
            FirstLook::Longer => "longer",
            FirstLook::NotYet => "not_yet",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|band| band.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            FirstLook::WithinAnHour => "Within an hour",
            FirstLook::WithinFourHours => "1 to 4 hours",
            FirstLook::WithinADay => "4 to 24 hours",
            FirstLook::WithinThreeDays => "1 to 3 days",
            FirstLook::Longer => "More than 3 days",
            FirstLook::NotYet => "Not opened yet",
        }
    }
}

/// Counts by category in a fixed order: the categories given first (each
/// shown even at 0), then any others met, by count and then name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    order: Vec<String>,
    counts: BTreeMap<String, i64>,
}

impl Tally {
    /// A tally that shows each of `categories` (in this order) even when
    /// nothing falls in it.
    pub fn with_categories<I: IntoIterator<Item = S>, S: Into<String>>(categories: I) -> Self {
        let order: Vec<String> = categories.into_iter().map(Into::into).collect();
        let counts = order.iter().map(|category| (category.clone(), 0)).collect();
        Self { order, counts }
    }

    pub fn add(&mut self, category: impl Into<String>) {
        self.add_many(category, 1);
    }

    pub fn add_many(&mut self, category: impl Into<String>, count: i64) {
        *self.counts.entry(category.into()).or_insert(0) += count;
    }

    /// Every category with its count, in the tally's order.
    pub fn rows(&self) -> Vec<(String, i64)> {
        let mut rows: Vec<(String, i64)> = self.order.iter().map(|category| (category.clone(), self.counts[category])).collect();
        let mut others: Vec<(String, i64)> =
            self.counts.iter().filter(|(category, _)| !self.order.contains(category)).map(|(category, count)| (category.clone(), *count)).collect();
        others.sort_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
        rows.extend(others);
        rows
    }

    /// The `limit` largest of the categories met (not the fixed ones), with
    /// the rest summed as "Other" when there are more.
    pub fn top(&self, limit: usize) -> Vec<(String, i64)> {
        let rows = self.rows();
        if rows.len() <= limit {
            return rows;
        }
        let rest: i64 = rows[limit..].iter().map(|(_, count)| count).sum();
        let mut top = rows[..limit].to_vec();
        top.push(("Other".to_owned(), rest));
        top
    }

    pub fn total(&self) -> i64 {
        self.counts.values().sum()
    }
}

/// `7 Dec 2026`: a week's Monday as a chart labels it.
pub fn short_day(date: Date) -> String {
    let month = match date.month() {
        Month::January => "Jan",
        Month::February => "Feb",
        Month::March => "Mar",
        Month::April => "Apr",
        Month::May => "May",
        Month::June => "Jun",
        Month::July => "Jul",
        Month::August => "Aug",
        Month::September => "Sep",
        Month::October => "Oct",
        Month::November => "Nov",
        Month::December => "Dec",
    };
    format!("{} {month} {}", date.day(), date.year())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn answers<'a>(from: &'a str, to: &'a str, area: &'a str) -> FilterAnswers<'a> {
        FilterAnswers { from, to, area }
    }

    fn fields(result: Result<InsightFilter, Vec<FieldError>>) -> Vec<String> {
        result.unwrap_err().into_iter().map(|error| error.field).collect()
    }

    #[test]
    fn a_filter_is_read_with_every_problem_by_field() {
        let today = date!(2026 - 12 - 07);
        assert_eq!(InsightFilter::parse(&answers("", "", ""), today), Ok(InsightFilter::default_for(today)));
        let filter = InsightFilter::parse(&answers("2026-01-01", "2026-03-31", " LU1 "), today).unwrap();
        assert_eq!((filter.from, filter.to, filter.area.as_deref()), (date!(2026 - 01 - 01), date!(2026 - 03 - 31), Some("LU1")));
        assert_eq!(fields(InsightFilter::parse(&answers("2026-13-01", "yesterday", ""), today)), ["from", "to"]);
        assert_eq!(fields(InsightFilter::parse(&answers("2026-03-01", "2026-02-01", ""), today)), ["to"], "an empty range");
        assert_eq!(fields(InsightFilter::parse(&answers("2027-01-01", "2027-02-01", ""), today)), ["from"], "a range in the future");
        assert_eq!(fields(InsightFilter::parse(&answers("2010-01-01", "2026-01-01", ""), today)), ["from"], "too long");
        assert_eq!(fields(InsightFilter::parse(&answers("", "", &"x".repeat(61)), today)), ["area"]);
        let cut = InsightFilter::parse(&answers("2026-12-01", "2027-06-01", ""), today).unwrap();
        assert_eq!(cut.to, today, "a range running into the future ends today");
    }

    #[test]
    fn the_range_covers_whole_days_and_its_weeks_start_on_mondays() {
        let filter = InsightFilter { from: date!(2026 - 12 - 02), to: date!(2026 - 12 - 15), area: None };
        let (start, end) = filter.range_ms();
        assert_eq!(day_of_ms(start), date!(2026 - 12 - 02));
        assert_eq!(day_of_ms(end - 1), date!(2026 - 12 - 15));
        assert_eq!(day_of_ms(end), date!(2026 - 12 - 16));
        assert_eq!(filter.weeks(), [date!(2026 - 11 - 30), date!(2026 - 12 - 07), date!(2026 - 12 - 14)]);
        assert!(filter.weeks().into_iter().all(|week| week.weekday() == time::Weekday::Monday));
        assert_eq!(week_of(date!(2026 - 12 - 06)), date!(2026 - 11 - 30), "a Sunday is in the week of the Monday before");
    }

    #[test]
    fn first_looks_fall_in_bands_with_their_edges_in_the_shorter_band() {
        const HOUR: i64 = 3_600_000;
        assert_eq!(FirstLook::of(0, Some(HOUR)), FirstLook::WithinAnHour);
        assert_eq!(FirstLook::of(0, Some(HOUR + 1)), FirstLook::WithinFourHours);
        assert_eq!(FirstLook::of(0, Some(24 * HOUR)), FirstLook::WithinADay);
        assert_eq!(FirstLook::of(0, Some(72 * HOUR)), FirstLook::WithinThreeDays);
        assert_eq!(FirstLook::of(0, Some(72 * HOUR + 1)), FirstLook::Longer);
        assert_eq!(FirstLook::of(0, None), FirstLook::NotYet);
        assert_eq!(FirstLook::of(10, Some(5)), FirstLook::WithinAnHour, "a clock step backwards is no wait");
        for band in FirstLook::ALL {
            assert_eq!(FirstLook::from_code(band.code()), Some(band));
        }
    }

    #[test]
    fn a_tally_keeps_its_categories_in_order_then_the_rest_by_count() {
        let mut tally = Tally::with_categories(["immediate", "high", "medium", "low"]);
        for category in ["low", "high", "low", "other", "else", "else"] {
            tally.add(category);
        }
        assert_eq!(
            tally.rows(),
            [("immediate", 0), ("high", 1), ("medium", 0), ("low", 2), ("else", 2), ("other", 1)].map(|(name, count)| (name.to_owned(), count))
        );
        assert_eq!(tally.total(), 6);
        assert_eq!(tally.top(4).last(), Some(&("Other".to_owned(), 3)));
        assert_eq!(tally.top(4).iter().map(|(_, count)| count).sum::<i64>(), 6, "nothing is lost to the cut");
    }
}
