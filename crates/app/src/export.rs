//! Report exports: one XLSX layout for the reports whose groups carry a row of figures each.

use crate::AppError;
use crate::tickets::Figure;

/// One line of an export: the group's key and name, its figures in the period, and in the
/// comparison period when there is one.
pub struct Line {
    pub key: String,
    pub name: String,
    pub current: Vec<Figure>,
    pub previous: Option<Vec<Figure>>,
}

/// A workbook of one sheet: a title, the period (and the comparison's) described, then a row
/// per line and period under `header` (the figures' labels); rates as percentages, a rate with
/// no base as “—”.
pub fn compared_xlsx(
    sheet_name: &str,
    title: &str,
    period_note: &str,
    compare_note: Option<&str>,
    header: &[&str],
    lines: &[Line],
) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook, Worksheet};
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::internal("building the XLSX file failed", e);
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name).map_err(fail)?;
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    sheet.write_string_with_format(0, 0, title, &bold).map_err(fail)?;
    sheet.write_string(1, 0, format!("统计期：{period_note}")).map_err(fail)?;
    if let Some(note) = compare_note {
        sheet.write_string(2, 0, format!("对比期：{note}")).map_err(fail)?;
    }
    let write = |sheet: &mut Worksheet, row: u32, col: u16, f: Figure| -> Result<(), AppError> {
        match f {
            Figure::Count(n) => sheet.write_number(row, col, n as f64).map(|_| ()).map_err(fail),
            Figure::Rate(Some(x)) => sheet.write_number_with_format(row, col, x, &percent).map(|_| ()).map_err(fail),
            Figure::Rate(None) => sheet.write_string(row, col, "—").map(|_| ()).map_err(fail),
        }
    };
    let mut row = 4u32;
    for (i, h) in ["分组", "名称", "期间"].iter().chain(header).enumerate() {
        sheet.write_string_with_format(row, i as u16, *h, &bold).map_err(fail)?;
    }
    for line in lines {
        for (which, figures) in [("统计期", Some(&line.current)), ("对比期", line.previous.as_ref())] {
            let Some(figures) = figures else { continue };
            row += 1;
            sheet.write_string(row, 0, &line.key).map_err(fail)?;
            sheet.write_string(row, 1, &line.name).map_err(fail)?;
            sheet.write_string(row, 2, which).map_err(fail)?;
            for (i, f) in figures.iter().enumerate() {
                write(sheet, row, 3 + i as u16, *f)?;
            }
        }
    }
    sheet.set_column_width(0, 14).map_err(fail)?;
    sheet.set_column_width(1, 24).map_err(fail)?;
    book.save_to_buffer().map_err(fail)
}
