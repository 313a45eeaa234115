//! Reading a sheet: CSV or a workbook (XLSX, XLS, ODS), every cell as text, with its
//! header row and, when it has one, its HXL hashtag row.

use std::path::Path;

/// Most data rows one import reads; a bigger sheet is split by its owner.
pub const MAX_ROWS: usize = 50_000;

/// Largest CSV file read: the sheet is decoded whole in memory, so its size is
/// checked before a byte is read (50,000 long rows fit many times over).
pub const MAX_CSV_BYTES: u64 = 256 * 1024 * 1024;

/// How many rows at the top may precede the hashtag row (HXL's own rule looks at the
/// first 25).
const HASHTAG_ROW_WITHIN: usize = 25;

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("{path}: {source}")]
    Csv { path: String, source: csv::Error },
    #[error("{path}: {message}")]
    Workbook { path: String, message: String },
    #[error("{path}: the sheet has no header row")]
    Empty { path: String },
    #[error("{path}: larger than {MAX_CSV_BYTES} bytes; split the sheet")]
    TooLarge { path: String },
    #[error("{path}: more than {MAX_ROWS} rows; split the sheet")]
    TooManyRows { path: String },
    #[error("{path}: not {encoding} text; a CSV saved by a Chinese-language Excel is usually GB18030: add --encoding gb18030")]
    Encoding { path: String, encoding: String },
    #[error("--encoding {0:?} is not an encoding: give a WHATWG label such as utf-8, gb18030, big5 or windows-1252")]
    UnknownEncoding(String),
    #[error("{path}: no worksheet named {name:?} (it has: {})", .names.join(", "))]
    NoSuchWorksheet {
        path: String,
        name: String,
        names: Vec<String>,
    },
}

/// A sheet's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The header row's words (the hashtags, for a sheet whose first row holds them).
    pub headers: Vec<String>,
    /// The HXL hashtag row, when the sheet has one.
    pub hashtags: Option<Vec<String>>,
    pub rows: Vec<Row>,
}

/// A data row: its number as a spreadsheet shows it (the first row is 1) and its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub number: usize,
    pub cells: Vec<String>,
}

impl Row {
    /// The trimmed text of column `column`, `None` when blank or absent.
    pub fn cell(&self, column: usize) -> Option<&str> {
        self.cells
            .get(column)
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
    }
}

/// A column's name as a person finds it: its letter and its header (`E «数量»`).
pub fn column_name(headers: &[String], column: usize) -> String {
    let mut letters = String::new();
    let mut n = column + 1;
    while n > 0 {
        letters.insert(0, char::from(b'A' + ((n - 1) % 26) as u8));
        n = (n - 1) / 26;
    }
    match headers
        .get(column)
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
    {
        Some(header) => format!("{letters} «{header}»"),
        None => letters,
    }
}

/// Reads `path`: a workbook by its extension (`.xlsx`, `.xlsm`, `.xls`, `.ods`), its
/// worksheet `worksheet` or else the first; anything else as CSV in `encoding` (a
/// WHATWG label; UTF-8 when `None`, a byte-order mark allowed). Text that is not in
/// the encoding is refused, never guessed at.
pub fn read(
    path: &Path,
    worksheet: Option<&str>,
    encoding: Option<&str>,
) -> Result<Sheet, SheetError> {
    let shown = path.display().to_string();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let lines = match extension.as_deref() {
        Some("xlsx" | "xlsm" | "xls" | "ods") => read_workbook(path, &shown, worksheet)?,
        _ => read_csv(path, &shown, encoding)?,
    };
    from_lines(lines, &shown)
}

