//! The files of `aidant link`: CSV (any delimiter) and Parquet in, CSV or Parquet out.
//!
//! aidant-link reads no files: this module opens them, splits Parquet rows into text and hands
//! them to `aidant_link::record::read_rows` (CSV goes to `read_csv_with`), so both formats share
//! the column mapping, checks, diagnostics and warnings, and writes the results.

use aidant_link::record::{InputError, InputOptions, ParsedInput, read_csv_with, read_leaving_out_constant_columns, read_rows};
use aidant_link::spec::ModelSpec;
use anyhow::Context;
use parquet::basic::{Compression, LogicalType, TimeUnit};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;

/// The four bytes a Parquet file starts (and ends) with.
const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// A file format `aidant link` reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    Csv,
    Parquet,
}

impl FileFormat {
    /// Parquet when the file name ends in `.parquet`, otherwise CSV.
    pub fn of_extension(path: &Path) -> FileFormat {
        let parquet = path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("parquet"));
        if parquet { FileFormat::Parquet } else { FileFormat::Csv }
    }

    /// An input's format: by its extension, or by Parquet's magic bytes at its start.
    fn of_input(path: &Path) -> anyhow::Result<FileFormat> {
        if FileFormat::of_extension(path) == FileFormat::Parquet {
            return Ok(FileFormat::Parquet);
        }
        let mut start = [0u8; 4];
        let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let read = file.read(&mut start).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(if read == 4 && &start == PARQUET_MAGIC { FileFormat::Parquet } else { FileFormat::Csv })
    }
}

/// Reads one input file, CSV or Parquet; a constant column is left out by reading the file again
/// without it (`read_leaving_out_constant_columns`).
pub fn read_input(path: &Path, delimiter: Option<u8>, model: &ModelSpec, source: u16) -> anyhow::Result<(FileFormat, ParsedInput)> {
    let format = FileFormat::of_input(path)?;
    let parsed = read_leaving_out_constant_columns(|leave_out| -> anyhow::Result<ParsedInput> {
        let options = InputOptions { delimiter, leave_out: leave_out.to_vec(), model: model.clone() };
        match format {
            FileFormat::Csv => {
                let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
                Ok(read_csv_with(BufReader::with_capacity(1 << 20, file), &options, source)?)
            }
            FileFormat::Parquet => read_parquet(path, &options, source),
        }
    })?;
    Ok((format, parsed))
}

/// How the values of a Parquet column become text, beyond what the record API does itself.
#[derive(Debug, Clone, Copy)]
enum ColumnKind {
    Plain,
    /// 64-bit integers that are timestamps in this unit (nanoseconds reach us as plain integers).
    Timestamp(TimeUnit),
}

/// Reads a Parquet file's top-level columns as text: strings as they are, integers and decimals
/// in decimal, dates as YYYY-MM-DD, timestamps as YYYY-MM-DD at midnight and YYYY-MM-DDTHH:MM:SS
/// otherwise, floats without a trailing ".0" (a postcode or an id stored as a float), nulls and NaN
/// as blank. A bad value or a missing column is named by row and column, as in a CSV.
fn read_parquet(path: &Path, options: &InputOptions, source: u16) -> anyhow::Result<ParsedInput> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader = SerializedFileReader::new(file).with_context(|| format!("{} is not a Parquet file this build can read", path.display()))?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let columns = schema.root_schema().get_fields();
    let header: Vec<String> = columns.iter().map(|column| column.name().to_string()).collect();
    let kinds: Vec<ColumnKind> = columns
        .iter()
        .map(|column| match column.get_basic_info().logical_type_ref() {
            Some(LogicalType::Timestamp(timestamp)) => ColumnKind::Timestamp(timestamp.unit),
            _ => ColumnKind::Plain,
        })
        .collect();
    let rows = reader.get_row_iter(None).with_context(|| format!("cannot read the rows of {}", path.display()))?;
    let text_rows = rows.enumerate().map(|(position, row)| {
        let row_number = position as u64 + 1;
        let row = row.map_err(|error| {
            let message = error.to_string();
            let message = if message.contains("Disabled feature") {
                format!("{message}: this build reads Parquet compressed with Snappy, zstd, gzip or LZ4 (or not at all); write the file again with one of them")
            } else {
                message
            };
            InputError::Malformed { row: row_number, message }
        })?;
        row.into_columns()
            .into_iter()
            .zip(&kinds)
            .map(|((column, value), kind)| field_text(value, *kind).map_err(|()| InputError::Encoding { row: row_number, column }))
            .collect::<Result<Vec<Option<String>>, InputError>>()
    });
    Ok(read_rows(&header, text_rows, options, source)?)
}

