//! Delimited text tables (CSV, TSV, whitespace/comma `.txt`): decoding, splitting into cells with
//! the `csv` crate, and finding the header row and names column around a block of numbers.

use super::RawMatrix;
use super::error::SimilarityError;

/// How cells are separated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Delimiter {
    /// One byte ends each cell (`,` `;` or tab); empty cells are kept.
    Char(u8),
    /// Runs of spaces and tabs separate cells.
    Whitespace,
}

/// Which delimiter the file's extension asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TextKind {
    Csv,
    Tsv,
    /// `.txt` or an unknown extension: guess from the first line.
    Auto,
}

/// Decodes bytes into text: UTF-8 (with or without BOM) or UTF-16 with a BOM.
pub(crate) fn decode(file: &str, bytes: &[u8]) -> Result<String, SimilarityError> {
    let text = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        utf8(file, rest, 3)?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        utf16(file, rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        utf16(file, rest, u16::from_be_bytes)?
    } else {
        utf8(file, bytes, 0)?
    };
    if let Some(pos) = text.find('\0') {
        return Err(SimilarityError::format(
            file,
            format!(
                "holds a NUL character at offset {pos}, so it looks like a binary file; expected text (CSV, TSV, TXT or JSON), an .npy or an .npz file"
            ),
        ));
    }
    Ok(text)
}

fn utf8(file: &str, bytes: &[u8], offset: usize) -> Result<String, SimilarityError> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        SimilarityError::format(
            file,
            format!(
                "is not UTF-8 text (invalid byte at offset {}); expected a text table, an .npy or an .npz file",
                e.utf8_error().valid_up_to() + offset
            ),
        )
    })
}

fn utf16(file: &str, bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, SimilarityError> {
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
    String::from_utf16(&units).map_err(|_| {
        SimilarityError::format(
            file,
            "starts with a UTF-16 byte-order mark but is not valid UTF-16 text",
        )
    })
}

/// One non-blank row of a table (cells trimmed), with the file line it starts on (from 1).
#[derive(Debug, Clone)]
struct Record {
    line: usize,
    cells: Vec<String>,
}

/// Picks the delimiter from the extension and the first content line.
fn choose_delimiter(kind: TextKind, text: &str) -> Delimiter {
    let first =
        text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or("");
    match kind {
        TextKind::Tsv => Delimiter::Char(b'\t'),
        TextKind::Csv => {
            if first.contains(',') || !(first.contains(';') || first.contains('\t')) {
                Delimiter::Char(b',')
            } else if first.contains(';') {
                Delimiter::Char(b';')
            } else {
                Delimiter::Char(b'\t')
            }
        }
        TextKind::Auto => {
            if tab_separated(text) {
                Delimiter::Char(b'\t')
            } else if first.contains(',') {
                Delimiter::Char(b',')
            } else if first.contains(';') {
                Delimiter::Char(b';')
            } else {
                Delimiter::Whitespace
            }
        }
    }
}

/// Whether every content line has tabs and the tab-split cell counts agree (up to one cell
/// less in the first line, a header without a corner cell).
fn tab_separated(text: &str) -> bool {
    let mut lines =
        text.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some(first) = lines.next() else {
        return false;
    };
    let count = |l: &str| l.trim_end_matches(['\r', ' ']).split('\t').count();
    let c0 = count(first);
    let mut rest = lines.map(count).peekable();
    let Some(&c1) = rest.peek() else {
        return c0 > 1;
    };
    c0 > 1 && (c0 == c1 || c0 + 1 == c1) && rest.all(|c| c == c1)
}

/// Splits text into records with the `csv` crate: quoted fields (with `""` escapes and embedded
/// newlines), CRLF/CR/LF line ends, blank lines and `#` comment lines skipped. Returns the
/// records and the number of comment lines skipped.
fn tokenize(
    file: &str,
    text: &str,
    delim: Delimiter,
) -> Result<(Vec<Record>, usize), SimilarityError> {
    // one line end, so that the line numbers count lone CRs too; blanks as spaces, whose runs
    // then give empty cells that are dropped
    let mut text = text.replace("\r\n", "\n").replace('\r', "\n");
    let sep = match delim {
        Delimiter::Char(c) => c,
        Delimiter::Whitespace => {
            text = text.replace('\t', " ");
            b' '
        }
    };
    let comments = text.lines().filter(|l| l.starts_with('#')).count();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sep)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let (mut records, mut last) = (Vec::new(), String::new());
    for row in reader.records() {
        let row = row.map_err(|e| SimilarityError::format(file, format!("cannot be read: {e}")))?;
        let line = row.position().map_or(0, |p| p.line() as usize);
        last = row.iter().next_back().unwrap_or("").to_string();
        let mut cells: Vec<String> = row.iter().map(|c| c.trim().to_string()).collect();
        if delim == Delimiter::Whitespace {
            cells.retain(|c| !c.is_empty());
        }
        if cells.iter().any(|c| !c.is_empty()) {
            records.push(Record { line, cells });
        }
    }
    // csv reads an unclosed quote to the end of the text: the text then ends with that quote
    // and the field's content, the quote standing at the start of a field
    let opened = format!("\"{}", last.replace('"', "\"\""));
    if let Some(start) = text.len().checked_sub(opened.len())
        && text.ends_with(&opened)
        && start.checked_sub(1).is_none_or(|i| [b'\n', sep].contains(&text.as_bytes()[i]))
    {
        let line = text[..start].matches('\n').count() + 1;
        return Err(SimilarityError::format(
            file,
            format!("line {line}: a quoted field is never closed; expected a closing '\"'"),
        ));
    }
    Ok((records, comments))
}

