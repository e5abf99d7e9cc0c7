//! Counting potential victims in the Home Office's NRM statistics'
//! dimensions, and keeping small counts in the workspace.
//!
//! The statistics group exploitation as labour, sexual, criminal, domestic
//! servitude, or not specified or unknown (with county lines flagged), and
//! age as at exploitation, adult or child. A count below the publication
//! threshold could point at one person, so a table that leaves the
//! workspace for a partner shows it as "fewer than" the threshold, and when
//! a row or column total would give such a cell away, the next smallest
//! cell beside it is held back too.

use super::{AgeAssessment, ExploitationType};

/// The smallest count that leaves the workspace for a partner unless
/// configured otherwise: the Counter Trafficking Data Collaborative
/// publishes victim data k-anonymised with k = 11.
pub const PUBLICATION_THRESHOLD: u64 = 11;

/// The exploitation categories of the Home Office's NRM statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatisticsCategory {
    Labour,
    Sexual,
    Criminal,
    DomesticServitude,
    NotSpecifiedOrUnknown,
}

impl StatisticsCategory {
    pub const ALL: [StatisticsCategory; 5] = [
        StatisticsCategory::Labour,
        StatisticsCategory::Sexual,
        StatisticsCategory::Criminal,
        StatisticsCategory::DomesticServitude,
        StatisticsCategory::NotSpecifiedOrUnknown,
    ];

    pub fn label(self) -> &'static str {
        match self {
            StatisticsCategory::Labour => "Labour exploitation",
            StatisticsCategory::Sexual => "Sexual exploitation",
            StatisticsCategory::Criminal => "Criminal exploitation",
            StatisticsCategory::DomesticServitude => "Domestic servitude",
            StatisticsCategory::NotSpecifiedOrUnknown => "Not specified or unknown",
        }
    }
}

/// The categories a person is counted under: one per type recorded, and
/// "not specified or unknown" when none of the statistics' own was
/// (nothing recorded, organ removal or other).
pub fn categories(types: &[ExploitationType]) -> Vec<StatisticsCategory> {
    let mut found: Vec<StatisticsCategory> = types
        .iter()
        .filter_map(|kind| match kind {
            ExploitationType::Labour => Some(StatisticsCategory::Labour),
            ExploitationType::Sexual => Some(StatisticsCategory::Sexual),
            ExploitationType::Criminal => Some(StatisticsCategory::Criminal),
            ExploitationType::DomesticServitude => Some(StatisticsCategory::DomesticServitude),
            ExploitationType::OrganRemoval | ExploitationType::Other => None,
        })
        .collect();
    found.sort();
    found.dedup();
    if found.is_empty() {
        found.push(StatisticsCategory::NotSpecifiedOrUnknown);
    }
    found
}

/// Age as the statistics give it: a child (under 18, or possibly under 18,
/// as the NRM treats them) or an adult.
pub fn age_group(age: AgeAssessment) -> &'static str {
    if age.is_child_path() { "Child" } else { "Adult" }
}

/// A calendar quarter, as the Home Office's quarterly NRM statistics count
/// referrals (January to March is the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub number: u8,
}

impl Quarter {
    /// The quarter `day` falls in.
    pub fn of(day: time::Date) -> Self {
        Quarter { year: day.year(), number: (day.month() as u8 - 1) / 3 + 1 }
    }

    /// `2026-Q3` (any case, spaces ignored); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let text: String = text.chars().filter(|character| !character.is_whitespace()).collect::<String>().to_ascii_uppercase();
        let (year, number) = text.split_once("-Q")?;
        let year: i32 = year.parse().ok().filter(|year| (1900..=9999).contains(year))?;
        let number: u8 = number.parse().ok().filter(|number| (1..=4).contains(number))?;
        Some(Quarter { year, number })
    }

    /// The first and last days.
    pub fn days(self) -> (time::Date, time::Date) {
        let month = |number: u8| time::Month::try_from(number).unwrap_or(time::Month::January);
        let first = time::Date::from_calendar_date(self.year, month((self.number - 1) * 3 + 1), 1).unwrap_or(time::Date::MIN);
        let last_month = month(self.number * 3);
        let last = time::Date::from_calendar_date(self.year, last_month, last_month.length(self.year)).unwrap_or(time::Date::MIN);
        (first, last)
    }

    pub fn contains(self, day: time::Date) -> bool {
        let (first, last) = self.days();
        (first..=last).contains(&day)
    }

    /// The quarter before.
    pub fn previous(self) -> Self {
        if self.number == 1 { Quarter { year: self.year - 1, number: 4 } } else { Quarter { year: self.year, number: self.number - 1 } }
    }

    /// `2026-Q3`.
    pub fn code(self) -> String {
        format!("{}-Q{}", self.year, self.number)
    }

    /// `July to September 2026`, as the statistics name their quarters.
    pub fn label(self) -> String {
        let months = ["January to March", "April to June", "July to September", "October to December"];
        format!("{} {}", months[usize::from(self.number - 1)], self.year)
    }
}

/// The share of decisions that were positive, in whole percent; `None`
/// when no decision was made.
pub fn share_positive(positive: u64, negative: u64) -> Option<u64> {
    let total = positive + negative;
    (total > 0).then(|| (positive * 100 + total / 2) / total)
}

/// A cell of a table as it may leave the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Count(u64),
    /// Held back: a count below the threshold, or one that would give such
    /// a count away through a total.
    Suppressed,
}