/// One Parquet value as text (see `read_parquet`); `Err` for bytes that are not UTF-8.
fn field_text(value: Field, kind: ColumnKind) -> Result<Option<String>, ()> {
    Ok(match value {
        Field::Null => None,
        Field::Str(text) => Some(text),
        Field::Bytes(bytes) => Some(String::from_utf8(bytes.data().to_vec()).map_err(|_| ())?),
        Field::Bool(value) => Some(value.to_string()),
        Field::Byte(value) => Some(value.to_string()),
        Field::Short(value) => Some(value.to_string()),
        Field::Int(value) => Some(value.to_string()),
        Field::Long(value) => match kind {
            ColumnKind::Timestamp(unit) => timestamp_text(value, unit),
            ColumnKind::Plain => Some(value.to_string()),
        },
        Field::UByte(value) => Some(value.to_string()),
        Field::UShort(value) => Some(value.to_string()),
        Field::UInt(value) => Some(value.to_string()),
        Field::ULong(value) => Some(value.to_string()),
        Field::Float16(value) => float_text(f64::from(value)),
        Field::Float(value) => float_text(f64::from(value)),
        Field::Double(value) => float_text(value),
        Field::Date(days) => time::Date::from_julian_day(days.saturating_add(UNIX_EPOCH_JULIAN_DAY))
            .ok()
            .map(|date| format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())),
        Field::TimestampMillis(value) => timestamp_text(value, TimeUnit::MILLIS),
        Field::TimestampMicros(value) => timestamp_text(value, TimeUnit::MICROS),
        // Decimals, times of day and nested values in the record API's own notation; a column
        // of such values fills no person field, and is reported as not used.
        other => Some(other.to_string()),
    })
}

/// The Julian day of 1 January 1970, from which Parquet counts dates.
const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

fn timestamp_text(value: i64, unit: TimeUnit) -> Option<String> {
    let nanoseconds_per_unit: i128 = match unit {
        TimeUnit::MILLIS => 1_000_000,
        TimeUnit::MICROS => 1_000,
        TimeUnit::NANOS => 1,
    };
    let moment = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(value) * nanoseconds_per_unit).ok()?;
    let date = format!("{:04}-{:02}-{:02}", moment.year(), u8::from(moment.month()), moment.day());
    if moment.time() == time::Time::MIDNIGHT { Some(date) } else { Some(format!("{date}T{:02}:{:02}:{:02}", moment.hour(), moment.minute(), moment.second())) }
}

fn float_text(value: f64) -> Option<String> {
    if value.is_nan() {
        None
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        Some(format!("{value:.0}"))
    } else {
        Some(value.to_string())
    }
}

/// A column of an output table: its name and its value in each row, computed as it is written,
/// so that tens of millions of pairs are never held as text at once.
pub enum OutputColumn<'a> {
    Text(&'static str, Box<dyn Fn(usize) -> &'a str + 'a>),
    /// A number, written in CSV with this many decimals.
    Number(&'static str, usize, Box<dyn Fn(usize) -> f64 + 'a>),
}

