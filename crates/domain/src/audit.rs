//! The audit log's hash chain: each row's hash covers its content and the previous row's hash,
//! so that a changed, removed or inserted row breaks the chain at that point.

use sha2::{Digest, Sha256};

/// The hash that precedes the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What one audit row records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// JSON: before/after or other detail.
    pub detail: String,
    /// Where the row is filed in the network (who may read it), when the hash covers it: rows
    /// written before it did have `None` and keep the hash they were written with. A row moved
    /// between the two forms no longer matches its hash, so the form is covered too.
    pub path: Option<String>,
}

impl AuditEntry {
    pub fn hash(&self, prev_hash: &str) -> String {
        let mut h = Sha256::new();
        let seq = self.seq.to_string();
        let mut parts = vec![prev_hash, &seq, &self.at, &self.actor, &self.action, &self.target, &self.detail];
        if let Some(path) = &self.path {
            parts.push(path);
        }
        for part in parts {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// A stored row: its entry and the hashes it was stored with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainedEntry {
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("第 {seq} 条审计记录的内容与其哈希不符（记录被改动）")]
    Tampered { seq: i64 },
    #[error("第 {seq} 条审计记录与前一条不相接（记录被删除、插入或改动）")]
    Unlinked { seq: i64 },
    #[error("审计记录序号不连续：第 {expected} 条缺失（下一条为第 {found} 条）")]
    Gap { expected: i64, found: i64 },
}

/// Checks a run of consecutive rows that follows a row whose hash is `prev_hash`.
pub fn verify_chain<'a>(
    prev_seq: i64,
    prev_hash: &str,
    rows: impl IntoIterator<Item = &'a ChainedEntry>,
) -> Result<(i64, String), ChainBreak> {
    let mut seq = prev_seq;
    let mut prev = prev_hash.to_string();
    for row in rows {
        let e = &row.entry;
        if e.seq != seq + 1 {
            return Err(ChainBreak::Gap { expected: seq + 1, found: e.seq });
        }
        if row.prev_hash != prev {
            return Err(ChainBreak::Unlinked { seq: e.seq });
        }
        if e.hash(&row.prev_hash) != row.hash {
            return Err(ChainBreak::Tampered { seq: e.seq });
        }
        seq = e.seq;
        prev = row.hash.clone();
    }
    Ok((seq, prev))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<ChainedEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let entry = AuditEntry {
                    seq,
                    at: "2026-11-28T00:00:00Z".into(),
                    actor: "admin".into(),
                    action: "org.rename".into(),
                    target: format!("46010{seq}"),
                    detail: "{}".into(),
                    path: (seq > 2).then(|| "/460100/".to_string()),
                };
                let hash = entry.hash(&prev);
                let row = ChainedEntry { entry, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                row
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies() {
        let rows = chain(5);
        assert_eq!(verify_chain(0, GENESIS, &rows).unwrap().0, 5);
    }

    #[test]
    fn edits_deletions_and_insertions_are_found() {
        let mut rows = chain(5);
        rows[2].entry.actor = "intruder".into();
        assert_eq!(verify_chain(0, GENESIS, &rows), Err(ChainBreak::Tampered { seq: 3 }));

        let mut rows = chain(5);
        rows.remove(3);
        assert_eq!(verify_chain(0, GENESIS, &rows), Err(ChainBreak::Gap { expected: 4, found: 5 }));

        let mut rows = chain(5);
        // A row rewritten with a fresh hash still does not link to its successor.
        rows[1].entry.detail = "{\"x\":1}".into();
        rows[1].hash = rows[1].entry.hash(&rows[1].prev_hash);
        assert_eq!(verify_chain(0, GENESIS, &rows), Err(ChainBreak::Unlinked { seq: 3 }));
    }

    #[test]
    fn a_row_moved_to_another_place_in_the_network_is_found() {
        let mut rows = chain(5);
        rows[3].entry.path = Some("/460100/460105/".into());
        assert_eq!(verify_chain(0, GENESIS, &rows), Err(ChainBreak::Tampered { seq: 4 }));
        // Nor can a row be passed off as written before paths were hashed.
        let mut rows = chain(5);
        rows[3].entry.path = None;
        assert_eq!(verify_chain(0, GENESIS, &rows), Err(ChainBreak::Tampered { seq: 4 }));
    }
}
