//! A reader that follows CSV quoting as the bytes pass through it, so that a
//! quote opened and never closed stops the read naming the line where it
//! opened. Without it a CSV reader takes everything after such a quote as one
//! field and quietly reads a three-line file as one record.
//!
//! Quoting follows RFC 4180 as the `csv` crate reads it: a quote opens a
//! quoted field only at the start of a field; inside one, two quotes are one
//! quote and a single quote closes it; a quote inside an unquoted field
//! (`O"Brien`) is an ordinary character.

use std::fmt;
use std::io::{self, Read};

/// The quote opened on `line` (counted from 1, header included) was still
/// open at the end of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnclosedQuote {
    pub line: u64,
}

impl fmt::Display for UnclosedQuote {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "line {}: a quote opened here is never closed (every field that starts with \" must end with \")", self.line)
    }
}

impl std::error::Error for UnclosedQuote {}

impl UnclosedQuote {
    /// The unclosed quote an I/O error carries, when it is one.
    pub fn in_error(error: &io::Error) -> Option<UnclosedQuote> {
        error.get_ref().and_then(|inner| inner.downcast_ref::<UnclosedQuote>()).copied()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first of two.
    QuoteInQuoted,
}

/// Wraps a reader of CSV text with the given delimiter; reads fail with an
/// `InvalidData` error holding `UnclosedQuote` at the end of the input when a
/// quoted field is still open.
#[derive(Debug)]
pub struct QuoteCheck<R> {
    inner: R,
    delimiter: u8,
    state: State,
    line: u64,
    opened_on: u64,
}

impl<R> QuoteCheck<R> {
    pub fn new(inner: R, delimiter: u8) -> Self {
        Self { inner, delimiter, state: State::FieldStart, line: 1, opened_on: 0 }
    }

    fn step(&mut self, byte: u8) {
        let end_of_field = byte == self.delimiter || byte == b'\n' || byte == b'\r';
        self.state = match (self.state, byte) {
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (State::FieldStart, b'"') => {
                self.opened_on = self.line;
                State::Quoted
            }
            (_, _) if end_of_field => State::FieldStart,
            (_, _) => State::Unquoted,
        };
        if byte == b'\n' {
            self.line += 1;
        }
    }
}

impl<R: Read> Read for QuoteCheck<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buffer)?;
        if count == 0 && !buffer.is_empty() && self.state == State::Quoted {
            return Err(io::Error::new(io::ErrorKind::InvalidData, UnclosedQuote { line: self.opened_on }));
        }
        for &byte in &buffer[..count] {
            self.step(byte);
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), UnclosedQuote> {
        let mut sink = Vec::new();
        match QuoteCheck::new(text.as_bytes(), b',').read_to_end(&mut sink) {
            Ok(_) => {
                assert_eq!(sink, text.as_bytes(), "every byte passes through unchanged");
                Ok(())
            }
            Err(error) => Err(UnclosedQuote::in_error(&error).expect("the error names the quote")),
        }
    }

    #[test]
    fn balanced_quoting_passes() {
        for text in [
            "id,name\n1,Ann\n",
            "id,name\n1,\"Smith, Ann\"\n",
            "id,note\n1,\"she said \"\"go\"\"\"\n",
            "id,note\n1,\"two\nlines\"\n2,x\n",
            "id,name\n1,O\"Brien\n",
            "id,name\r\n1,\"A\"\r\n",
            "",
            "id,name\n1,\"\"\n",
        ] {
            assert_eq!(check(text), Ok(()), "{text:?}");
        }
    }

    #[test]
    fn an_unclosed_quote_names_the_line_it_opened_on() {
        assert_eq!(check("id,name\n1,\"Ann\n2,Bob\n3,Cat\n"), Err(UnclosedQuote { line: 2 }));
        assert_eq!(check("\"id,name\n"), Err(UnclosedQuote { line: 1 }));
        assert_eq!(check("id,note\n1,\"ok \"\"quoted\"\" \n2,x\n"), Err(UnclosedQuote { line: 2 }));
        assert_eq!(check("id,note\n1,\"two\nlines\"\n2,\"open"), Err(UnclosedQuote { line: 4 }));
    }

    #[test]
    fn the_delimiter_decides_where_a_field_starts() {
        let mut sink = Vec::new();
        let semicolons = QuoteCheck::new("id;name\n1;\"Ann\n".as_bytes(), b';').read_to_end(&mut sink);
        assert_eq!(UnclosedQuote::in_error(&semicolons.unwrap_err()), Some(UnclosedQuote { line: 2 }));
        // With a comma delimiter the same quote sits inside a field and opens nothing.
        assert!(QuoteCheck::new("id;name\n1;\"Ann\n".as_bytes(), b',').read_to_end(&mut Vec::new()).is_ok());
    }
}