impl OutputColumn<'_> {
    fn name(&self) -> &'static str {
        match self {
            OutputColumn::Text(name, _) | OutputColumn::Number(name, _, _) => name,
        }
    }
}

/// Rows per Parquet row group: large enough to compress well, small enough to write in bounded memory.
const ROW_GROUP_ROWS: usize = 1 << 20;

/// Writes a table of `rows` rows to `path` as CSV or Parquet. A file depends only on the table:
/// no timestamps, and numbers in CSV with fixed decimals.
pub fn write_table(path: &Path, format: FileFormat, rows: usize, columns: &[OutputColumn]) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let written = match format {
        FileFormat::Csv => write_csv(BufWriter::with_capacity(1 << 20, file), rows, columns),
        FileFormat::Parquet => write_parquet(file, rows, columns),
    };
    written.with_context(|| format!("cannot write {}", path.display()))
}

fn write_csv(mut output: impl Write, rows: usize, columns: &[OutputColumn]) -> anyhow::Result<()> {
    let names: Vec<&str> = columns.iter().map(OutputColumn::name).collect();
    writeln!(output, "{}", names.join(","))?;
    for row in 0..rows {
        for (position, column) in columns.iter().enumerate() {
            if position > 0 {
                output.write_all(b",")?;
            }
            match column {
                OutputColumn::Text(_, value) => output.write_all(csv_escape(value(row)).as_bytes())?,
                OutputColumn::Number(_, decimals, value) => write!(output, "{:.*}", decimals, value(row))?,
            }
        }
        output.write_all(b"\n")?;
    }
    output.flush()?;
    Ok(())
}

fn write_parquet(file: File, rows: usize, columns: &[OutputColumn]) -> anyhow::Result<()> {
    let fields: Vec<String> = columns
        .iter()
        .map(|column| match column {
            OutputColumn::Text(name, _) => format!("required binary {name} (UTF8);"),
            OutputColumn::Number(name, _, _) => format!("required double {name};"),
        })
        .collect();
    let schema = Arc::new(parquet::schema::parser::parse_message_type(&format!("message aidant_link {{ {} }}", fields.join(" ")))?);
    // Snappy: what most Parquet readers expect by default, and fast. The created-by string is
    // fixed, so a file depends only on its rows.
    let properties = Arc::new(WriterProperties::builder().set_compression(Compression::SNAPPY).set_created_by("aidant link".to_string()).build());
    let mut writer = SerializedFileWriter::new(BufWriter::with_capacity(1 << 20, file), schema, properties)?;
    for start in (0..rows).step_by(ROW_GROUP_ROWS) {
        let range = start..(start + ROW_GROUP_ROWS).min(rows);
        let mut row_group = writer.next_row_group()?;
        for column in columns {
            let mut column_writer = row_group.next_column()?.context("the schema has a column for every output column")?;
            match column {
                OutputColumn::Text(_, value) => {
                    let values: Vec<ByteArray> = range.clone().map(|row| ByteArray::from(value(row))).collect();
                    column_writer.typed::<ByteArrayType>().write_batch(&values, None, None)?;
                }
                OutputColumn::Number(_, _, value) => {
                    let values: Vec<f64> = range.clone().map(value).collect();
                    column_writer.typed::<DoubleType>().write_batch(&values, None, None)?;
                }
            }
            column_writer.close()?;
        }
        row_group.close()?;
    }
    writer.close()?;
    Ok(())
}

