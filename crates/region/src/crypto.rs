//! Encryption at rest for BMC credentials (ChaCha20-Poly1305 with a key the
//! region keeps outside the database).

use std::path::Path;

use anyhow::{Context, bail};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl SecretBox {
    pub fn from_key(key: &[u8; 32]) -> SecretBox {
        SecretBox {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    /// Load the 32-byte key (hex) from `path`, creating it (mode 0600) if absent.
    /// Regions sharing one database must share this file.
    pub fn load_or_create(path: &Path) -> anyhow::Result<SecretBox> {
        if !path.exists() {
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            write_private(path, hex::encode(key).as_bytes())?;
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading secret key {}", path.display()))?;
        let bytes = hex::decode(text.trim()).context("secret key file is not hex")?;
        let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) else {
            bail!(
                "secret key file {} must hold 32 bytes of hex",
                path.display()
            );
        };
        Ok(SecretBox::from_key(&key))
    }

    /// nonce ‖ ciphertext
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain)
            .expect("chacha20poly1305 encryption cannot fail for in-memory buffers");
        let mut out = nonce.to_vec();
        out.extend(ct);
        out
    }

    pub fn open(&self, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < 12 {
            bail!("sealed value too short");
        }
        self.cipher
            .decrypt(Nonce::from_slice(&sealed[..12]), &sealed[12..])
            .map_err(|_| anyhow::anyhow!("cannot decrypt: wrong region secret key?"))
    }
}

pub fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(data)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let b = SecretBox::from_key(&[7u8; 32]);
        let s = b.seal(b"{\"power_pass\":\"x\"}");
        assert!(!s.windows(10).any(|w| w == b"power_pass"));
        assert_eq!(b.open(&s).unwrap(), b"{\"power_pass\":\"x\"}");
        let mut t = s.clone();
        *t.last_mut().unwrap() ^= 1;
        assert!(b.open(&t).is_err());
        assert!(SecretBox::from_key(&[8u8; 32]).open(&s).is_err());
    }
}
