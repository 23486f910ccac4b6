//! An event request's body read as numbered lines while it arrives (NDJSON), or, when it is a
//! JSON array, as one line per element. A body of any length is held a line at a time: a flood
//! of empty lines costs nothing, a line or a body past its limit ends the reading with an error
//! that names the line and the limit.

use std::pin::Pin;

use axum::body::{Body, Bytes};
use futures_util::{Stream, StreamExt};
use oversight_app::AppError;
use oversight_domain::RowError;

/// Numbered lines, as `cases::ingest_stream` reads them.
pub type Lines = Pin<Box<dyn Stream<Item = Result<(usize, String), AppError>> + Send>>;

/// The longest line read: an event is a few hundred bytes.
pub const MAX_LINE: usize = 1 << 20;

/// Reads `body` as NDJSON of at most `limit` bytes, or as a JSON array of at most
/// `array_limit` bytes (an array is parsed whole, so it has the smaller limit).
pub async fn event_lines(body: Body, limit: usize, array_limit: usize) -> Result<Lines, AppError> {
    let mut reader = LineReader { data: body.into_data_stream(), buf: Vec::new(), pos: 0, line: 0, total: 0, limit };
    // The first byte that is not white space tells an array from NDJSON.
    loop {
        if let Some(&first) = reader.buf[reader.pos..].iter().find(|b| !b.is_ascii_whitespace()) {
            if first == b'[' {
                reader.limit = array_limit;
                return array_lines(reader).await;
            }
            break;
        }
        // Blank so far: counted and let go of (an array's lines are not numbered).
        reader.skip_blank_lines();
        if !reader.fill().await? {
            break;
        }
    }
    Ok(Box::pin(futures_util::stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        match reader.next_line().await {
            Ok(Some(line)) => Some((Ok(line), Some(reader))),
            Ok(None) => None,
            // Nothing is read after an error.
            Err(e) => Some((Err(e), None)),
        }
    })))
}

/// Lines of a JSON array: each element, as text, numbered from 1.
async fn array_lines(mut reader: LineReader) -> Result<Lines, AppError> {
    reader.check_size()?;
    while reader.fill().await? {}
    let items: Vec<Box<serde_json::value::RawValue>> = serde_json::from_slice(&reader.buf[reader.pos..])
        .map_err(|e| AppError::field("body", format!("不是有效的 JSON 数组：{e}")))?;
    let lines = items.into_iter().enumerate().map(|(i, item)| Ok((i + 1, String::from(Box::<str>::from(item)))));
    Ok(Box::pin(futures_util::stream::iter(lines)))
}

struct LineReader {
    data: axum::body::BodyDataStream,
    buf: Vec<u8>,
    /// Where the unread part of `buf` starts.
    pos: usize,
    /// The number of the last line given.
    line: usize,
    /// Bytes received.
    total: usize,
    limit: usize,
}

impl LineReader {
    /// Receives the next piece of the body; false at its end.
    async fn fill(&mut self) -> Result<bool, AppError> {
        let Some(piece) = self.data.next().await else { return Ok(false) };
        let piece: Bytes = piece.map_err(|e| AppError::field("body", format!("请求体没有收完：{e}")))?;
        self.total += piece.len();
        self.check_size()?;
        // What was read is dropped before the buffer grows.
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(&piece);
        Ok(true)
    }

    fn check_size(&self) -> Result<(), AppError> {
        if self.total <= self.limit {
            return Ok(());
        }
        Err(AppError::TooLarge(format!("请求体超过 {} MiB，请分批报送", self.limit >> 20)))
    }

    async fn next_line(&mut self) -> Result<Option<(usize, String)>, AppError> {
        let mut scanned = 0;
        loop {
            if scanned == 0 {
                self.skip_blank_lines();
            }
            let rest = &self.buf[self.pos..];
            if let Some(i) = rest[scanned..].iter().position(|&b| b == b'\n') {
                let end = self.pos + scanned + i;
                let line = self.take(end)?;
                self.pos = end + 1;
                return Ok(Some(line));
            }
            scanned = rest.len();
            if scanned > MAX_LINE {
                return Err(self.too_long());
            }
            if !self.fill().await? {
                if self.buf[self.pos..].iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                let end = self.buf.len();
                let line = self.take(end)?;
                self.pos = end;
                return Ok(Some(line));
            }
        }
    }

