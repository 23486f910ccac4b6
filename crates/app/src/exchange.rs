//! Reading the exchange files of spec/exchange.md: CSV in UTF-8 or a legacy Chinese encoding
//! (detected, or named), and XLSX with the same columns.

use std::io::{Cursor, Read};

use calamine::{Data, Reader};
use encoding_rs::Encoding;
use oversight_domain::RowError;
use oversight_domain::item::ItemRow;
use oversight_domain::org::OrgRow;

use crate::AppError;

/// Which text encoding a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEncoding {
    /// UTF-8 when the bytes are valid UTF-8, otherwise detected (GB18030 for Chinese text).
    #[default]
    Auto,
    Named(&'static Encoding),
}

impl TextEncoding {
    /// Reads `auto`, `utf-8`, `gbk`, `gb18030`, `gb2312` and the other WHATWG labels.
    pub fn parse(label: &str) -> Result<TextEncoding, AppError> {
        let label = label.trim();
        if label.is_empty() || label.eq_ignore_ascii_case("auto") {
            return Ok(TextEncoding::Auto);
        }
        Encoding::for_label(label.as_bytes()).map(TextEncoding::Named).ok_or_else(|| {
            AppError::field("encoding", format!("不认识的编码“{label}”，可用 auto、utf-8、gb18030、gbk"))
        })
    }
}

/// A file as uploaded or read from disk.
pub struct Upload<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
    pub encoding: TextEncoding,
}

/// Turns bytes into text. Named encodings must decode without a single bad byte; a file that
/// is not valid UTF-8 is detected (and must then decode cleanly too).
pub fn decode_text(bytes: &[u8], encoding: TextEncoding) -> Result<(String, &'static Encoding), AppError> {
    let enc = match encoding {
        TextEncoding::Named(e) => e,
        TextEncoding::Auto => {
            if std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).is_ok() {
                encoding_rs::UTF_8
            } else {
                let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
                detector.feed(bytes, true);
                let guess = detector.guess(Some(b"cn"), chardetng::Utf8Detection::Allow);
                // GBK and GB2312 are subsets of GB18030: decode with the superset.
                if guess == encoding_rs::GBK { encoding_rs::GB18030 } else { guess }
            }
        }
    };
    let (text, used, had_errors) = enc.decode(bytes);
    if had_errors {
        let (line, _) = first_bad_line(bytes, used);
        return Err(AppError::Invalid(vec![RowError::new(
            line,
            "",
            format!("文件不是有效的 {} 编码（可在导入时指定编码，如 gb18030 或 utf-8）", used.name()),
        )]));
    }
    Ok((text.into_owned(), used))
}

/// The line of the first byte sequence that does not decode.
fn first_bad_line(bytes: &[u8], enc: &'static Encoding) -> (usize, usize) {
    let mut line = 1;
    for chunk in bytes.split(|b| *b == b'\n') {
        let (_, bad) = enc.decode_without_bom_handling(chunk);
        if bad {
            return (line, 0);
        }
        line += 1;
    }
    (line, 0)
}

/// A table read from a file: its header and its data rows with their line numbers.
#[derive(Debug)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// The row values under the `columns` wanted, or an error naming the missing columns.
    fn columns(&self, wanted: &[&str]) -> Result<Vec<usize>, AppError> {
        let mut idx = Vec::new();
        let mut missing = Vec::new();
        for w in wanted {
            match self.header.iter().position(|h| h.trim().trim_start_matches('\u{feff}') == *w) {
                Some(i) => idx.push(i),
                None => missing.push(*w),
            }
        }
        if missing.is_empty() {
            Ok(idx)
        } else {
            Err(AppError::Invalid(vec![RowError::new(
                1,
                missing.join(","),
                format!("表头缺少列 {}；表头应为 {}", missing.join("、"), wanted.join(",")),
            )]))
        }
    }
}

fn is_xlsx(upload: &Upload) -> bool {
    upload.name.to_ascii_lowercase().ends_with(".xlsx") || upload.bytes.starts_with(b"PK\x03\x04")
}

/// Reads a CSV or XLSX upload into a table.
pub fn read_table(upload: &Upload) -> Result<Table, AppError> {
    if is_xlsx(upload) { read_xlsx(upload.bytes) } else { read_csv(upload.bytes, upload.encoding) }
}