/// Holds back every count from 1 to `threshold - 1` (zero is shown: it
/// points at nobody), then, row by row and column by column until nothing
/// changes, a second cell wherever a line has exactly one held back (or its
/// total would give that one away): the smallest count left in the line.
pub fn suppress(table: &[Vec<u64>], threshold: u64) -> Vec<Vec<Cell>> {
    let mut cells: Vec<Vec<Cell>> =
        table.iter().map(|row| row.iter().map(|count| if (1..threshold).contains(count) { Cell::Suppressed } else { Cell::Count(*count) }).collect()).collect();
    let width = table.iter().map(Vec::len).max().unwrap_or(0);
    loop {
        let mut changed = false;
        for row in 0..cells.len() {
            let line: Vec<(usize, usize)> = (0..cells[row].len()).map(|column| (row, column)).collect();
            changed |= protect_line(&mut cells, &line);
        }
        for column in 0..width {
            let line: Vec<(usize, usize)> = (0..cells.len()).filter(|row| column < cells[*row].len()).map(|row| (row, column)).collect();
            changed |= protect_line(&mut cells, &line);
        }
        if !changed {
            return cells;
        }
    }
}

/// In one line of cells, when exactly one is held back, holds back the
/// smallest other count above zero too; `true` when it changed a cell.
fn protect_line(cells: &mut [Vec<Cell>], line: &[(usize, usize)]) -> bool {
    let held = line.iter().filter(|(row, column)| cells[*row][*column] == Cell::Suppressed).count();
    if held != 1 {
        return false;
    }
    let smallest = line
        .iter()
        .filter_map(|(row, column)| match cells[*row][*column] {
            Cell::Count(count) if count > 0 => Some((count, *row, *column)),
            _ => None,
        })
        .min();
    match smallest {
        Some((_, row, column)) => {
            cells[row][column] = Cell::Suppressed;
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_are_calendar_quarters_read_and_named_as_the_statistics_do() {
        use time::macros::date;
        let third = Quarter::of(date!(2026 - 08 - 31));
        assert_eq!(third, Quarter { year: 2026, number: 3 });
        assert_eq!(third.days(), (date!(2026 - 07 - 01), date!(2026 - 09 - 30)));
        assert_eq!(Quarter { year: 2024, number: 1 }.days().1, date!(2024 - 03 - 31));
        assert!(third.contains(date!(2026 - 07 - 01)) && third.contains(date!(2026 - 09 - 30)) && !third.contains(date!(2026 - 10 - 01)));
        assert_eq!(Quarter::parse(" 2026-q3 "), Some(third));
        assert_eq!(third.code(), "2026-Q3");
        assert_eq!(third.label(), "July to September 2026");
        assert_eq!(Quarter { year: 2026, number: 1 }.previous(), Quarter { year: 2025, number: 4 });
        for bad in ["2026-Q5", "2026-Q0", "2026", "Q3-2026", "99999-Q1", "", "2026-Q3x"] {
            assert_eq!(Quarter::parse(bad), None, "{bad}");
        }
        assert_eq!(share_positive(0, 0), None);
        assert_eq!(share_positive(2, 1), Some(67));
        assert_eq!(share_positive(1, 0), Some(100));
    }

    #[test]
    fn types_map_to_the_statistics_categories() {
        use ExploitationType::*;
        assert_eq!(categories(&[Sexual, Labour, Sexual]), [StatisticsCategory::Labour, StatisticsCategory::Sexual]);
        assert_eq!(categories(&[OrganRemoval]), [StatisticsCategory::NotSpecifiedOrUnknown]);
        assert_eq!(categories(&[]), [StatisticsCategory::NotSpecifiedOrUnknown]);
        assert_eq!(categories(&[Other, Criminal]), [StatisticsCategory::Criminal]);
        assert_eq!(age_group(AgeAssessment::PossiblyChild), "Child");
        assert_eq!(age_group(AgeAssessment::Adult), "Adult");
    }

    fn held(cells: &[Vec<Cell>]) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        for (row, line) in cells.iter().enumerate() {
            for (column, cell) in line.iter().enumerate() {
                if *cell == Cell::Suppressed {
                    found.push((row, column));
                }
            }
        }
        found
    }

    #[test]
    fn small_counts_are_held_back_and_zero_is_shown() {
        let cells = suppress(&[vec![0, 40, 3], vec![25, 12, 30]], PUBLICATION_THRESHOLD);
        // The 3 is small; its row then holds back the 40 (the only other
        // count above zero), and the columns of the two hold back the 12
        // and the 30, which leaves two held back in the second row too.
        assert_eq!(held(&cells), [(0, 1), (0, 2), (1, 1), (1, 2)]);
        assert_eq!(cells[0][0], Cell::Count(0));
        assert_eq!(cells[1][0], Cell::Count(25));
    }

    #[test]
    fn no_line_has_exactly_one_cell_held_back() {
        let table = vec![vec![15, 2, 30, 44], vec![18, 19, 5, 60], vec![70, 80, 90, 100]];
        let cells = suppress(&table, 11);
        for row in &cells {
            assert_ne!(row.iter().filter(|cell| **cell == Cell::Suppressed).count(), 1);
        }
        for column in 0..4 {
            assert_ne!(cells.iter().filter(|row| row[column] == Cell::Suppressed).count(), 1, "column {column}");
        }
        // Every small count is held back, and large ones only as needed.
        assert_eq!(cells[0][1], Cell::Suppressed);
        assert_eq!(cells[1][2], Cell::Suppressed);
        assert_eq!(cells[2][3], Cell::Count(100));
    }

    #[test]
    fn a_table_without_small_counts_is_shown_whole() {
        let table = vec![vec![11, 12], vec![0, 400]];
        assert!(held(&suppress(&table, 11)).is_empty());
        assert_eq!(suppress(&[], 11), Vec::<Vec<Cell>>::new());
    }
}