fn csv_escape(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")).into() } else { text.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parquet_values_become_the_text_a_person_would_write() {
        assert_eq!(field_text(Field::Date(0), ColumnKind::Plain), Ok(Some("1970-01-01".into())));
        assert_eq!(field_text(Field::Date(5_549), ColumnKind::Plain), Ok(Some("1985-03-12".into())));
        assert_eq!(field_text(Field::Date(-3_653), ColumnKind::Plain), Ok(Some("1960-01-01".into())));
        let midnight_1985_03_12_ms = 5_549 * 86_400_000;
        assert_eq!(field_text(Field::TimestampMillis(midnight_1985_03_12_ms), ColumnKind::Plain), Ok(Some("1985-03-12".into())));
        assert_eq!(
            field_text(Field::TimestampMicros(midnight_1985_03_12_ms * 1_000 + 3_600_000_000), ColumnKind::Plain),
            Ok(Some("1985-03-12T01:00:00".into()))
        );
        let nanoseconds = midnight_1985_03_12_ms * 1_000_000;
        assert_eq!(field_text(Field::Long(nanoseconds), ColumnKind::Timestamp(TimeUnit::NANOS)), Ok(Some("1985-03-12".into())));
        assert_eq!(field_text(Field::Long(nanoseconds), ColumnKind::Plain), Ok(Some(nanoseconds.to_string())));
        assert_eq!(field_text(Field::Double(2600.0), ColumnKind::Plain), Ok(Some("2600".into())));
        assert_eq!(field_text(Field::Double(0.5), ColumnKind::Plain), Ok(Some("0.5".into())));
        assert_eq!(field_text(Field::Double(f64::NAN), ColumnKind::Plain), Ok(None));
        assert_eq!(field_text(Field::Null, ColumnKind::Plain), Ok(None));
        assert_eq!(field_text(Field::Int(42), ColumnKind::Plain), Ok(Some("42".into())));
        assert_eq!(field_text(Field::Str("Ion".into()), ColumnKind::Plain), Ok(Some("Ion".into())));
        assert_eq!(field_text(Field::Bytes(ByteArray::from(vec![0xffu8, 0xfe])), ColumnKind::Plain), Err(()));
    }

    #[test]
    fn tables_are_written_as_csv_or_parquet_and_read_back() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let ids = ["1", "a,\"b\""];
        let files = ["people.csv", "b.parquet"];
        let probabilities = [0.5, 0.123_456_789];
        let columns = || {
            [
                OutputColumn::Text("record_id", Box::new(|row| ids[row])),
                OutputColumn::Text("source_file", Box::new(|row| files[row])),
                OutputColumn::Number("match_probability", 6, Box::new(|row| probabilities[row])),
            ]
        };
        let csv = directory.path().join("t.csv");
        write_table(&csv, FileFormat::Csv, 2, &columns()).expect("csv written");
        assert_eq!(
            std::fs::read_to_string(&csv).expect("read"),
            "record_id,source_file,match_probability\n1,people.csv,0.500000\n\"a,\"\"b\"\"\",b.parquet,0.123457\n"
        );
        let parquet = directory.path().join("t.parquet");
        write_table(&parquet, FileFormat::Parquet, 2, &columns()).expect("parquet written");
        let bytes = std::fs::read(&parquet).expect("read");
        assert_eq!(&bytes[..4], PARQUET_MAGIC);
        let reader = SerializedFileReader::new(File::open(&parquet).expect("open")).expect("a parquet file");
        let rows: Vec<String> = reader.get_row_iter(None).expect("rows").map(|row| row.expect("row").to_string()).collect();
        assert_eq!(
            rows,
            vec![
                r#"{record_id: "1", source_file: "people.csv", match_probability: 0.5}"#,
                r#"{record_id: "a,"b"", source_file: "b.parquet", match_probability: 0.123456789}"#
            ]
        );
        let again = directory.path().join("again.parquet");
        write_table(&again, FileFormat::Parquet, 2, &columns()).expect("parquet written");
        assert_eq!(std::fs::read(&again).expect("read"), bytes, "the same table gives the same bytes");
        let empty = directory.path().join("empty.parquet");
        write_table(&empty, FileFormat::Parquet, 0, &columns()).expect("an empty table is written");
        let reader = SerializedFileReader::new(File::open(&empty).expect("open")).expect("a parquet file");
        assert_eq!(reader.get_row_iter(None).expect("rows").count(), 0);
    }
}