fn read_csv(
    path: &Path,
    shown: &str,
    encoding: Option<&str>,
) -> Result<Vec<Vec<String>>, SheetError> {
    let csv_error = |source| SheetError::Csv {
        path: shown.to_owned(),
        source,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| csv_error(e.into()))?
        .len();
    if size > MAX_CSV_BYTES {
        return Err(SheetError::TooLarge {
            path: shown.to_owned(),
        });
    }
    let bytes = std::fs::read(path).map_err(|e| csv_error(e.into()))?;
    let text = decode(&bytes, shown, encoding)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut lines = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        lines.push(record.iter().map(str::to_owned).collect::<Vec<_>>());
        if lines.len() > MAX_ROWS + HASHTAG_ROW_WITHIN {
            return Err(SheetError::TooManyRows {
                path: shown.to_owned(),
            });
        }
    }
    if let Some(first) = lines.first_mut().and_then(|l| l.first_mut()) {
        if let Some(rest) = first.strip_prefix('\u{feff}') {
            *first = rest.to_owned();
        }
    }
    Ok(lines)
}

/// `bytes` as text in `label`'s encoding (UTF-8 when `None`), refused whole if any of
/// it is not.
fn decode(bytes: &[u8], shown: &str, label: Option<&str>) -> Result<String, SheetError> {
    let encoding = match label {
        None => encoding_rs::UTF_8,
        Some(label) => encoding_rs::Encoding::for_label(label.trim().as_bytes())
            .ok_or_else(|| SheetError::UnknownEncoding(label.to_owned()))?,
    };
    let (text, _, malformed) = encoding.decode(bytes);
    if malformed {
        return Err(SheetError::Encoding {
            path: shown.to_owned(),
            encoding: encoding.name().to_owned(),
        });
    }
    Ok(text.into_owned())
}

fn read_workbook(
    path: &Path,
    shown: &str,
    worksheet: Option<&str>,
) -> Result<Vec<Vec<String>>, SheetError> {
    use calamine::Reader;
    let failed = |e: calamine::Error| SheetError::Workbook {
        path: shown.to_owned(),
        message: e.to_string(),
    };
    let mut workbook = calamine::open_workbook_auto(path).map_err(failed)?;
    let names = workbook.sheet_names();
    let name = match worksheet {
        Some(name) if names.iter().any(|n| n == name) => name.to_owned(),
        Some(name) => {
            return Err(SheetError::NoSuchWorksheet {
                path: shown.to_owned(),
                name: name.to_owned(),
                names,
            })
        }
        None => names.first().cloned().ok_or_else(|| SheetError::Empty {
            path: shown.to_owned(),
        })?,
    };
    let range = workbook.worksheet_range(&name).map_err(failed)?;
    if range.height() > MAX_ROWS + HASHTAG_ROW_WITHIN {
        return Err(SheetError::TooManyRows {
            path: shown.to_owned(),
        });
    }
    // The range starts at its first used cell; rows and columns before it are blank.
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let mut lines = vec![Vec::new(); first_row as usize];
    for row in range.rows() {
        let mut line = vec![String::new(); first_column as usize];
        line.extend(row.iter().map(cell_text));
        lines.push(line);
    }
    Ok(lines)
}

/// A workbook cell as the text a person reads in it: whole numbers without a decimal
/// point, dates as YYYY-MM-DD.
fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::DateTime(d) => excel_date(d.as_f64()).unwrap_or_else(|| d.to_string()),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// An Excel serial date (days since 1899-12-30, the 1900 system's leap-year bug
/// included) as YYYY-MM-DD.
fn excel_date(serial: f64) -> Option<String> {
    let epoch = time::macros::date!(1899 - 12 - 30);
    let date = epoch.checked_add(time::Duration::days(serial.floor() as i64))?;
    Some(date.to_string())
}