/// Numbers, and the usual spellings of a missing value (read as NaN so that validation reports
/// its row and column).
fn parse_number(t: &str) -> Option<f64> {
    match t {
        "NA" | "N/A" | "na" | "n/a" | "NaN" | "nan" | "NAN" | "null" | "NULL" | "None" => {
            Some(f64::NAN)
        }
        _ => t.parse::<f64>().ok(),
    }
}

/// Whether a cell holds a name (non-empty text that is not a number).
fn is_name(cell: &str) -> bool {
    !cell.is_empty() && parse_number(cell).is_none()
}

/// Whether numeric cells could be image ids: distinct integers written with digits only.
fn id_like<'a>(cells: impl Iterator<Item = &'a String>) -> bool {
    let mut seen = std::collections::HashSet::new();
    cells
        .into_iter()
        .all(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) && seen.insert(t.as_str()))
}

/// Reads a delimited text table into a raw matrix with optional names.
pub(crate) fn parse_table(
    file: &str,
    bytes: &[u8],
    kind: TextKind,
) -> Result<RawMatrix, SimilarityError> {
    let text = decode(file, bytes)?;
    let (records, comments) = tokenize(file, &text, choose_delimiter(kind, &text))?;
    let mut warnings = Vec::new();
    if comments > 0 {
        warnings.push(format!("{file}: skipped {comments} comment line(s) starting with '#'"));
    }
    let Some(first) = records.first() else {
        return Err(SimilarityError::Empty { file: file.to_string() });
    };

    let corner_empty = first.cells.len() >= 2 && first.cells[0].is_empty();
    let mut header = corner_empty
        || first.cells.iter().skip(1).any(|c| is_name(c))
        || (first.cells.len() == 1 && is_name(&first.cells[0]));
    if records.len() == usize::from(header) {
        return Err(SimilarityError::format(
            file,
            "holds only a header row; expected rows of numbers below it",
        ));
    }
    let body = &records[usize::from(header)..];
    let mut names_col =
        corner_empty || body.iter().any(|r| r.cells.first().is_some_and(|c| is_name(c)));

    // every body row must have the same number of cells
    let width = body[0].cells.len();
    if let Some(bad) = body.iter().find(|r| r.cells.len() != width) {
        return Err(SimilarityError::format(
            file,
            format!(
                "line {} has {} cells but line {} has {}; expected the same number of cells in every row",
                bad.line,
                bad.cells.len(),
                body[0].line,
                width
            ),
        ));
    }

    // numbers used as names: a table with one row or column too many
    if !header && !names_col && records.len() == width + 1 && id_like(first.cells.iter()) {
        header = true;
        warnings.push(format!(
            "{file}: the table has one more row than columns, so its first row was read as a header of names"
        ));
    }
    let body = &records[usize::from(header)..];
    if !names_col && width == body.len() + 1 && id_like(body.iter().filter_map(|r| r.cells.first()))
    {
        names_col = true;
        warnings.push(format!(
            "{file}: the table has one more column than rows, so its first column was read as names"
        ));
    }
    let c0 = usize::from(names_col);
    let (rows, cols) = (body.len(), width.saturating_sub(c0));

    let header_names = if header {
        let cells = match first.cells.len() {
            n if n == width => &first.cells[c0..],
            n if names_col && n + 1 == width => &first.cells[..],
            n => {
                return Err(SimilarityError::format(
                    file,
                    format!(
                        "the header row (line {}) has {n} cells but the data rows have {width}{}; expected one name per column",
                        first.line,
                        if names_col { " (including the names column)" } else { "" }
                    ),
                ));
            }
        };
        if let Some(j) = cells.iter().position(String::is_empty) {
            return Err(SimilarityError::format(
                file,
                format!(
                    "the header row (line {}) has an empty name for matrix column {} (counting from 1); expected a name in every cell",
                    first.line,
                    j + 1
                ),
            ));
        }
        Some(cells.to_vec())
    } else {
        None
    };

    // the numbers and the names column
    let mut values = Vec::with_capacity(rows.saturating_mul(cols));
    let mut col_names = Vec::new();
    for r in body {
        if names_col {
            if r.cells[0].is_empty() {
                return Err(SimilarityError::format(
                    file,
                    format!(
                        "line {}: the names column (column 1) is empty; expected a name in every row",
                        r.line
                    ),
                ));
            }
            col_names.push(r.cells[0].clone());
        }
        for (j, t) in r.cells[c0..].iter().enumerate() {
            let value = parse_number(t).ok_or_else(|| {
                let why = if t.is_empty() {
                    "the cell is empty; expected a number".to_string()
                } else {
                    format!(
                        "'{}' is not a number; expected a number{}",
                        truncate(t, 40),
                        if j == 0 && !names_col {
                            " (or, in every row, a name in the first column)"
                        } else {
                            ""
                        }
                    )
                };
                let at = format!("line {}, column {} (counting from 1)", r.line, j + c0 + 1);
                SimilarityError::format(file, format!("{at}: {why}"))
            })?;
            values.push(value);
        }
    }

    let names = match (header_names, names_col) {
        (Some(h), true) => {
            if h.len() == col_names.len()
                && let Some(i) = (0..h.len()).find(|&i| h[i] != col_names[i])
            {
                return Err(SimilarityError::HeaderMismatch {
                    file: file.to_string(),
                    index: i + 1,
                    header: h[i].clone(),
                    column: col_names[i].clone(),
                });
            }
            // different lengths: the shape check reports the non-square matrix
            Some(if h.len() == rows { h } else { col_names })
        }
        (Some(h), false) => Some(h),
        (None, true) => Some(col_names),
        (None, false) => None,
    };
    Ok(RawMatrix { rows, cols, values, names, warnings })
}

