//! The pointer to a step's last upload: `/ac/<blake3 of a fixed domain
//! string, the board and the step>` holds a [`LastUpload`] (the key
//! uploaded, its canonical inputs, when and by which forge), so `forge why`
//! can explain a remote miss by diffing against it. It is written after
//! the action it names, and one that does not decode is treated as absent.

use serde::{Deserialize, Serialize};

/// Separates pointer keys from step keys (which hash length-prefixed
/// input pairs, never this string).
const DOMAIN: &str = "forge last upload v1";

/// What the pointer of `(board, step)` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastUpload {
    pub board: String,
    pub step: String,
    /// The step key whose action was uploaded.
    pub key: String,
    /// The canonical inputs that key was computed from.
    pub inputs: Vec<(String, String)>,
    /// Seconds since the epoch.
    pub time: u64,
    pub forge_version: String,
}

/// The `/ac` key of the pointer of `step` for `board` (hex blake3, like a
/// step key).
pub fn pointer_key(board: &str, step: &str) -> String {
    let mut h = blake3::Hasher::new();
    for part in [DOMAIN, board, step] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

impl LastUpload {
    pub fn new(board: &str, step: &str, key: &str, inputs: &[(String, String)]) -> LastUpload {
        LastUpload {
            board: board.to_string(),
            step: step.to_string(),
            key: key.to_string(),
            inputs: inputs.to_vec(),
            time: crate::store::lifecycle::usage::now(),
            forge_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The pointer of `(board, step)` from its bytes; `Err` says why they
    /// are not one.
    pub fn decode(bytes: &[u8], board: &str, step: &str) -> Result<LastUpload, String> {
        let p: LastUpload =
            serde_json::from_slice(bytes).map_err(|e| format!("unreadable pointer: {e}"))?;
        if p.board != board || p.step != step {
            return Err(format!(
                "the pointer names {} for board {}, not {step} for board {board}",
                p.step, p.board
            ));
        }
        Ok(p)
    }

    /// The upload time as `YYYY-MM-DD HH:MM:SS UTC`.
    pub fn when(&self) -> String {
        crate::utc::Utc::of(i64::try_from(self.time).unwrap_or(i64::MAX)).readable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LastUpload {
        LastUpload::new(
            "shared",
            "wb",
            "abc123",
            &[("option WB_WORD".into(), "one".into())],
        )
    }

    #[test]
    fn a_pointer_round_trips() {
        let p = sample();
        assert_eq!(LastUpload::decode(&p.encode(), "shared", "wb"), Ok(p));
    }

    #[test]
    fn garbage_or_a_pointer_of_another_step_is_refused() {
        assert!(LastUpload::decode(b"{\"not\": \"a pointer\"", "shared", "wb").is_err());
        assert!(LastUpload::decode(b"\x00\xff", "shared", "wb").is_err());
        let p = sample();
        assert!(LastUpload::decode(&p.encode(), "shared", "wa").is_err());
        assert!(LastUpload::decode(&p.encode(), "other", "wb").is_err());
    }

    #[test]
    fn keys_are_per_board_and_step_and_look_like_step_keys() {
        let k = pointer_key("shared", "wb");
        assert_eq!(k.len(), 64);
        assert!(k.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(k, pointer_key("shared", "wa"));
        assert_ne!(k, pointer_key("other", "wb"));
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        assert_ne!(pointer_key("ab", "c"), pointer_key("a", "bc"));
    }
}
