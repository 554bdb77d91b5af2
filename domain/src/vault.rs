//! Secrets Portico must send on, not just compare (partners' client secrets): sealed with
//! AES-256-GCM under a key kept in a file of its own, outside the database, so that a copy
//! of the database reads none of them. Each sealed value is bound to what it belongs to (a
//! provider's id): moved to another row, it does not open.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::secrets::random_bytes;

/// How a sealed value starts; a value without it was stored before sealing.
const SEALED: &str = "sealed:v1:";

/// The key that seals and opens stored secrets.
pub struct Vault {
    key: LessSafeKey,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault")
    }
}

impl Vault {
    /// A vault with this 256-bit key.
    pub fn with_key(key: &[u8; 32]) -> Result<Vault, String> {
        let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| "not an AES-256 key")?;
        Ok(Vault {
            key: LessSafeKey::new(key),
        })
    }

    /// The key in `path` (32 bytes), made there (readable by this user alone) when there is
    /// no such file yet.
    pub fn load_or_create(path: &Path) -> Result<Vault, String> {
        let shown = path.display();
        match std::fs::read(path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.try_into().map_err(|_| {
                    format!("{shown} is not a key of Portico's (it must hold 32 bytes)")
                })?;
                Vault::with_key(&key)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(folder)
                        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
                }
                let key = random_bytes::<32>();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options
                    .open(path)
                    .map_err(|e| format!("cannot create the key file {shown}: {e}"))?;
                file.write_all(&key)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| format!("cannot write the key file {shown}: {e}"))?;
                Vault::with_key(&key)
            }
            Err(error) => Err(format!("cannot read the key file {shown}: {error}")),
        }
    }

    /// `plain`, sealed for `owner`: a random nonce, then the sealed bytes and their tag.
    pub(crate) fn seal_bytes(&self, owner: &[u8], plain: &[u8]) -> crate::Result<Vec<u8>> {
        let nonce = random_bytes::<NONCE_LEN>();
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(owner),
                &mut sealed,
            )
            .map_err(|_| crate::Error::Hashing("a secret could not be sealed".into()))?;
        Ok([&nonce[..], &sealed].concat())
    }

    /// What [`Vault::seal_bytes`] sealed for `owner`; None when it does not open (another
    /// key, another owner, altered).
    pub(crate) fn open_bytes(&self, owner: &[u8], mut sealed: Vec<u8>) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let mut body = sealed.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&sealed).ok()?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(owner), &mut body)
            .ok()?;
        Some(plain.to_vec())
    }

    /// `plain`, sealed for `owner`, as text to store.
    pub fn seal(&self, owner: &str, plain: &str) -> crate::Result<String> {
        let sealed = self.seal_bytes(owner.as_bytes(), plain.as_bytes())?;
        Ok(format!("{SEALED}{}", URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// Whether `stored` is sealed already.
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED)
    }

    /// The secret `stored` holds for `owner`: opened when sealed, as it is when it was kept
    /// before sealing. None when it does not open (another key, another owner, altered).
    pub fn open(&self, owner: &str, stored: &str) -> Option<String> {
        let Some(sealed) = stored.strip_prefix(SEALED) else {
            return Some(stored.to_string());
        };
        let sealed = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        String::from_utf8(self.open_bytes(owner.as_bytes(), sealed)?).ok()
    }
}