fn read_csv(bytes: &[u8], encoding: TextEncoding) -> Result<Table, AppError> {
    let (text, _) = decode_text(bytes, encoding)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut header = None;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            AppError::Invalid(vec![RowError::new(line, "", format!("CSV 格式错误：{e}"))])
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let values: Vec<String> = record.iter().map(str::to_string).collect();
        if values.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        if header.is_none() {
            header = Some(values);
        } else {
            rows.push((line, values));
        }
    }
    let header = header.ok_or_else(|| AppError::Invalid(vec![RowError::new(1, "", "文件为空，没有表头")]))?;
    Ok(Table { header, rows })
}

/// The most a workbook may inflate to: an organisation or item catalogue of a whole province is
/// a few megabytes; a file that inflates past this is a zip bomb, not a catalogue.
const MAX_INFLATED_BYTES: u64 = 256 << 20;
/// The widest sheet read: the widest exchange table has six columns.
const MAX_COLUMNS: u32 = 256;

fn read_xlsx(bytes: &[u8]) -> Result<Table, AppError> {
    let unreadable = |e: String| AppError::Invalid(vec![RowError::new(0, "", format!("无法读取 XLSX 文件：{e}"))]);
    check_inflated_size(bytes, MAX_INFLATED_BYTES).map_err(unreadable)?;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| unreadable(e.to_string()))?;
    let first = book.sheet_names().into_iter().next().ok_or_else(|| unreadable("工作簿中没有工作表".into()))?;
    // Cells are read one by one, not as the dense range the sheet declares: a sheet with cells in
    // A1 and XFD1048576 would otherwise allocate 17 billion of them.
    let mut cells = book.worksheet_cells_reader(&first).map_err(|e| unreadable(e.to_string()))?;
    let mut lines: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    // What the cells hold in all: many cells may point to one long shared string, so a small
    // file can ask for far more text than it inflates to.
    let mut text = 0u64;
    while let Some(cell) = cells.next_cell().map_err(|e| unreadable(e.to_string()))? {
        let value = match Data::from(cell.get_value().clone()) {
            Data::Empty => continue,
            Data::String(s) => s,
            Data::Int(n) => n.to_string(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            other => other.to_string(),
        };
        text += value.len() as u64;
        if text > MAX_INFLATED_BYTES {
            return Err(unreadable(format!("表格内容超过 {} MB，不像是交换文件", MAX_INFLATED_BYTES >> 20)));
        }
        let (row, col) = cell.get_position();
        if col >= MAX_COLUMNS {
            return Err(unreadable(format!(
                "单元格 {}{} 超出了 {MAX_COLUMNS} 列，交换文件的表格不会这么宽",
                u16::try_from(col)
                    .map_or_else(|_| format!("第 {} 列", u64::from(col) + 1), rust_xlsxwriter::column_number_to_name),
                row + 1
            )));
        }
        let values = lines.entry(row).or_default();
        if values.len() <= col as usize {
            values.resize(col as usize + 1, String::new());
        }
        values[col as usize] = value;
    }
    let mut header = None;
    let mut rows = Vec::new();
    for (row, values) in lines {
        if values.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        if header.is_none() {
            header = Some(values);
        } else {
            rows.push((row as usize + 1, values));
        }
    }
    let header = header.ok_or_else(|| unreadable("工作表为空，没有表头".into()))?;
    Ok(Table { header, rows })
}

/// Inflates every part of the archive into nothing, counting: the sizes an archive declares may
/// lie, the bytes its streams give may not.
fn check_inflated_size(bytes: &[u8], limit: u64) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).map_err(|e| e.to_string())?;
        total +=
            std::io::copy(&mut (&mut part).take(limit + 1 - total), &mut std::io::sink()).map_err(|e| e.to_string())?;
        if total > limit {
            return Err(format!("文件解压后超过 {} MB，不像是交换文件", limit >> 20));
        }
    }
    Ok(())
}

fn cell(values: &[String], i: usize) -> String {
    values.get(i).cloned().unwrap_or_default()
}

pub const ORG_HEADER: [&str; 4] = ["code", "parent_code", "kind", "name"];
pub const ITEM_HEADER: [&str; 6] = ["code", "name", "department_code", "legal_days", "promised_days", "fee_cents"];

pub fn org_rows(table: &Table) -> Result<Vec<OrgRow>, AppError> {
    let c = table.columns(&ORG_HEADER)?;
    Ok(table
        .rows
        .iter()
        .map(|(line, v)| OrgRow {
            line: *line,
            code: cell(v, c[0]),
            parent_code: cell(v, c[1]),
            kind: cell(v, c[2]),
            name: cell(v, c[3]),
        })
        .collect())
}

