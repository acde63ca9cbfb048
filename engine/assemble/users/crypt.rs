//! Deterministic SHA-512 crypt (`$6$`) password hashing for account files.
//!
//! Builds must be reproducible, so the salt is not random: it is the first
//! 12 bytes of `SHA-512("forge-users-salt\0" || seed || "\0" || user)`,
//! encoded as the usual 16 crypt-base64 characters. The seed is given by the
//! caller (e.g. derived from the configuration), so the same seed, user and
//! password always give the same hash, while different seeds or users give
//! different salts. The round count is the SHA-crypt default (5000), written
//! out explicitly (`$6$rounds=5000$salt$hash`), which every crypt(3)
//! implementation reads.

use sha_crypt::{PasswordHasher, PasswordVerifier, ShaCrypt};
use sha2::{Digest, Sha512};

use super::UsersError;

/// The salt bytes for `user` under `seed` (see the module documentation).
fn salt_for(seed: &[u8], user: &str) -> [u8; 12] {
    let mut h = Sha512::new();
    h.update(b"forge-users-salt\0");
    h.update(seed);
    h.update(b"\0");
    h.update(user.as_bytes());
    let digest = h.finalize();
    let mut salt = [0u8; 12];
    salt.copy_from_slice(&digest[..12]);
    salt
}

/// SHA-512 crypt of `clear` for `user`, with the salt derived from `seed`.
pub fn hash_password(seed: &[u8], user: &str, clear: &str) -> Result<String, UsersError> {
    ShaCrypt::SHA512
        .hash_password_with_salt(clear.as_bytes(), &salt_for(seed, user))
        .map(|h| h.as_str().to_string())
        .map_err(|e| UsersError::Hash {
            user: user.to_string(),
            reason: e.to_string(),
        })
}

/// Whether `clear` matches the `$5$`/`$6$` crypt `hash`.
pub fn verify_password(clear: &str, hash: &str) -> bool {
    ShaCrypt::SHA512
        .verify_password(clear.as_bytes(), hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_verifiable() {
        let a = hash_password(b"seed", "foo", "secret").unwrap();
        assert_eq!(a, hash_password(b"seed", "foo", "secret").unwrap());
        assert_ne!(a, hash_password(b"seed", "bar", "secret").unwrap());
        assert_ne!(a, hash_password(b"other", "foo", "secret").unwrap());
        assert!(a.starts_with("$6$rounds=5000$"), "{a}");
        assert!(verify_password("secret", &a));
        assert!(!verify_password("Secret", &a));
    }

    #[test]
    fn known_vector_from_glibc() {
        // Computed with glibc crypt(3) for "a" and salt "abc".
        let h = "$6$abc$nlhAD6nGlGRMDj1Sphvkk9r/6E8dgKu7aqKErMwZ3U3A1onV461eE5jl9tfrBIm/M2o5cPL52lhAdhLA0OvUD/";
        assert!(verify_password("a", h));
    }

    /// Cross-checks against the host's crypt(3) through python3's `crypt`
    /// module, when both are available (skipped otherwise).
    #[test]
    fn matches_host_crypt() {
        let h = hash_password(b"seed", "foo", "pass word!").unwrap();
        let out = std::process::Command::new("python3")
            .args([
                "-W",
                "ignore",
                "-c",
                "import crypt,sys; print(crypt.crypt(sys.argv[1], sys.argv[2]))",
                "pass word!",
                &h,
            ])
            .output();
        match out {
            Ok(o) if o.status.success() => {
                assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), h);
            }
            _ => eprintln!("python3 crypt unavailable; skipped"),
        }
    }
}