    /// Counts the blank lines at the read position and moves past them, in one pass over the
    /// white space: a flood of empty lines is only scanned.
    fn skip_blank_lines(&mut self) {
        let rest = &self.buf[self.pos..];
        let blank = rest.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(rest.len());
        if let Some(last) = rest[..blank].iter().rposition(|&b| b == b'\n') {
            self.line += rest[..=last].iter().filter(|&&b| b == b'\n').count();
            self.pos += last + 1;
        }
    }

    /// The line from the read position to `end` (a `\r` before the newline dropped).
    fn take(&mut self, end: usize) -> Result<(usize, String), AppError> {
        let bytes = &self.buf[self.pos..end];
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.len() > MAX_LINE {
            return Err(self.too_long());
        }
        self.line += 1;
        let text = std::str::from_utf8(bytes)
            .map_err(|_| AppError::Invalid(vec![RowError::new(self.line, "", "这一行不是 UTF-8 文本")]))?;
        Ok((self.line, text.to_string()))
    }

    fn too_long(&self) -> AppError {
        AppError::Invalid(vec![RowError::new(
            self.line + 1,
            "",
            format!("一行超过 {} KiB，不是一条事件", MAX_LINE >> 10),
        )])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body arriving in the given pieces.
    fn body(pieces: &[&[u8]]) -> Body {
        let pieces: Vec<Result<Bytes, std::io::Error>> = pieces.iter().map(|p| Ok(Bytes::copy_from_slice(p))).collect();
        Body::from_stream(futures_util::stream::iter(pieces))
    }

    async fn read(pieces: &[&[u8]], limit: usize) -> Result<Vec<(usize, String)>, AppError> {
        let mut lines = event_lines(body(pieces), limit, 64).await?;
        let mut out = Vec::new();
        while let Some(line) = lines.next().await {
            out.push(line?);
        }
        Ok(out)
    }

    fn owned(lines: &[(usize, &str)]) -> Vec<(usize, String)> {
        lines.iter().map(|(n, t)| (*n, t.to_string())).collect()
    }

    #[tokio::test]
    async fn lines_keep_their_numbers_across_pieces_and_blank_lines() {
        let lines = read(&[b"\n \n{\"a\"", b":1}\r\n\n\n", b"{\"b\":2}\n", b"  \n{\"c\":3}"], 1 << 20).await.unwrap();
        assert_eq!(lines, owned(&[(3, r#"{"a":1}"#), (6, r#"{"b":2}"#), (8, r#"{"c":3}"#)]));
        assert_eq!(read(&[b"\n\n \n"], 1 << 20).await.unwrap(), owned(&[]));
        assert_eq!(read(&[], 1 << 20).await.unwrap(), owned(&[]));
    }

    #[tokio::test]
    async fn an_array_gives_one_line_per_element() {
        let lines = read(&[b"\n  [{\"a\":1},", b" {\"b\": [2, 3]}]"], 1 << 20).await.unwrap();
        assert_eq!(lines, owned(&[(1, r#"{"a":1}"#), (2, r#"{"b": [2, 3]}"#)]));
        match read(&[b"[{\"a\":1},"], 1 << 20).await {
            Err(AppError::Invalid(errs)) => assert_eq!(errs[0].field, "body"),
            other => panic!("{other:?}"),
        }
        // An array is parsed whole, so it has its own, smaller limit (64 bytes here).
        let long = format!("[{}]", "1,".repeat(40) + "1");
        assert!(matches!(read(&[long.as_bytes()], 1 << 20).await, Err(AppError::TooLarge(_))));
    }

    #[tokio::test]
    async fn limits_name_the_line_or_the_size() {
        let mut long = vec![b'x'; MAX_LINE + 1];
        long.push(b'\n');
        match read(&[b"{}\n\n", &long[..4096], &long[4096..]], 4 << 20).await {
            Err(AppError::Invalid(errs)) => assert_eq!(errs[0].line, 3),
            other => panic!("{other:?}"),
        }
        match read(&[b"{}\n", b"\xff\xfe\n"], 1 << 20).await {
            Err(AppError::Invalid(errs)) => assert_eq!((errs[0].line, errs[0].reason.contains("UTF-8")), (2, true)),
            other => panic!("{other:?}"),
        }
        let err = read(&[b"{}\n", &[b'\n'; 100]], 64).await.unwrap_err();
        assert!(matches!(&err, AppError::TooLarge(m) if m.contains("MiB")), "{err:?}");
    }
}