/// Shortens a string for an error message.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let t: String = s.chars().take(max).collect();
        format!("{t}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str, kind: TextKind) -> Result<RawMatrix, SimilarityError> {
        parse_table("t.csv", text.as_bytes(), kind)
    }

    #[test]
    fn plain_numbers_comma() {
        let m = table("1,2\n3,4\n", TextKind::Csv).unwrap();
        assert_eq!((m.rows, m.cols), (2, 2));
        assert_eq!(m.values, vec![1.0, 2.0, 3.0, 4.0]);
        assert!(m.names.is_none());
    }

    #[test]
    fn header_and_names_column_with_quotes_crlf_bom() {
        let text = "\u{FEFF}\"\",\"a, x\",b\r\n\"a, x\",1,0.5\r\nb,0.5,1\r\n";
        let m = table(text, TextKind::Csv).unwrap();
        assert_eq!(m.names.as_deref().unwrap(), ["a, x", "b"]);
        assert_eq!(m.values, vec![1.0, 0.5, 0.5, 1.0]);
    }

    #[test]
    fn header_without_corner() {
        let m = table("a b\na 1 2\nb 3 4", TextKind::Auto).unwrap();
        assert_eq!(m.names.as_deref().unwrap(), ["a", "b"]);
        assert_eq!(m.values, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn whitespace_and_tabs_and_comments() {
        let m = table("# made by numpy\n 1  2\t3\n4 5 6\n\n7 8 9\n", TextKind::Auto).unwrap();
        assert_eq!((m.rows, m.cols), (3, 3));
        assert_eq!(m.values[8], 9.0);
        assert_eq!(m.warnings.len(), 1);
    }

    #[test]
    fn semicolon_csv() {
        let m = table("1;2\n3;4\n", TextKind::Csv).unwrap();
        assert_eq!(m.values, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn numeric_names_by_shape() {
        let m = table("10,20\n1,2\n3,4\n", TextKind::Csv).unwrap();
        assert_eq!(m.names.as_deref().unwrap(), ["10", "20"]);
        let m = table("10,1,2\n20,3,4\n", TextKind::Csv).unwrap();
        assert_eq!(m.names.as_deref().unwrap(), ["10", "20"]);
        let m = table(",10,20\n10,1,2\n20,3,4\n", TextKind::Csv).unwrap();
        assert_eq!(m.names.as_deref().unwrap(), ["10", "20"]);
    }

    #[test]
    fn errors() {
        let e = table("a,b\nb,1,2\na,3,4\n", TextKind::Csv).unwrap_err();
        assert!(matches!(e, SimilarityError::HeaderMismatch { index: 1, .. }), "{e}");
        let e = table("1,2\n3\n", TextKind::Csv).unwrap_err().to_string();
        assert!(e.contains("line 2 has 1 cells"), "{e}");
        let e = table("1,2\n3,x\n", TextKind::Csv).unwrap_err().to_string();
        assert!(e.contains("line 2, column 2") && e.contains("'x'"), "{e}");
        let e = table("1,\"2\n", TextKind::Csv).unwrap_err().to_string();
        assert!(e.contains("never closed"), "{e}");
        let e = table("1,,2\n1,2,3\n4,5,6", TextKind::Csv).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        assert!(matches!(table("  \n\n", TextKind::Csv), Err(SimilarityError::Empty { .. })));
        assert!(table("a,b\n", TextKind::Csv).unwrap_err().to_string().contains("only a header"));
        let e = parse_table("t.csv", &[0xff, 0xfe, 0x00, 0xd8], TextKind::Csv).unwrap_err();
        assert!(e.to_string().contains("UTF-16"), "{e}");
        let e = parse_table("t.csv", &[b'1', 0xc3, 0x28], TextKind::Csv).unwrap_err();
        assert!(e.to_string().contains("not UTF-8"), "{e}");
    }

    #[test]
    fn quotes_and_line_ends() {
        let m = table("\"a\",\"b\"\n1,\"\"\"2\"\"\"", TextKind::Csv).unwrap_err().to_string();
        assert!(m.contains("line 2, column 2") && m.contains("'\"2\"'"), "{m}");
        let m = table("x \"y z\"\n1 2\n3 4", TextKind::Auto).unwrap();
        assert_eq!(m.names.as_deref().unwrap(), ["x", "y z"]);
        let e = table("1,2\n3,\"4\n5,6\n", TextKind::Csv).unwrap_err().to_string();
        assert!(e.contains("line 2: a quoted field is never closed"), "{e}");
        let e = table("1,2\r3,x\r", TextKind::Csv).unwrap_err().to_string();
        assert!(e.contains("line 2, column 2"), "{e}");
    }

    #[test]
    fn utf16_and_missing_values() {
        let s = "1\t2\r\n3\tNA\r\n";
        let mut b = vec![0xFF, 0xFE];
        for u in s.encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        let m = parse_table("t.tsv", &b, TextKind::Tsv).unwrap();
        assert_eq!(m.values[..3], [1.0, 2.0, 3.0]);
        assert!(m.values[3].is_nan());
    }
}