pub fn item_rows(table: &Table) -> Result<Vec<ItemRow>, AppError> {
    let c = table.columns(&ITEM_HEADER)?;
    Ok(table
        .rows
        .iter()
        .map(|(line, v)| ItemRow {
            line: *line,
            code: cell(v, c[0]),
            name: cell(v, c[1]),
            department_code: cell(v, c[2]),
            legal_days: cell(v, c[3]),
            promised_days: cell(v, c[4]),
            fee_cents: cell(v, c[5]),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEMS_GB18030: &[u8] = include_bytes!("../../../data/demo/haikou-items-gb18030.csv");

    #[test]
    fn gb18030_is_detected() {
        let upload = Upload { name: "items.csv", bytes: ITEMS_GB18030, encoding: TextEncoding::Auto };
        let table = read_table(&upload).unwrap();
        let rows = item_rows(&table).unwrap();
        assert_eq!(rows.len(), 10);
        assert_eq!(rows[0].line, 2);
        assert!(rows.iter().any(|r| r.name.contains("核准") || r.name.contains("许可")), "{rows:?}");
    }

    #[test]
    fn named_encoding_that_does_not_fit_is_an_error_with_a_line() {
        let bytes = "code,name\n1,中文\n".as_bytes();
        let err = decode_text(bytes, TextEncoding::parse("gb18030").unwrap());
        // UTF-8 Chinese happens to be decodable as GB18030 only sometimes; a lone 0x80 never is.
        let _ = err;
        let bad = b"code,name\n1,\x80\xff\n";
        match decode_text(bad, TextEncoding::parse("utf-8").unwrap()) {
            Err(AppError::Invalid(errs)) => assert_eq!(errs[0].line, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bom_and_missing_columns() {
        let upload =
            Upload { name: "o.csv", bytes: "\u{feff}code,parent_code,kind\n".as_bytes(), encoding: TextEncoding::Auto };
        let table = read_table(&upload).unwrap();
        match org_rows(&table) {
            Err(AppError::Invalid(errs)) => assert!(errs[0].reason.contains("name")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_encoding_label() {
        assert!(TextEncoding::parse("klingon").is_err());
        assert_eq!(TextEncoding::parse("GBK").unwrap(), TextEncoding::Named(encoding_rs::GBK));
    }

    fn xlsx(cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for &(row, col, value) in cells {
            sheet.write_string(row, col, value).unwrap();
        }
        book.save_to_buffer().unwrap()
    }

    fn refusal(bytes: &[u8]) -> String {
        match read_table(&Upload { name: "orgs.xlsx", bytes, encoding: TextEncoding::Auto }) {
            Err(AppError::Invalid(errs)) => errs[0].reason.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cell_in_the_last_column_of_the_last_row_is_refused_without_reading_the_range() {
        let bomb = xlsx(&[(0, 0, "code"), (1_048_575, 16_383, "x")]);
        let reason = refusal(&bomb);
        assert!(reason.contains("XFD1048576") && reason.contains("256"), "{reason}");
    }

    #[test]
    fn sparse_rows_keep_their_sheet_line_numbers() {
        let book = xlsx(&[(2, 0, "code"), (2, 1, "name"), (5, 1, "名称"), (9, 0, "X1")]);
        let table = read_table(&Upload { name: "o.xlsx", bytes: &book, encoding: TextEncoding::Auto }).unwrap();
        assert_eq!(table.header, ["code", "name"]);
        assert_eq!(table.rows, [(6, vec![String::new(), "名称".to_string()]), (10, vec!["X1".to_string()])]);
    }

    #[test]
    fn a_workbook_that_inflates_past_the_limit_is_refused() {
        let fillers: Vec<String> = (0..5).map(|i| format!("{i}{}", "效能".repeat(5_000))).collect();
        let mut cells = vec![(0, 0, "code")];
        cells.extend(fillers.iter().enumerate().map(|(i, f)| (i as u32 + 1, 0, f.as_str())));
        let book = xlsx(&cells);
        assert!(book.len() < 64 << 10, "the filler compresses: {} bytes", book.len());
        let reason = check_inflated_size(&book, 64 << 10).unwrap_err();
        assert!(reason.contains("解压后超过"), "{reason}");
        check_inflated_size(&book, 4 << 20).unwrap();
    }
}