fn from_lines(lines: Vec<Vec<String>>, shown: &str) -> Result<Sheet, SheetError> {
    let blank = |line: &[String]| line.iter().all(|c| c.trim().is_empty());
    let is_hashtags = |line: &[String]| {
        !blank(line)
            && line
                .iter()
                .map(|c| c.trim())
                .all(|c| c.is_empty() || c.starts_with('#'))
    };
    let hashtag_row = lines
        .iter()
        .take(HASHTAG_ROW_WITHIN)
        .position(|l| is_hashtags(l));
    let header_row = match hashtag_row {
        // The row above the hashtags holds the headers, if there is one that is not blank.
        Some(h) => (0..h).rev().find(|&i| !blank(&lines[i])).unwrap_or(h),
        None => lines
            .iter()
            .position(|l| !blank(l))
            .ok_or_else(|| SheetError::Empty {
                path: shown.to_owned(),
            })?,
    };
    let data_from = hashtag_row.unwrap_or(header_row).max(header_row) + 1;
    let hashtags = hashtag_row.map(|h| lines[h].iter().map(|c| c.trim().to_owned()).collect());
    let headers = lines[header_row]
        .iter()
        .map(|c| c.trim().to_owned())
        .collect();
    let rows: Vec<Row> = lines
        .into_iter()
        .enumerate()
        .skip(data_from)
        .filter(|(_, cells)| !blank(cells))
        .map(|(i, cells)| Row {
            number: i + 1,
            cells,
        })
        .collect();
    if rows.len() > MAX_ROWS {
        return Err(SheetError::TooManyRows {
            path: shown.to_owned(),
        });
    }
    Ok(Sheet {
        headers,
        hashtags,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    #[test]
    fn the_hashtag_row_is_found_below_the_headers_and_data_follows_it() {
        let sheet = from_lines(
            lines(&[
                &["Org name", "Item"],
                &["#org+name", "#item+name"],
                &["协和医院", "N95"],
                &["", ""],
                &["同济医院", "手套"],
            ]),
            "s.csv",
        )
        .unwrap();
        assert_eq!(sheet.headers, ["Org name", "Item"]);
        assert_eq!(sheet.hashtags.unwrap(), ["#org+name", "#item+name"]);
        let numbers: Vec<usize> = sheet.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [3, 5]);
    }

    #[test]
    fn a_sheet_without_hashtags_starts_at_its_first_filled_row() {
        let sheet = from_lines(
            lines(&[&["", ""], &["医院", "数量"], &["协和医院", "1000"]]),
            "s.csv",
        )
        .unwrap();
        assert_eq!(sheet.hashtags, None);
        assert_eq!(sheet.headers, ["医院", "数量"]);
        assert_eq!(sheet.rows[0].number, 3);
        assert_eq!(sheet.rows[0].cell(1), Some("1000"));
    }

    #[test]
    fn columns_are_named_by_letter_and_header() {
        let headers = vec!["医院".to_owned()];
        assert_eq!(column_name(&headers, 0), "A «医院»");
        assert_eq!(column_name(&headers, 27), "AB");
    }

    #[test]
    fn text_in_another_encoding_is_read_only_when_named() {
        let (gbk, _, _) = encoding_rs::GB18030.encode("医院,数量\n协和医院,1000\n");
        let refused = decode(&gbk, "s.csv", None).unwrap_err().to_string();
        assert!(refused.contains("--encoding gb18030"), "{refused}");
        assert_eq!(
            decode(&gbk, "s.csv", Some("GB18030")).unwrap(),
            "医院,数量\n协和医院,1000\n"
        );
        assert!(matches!(
            decode(b"x", "s.csv", Some("klingon")),
            Err(SheetError::UnknownEncoding(_))
        ));
    }

    #[test]
    fn a_csv_beyond_its_size_limit_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.csv");
        // Sparse: its size is past the limit, yet nothing is written to disk.
        std::fs::File::create(&path)
            .unwrap()
            .set_len(MAX_CSV_BYTES + 1)
            .unwrap();
        assert!(matches!(
            read(&path, None, None),
            Err(SheetError::TooLarge { .. })
        ));
    }

    #[test]
    fn excel_serial_dates_read_as_iso_dates() {
        assert_eq!(excel_date(46_000.0).unwrap(), "2025-12-09");
    }
}
