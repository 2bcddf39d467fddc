//! RMCP+ cryptography: RAKP authentication codes, session keys (SIK, K1, K2),
//! integrity (HMAC-SHA1-96 / HMAC-SHA256-128) and AES-CBC-128 confidentiality
//! with the IPMI pad (1, 2, 3, … then the pad length).

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

/// The two authentication/integrity families we speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// Cipher suite 3: RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128.
    S3,
    /// Cipher suite 17: RAKP-HMAC-SHA256, HMAC-SHA256-128, AES-CBC-128.
    S17,
}

impl Suite {
    pub fn id(self) -> u8 {
        match self {
            Suite::S3 => 3,
            Suite::S17 => 17,
        }
    }
    pub fn from_id(id: u8) -> Option<Suite> {
        match id {
            3 => Some(Suite::S3),
            17 => Some(Suite::S17),
            _ => None,
        }
    }
    /// Algorithm numbers offered in Open Session (auth, integrity, confidentiality).
    pub fn algorithms(self) -> (u8, u8, u8) {
        match self {
            Suite::S3 => (0x01, 0x01, 0x01),
            Suite::S17 => (0x03, 0x04, 0x01),
        }
    }
    /// Length of the full HMAC (RAKP2/RAKP3 key exchange codes, SIK, K1, K2).
    pub fn hmac_len(self) -> usize {
        match self {
            Suite::S3 => 20,
            Suite::S17 => 32,
        }
    }
    /// Length of the truncated codes: RAKP4's ICV and each packet's integrity code.
    pub fn icv_len(self) -> usize {
        match self {
            Suite::S3 => 12,
            Suite::S17 => 16,
        }
    }

    /// HMAC over the concatenation of `parts` with the suite's hash.
    pub fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Suite::S3 => {
                // An HMAC key of any length is accepted; new_from_slice cannot fail.
                let mut m = match Hmac::<Sha1>::new_from_slice(key) {
                    Ok(m) => m,
                    Err(_) => return Vec::new(),
                };
                for p in parts {
                    m.update(p);
                }
                m.finalize().into_bytes().to_vec()
            }
            Suite::S17 => {
                let mut m = match Hmac::<Sha256>::new_from_slice(key) {
                    Ok(m) => m,
                    Err(_) => return Vec::new(),
                };
                for p in parts {
                    m.update(p);
                }
                m.finalize().into_bytes().to_vec()
            }
        }
    }
}

/// Everything RAKP messages 1–4 hash over.
#[derive(Debug, Clone)]
pub struct RakpInputs<'a> {
    /// Remote console (our) session id, SIDm.
    pub sid_m: u32,
    /// Managed system (BMC) session id, SIDc.
    pub sid_c: u32,
    pub rm: [u8; 16],
    pub rc: [u8; 16],
    pub guid_c: [u8; 16],
    /// Requested role byte as sent in RAKP1 (privilege | 0x10 for name-only lookup).
    pub role: u8,
    pub user: &'a [u8],
}

/// The keys of an established session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKeys {
    pub sik: Vec<u8>,
    pub k1: Vec<u8>,
    pub k2: Vec<u8>,
}

impl SessionKeys {
    pub fn aes_key(&self) -> [u8; 16] {
        let mut k = [0u8; 16];
        let n = self.k2.len().min(16);
        k[..n].copy_from_slice(&self.k2[..n]);
        k
    }
}

/// RAKP2's key exchange authentication code, HMAC_Kuid(SIDm‖SIDc‖Rm‖Rc‖GUIDc‖Role‖ULen‖UName).
pub fn rakp2_code(s: Suite, kuid: &[u8], r: &RakpInputs) -> Vec<u8> {
    s.hmac(
        kuid,
        &[
            &r.sid_m.to_le_bytes(),
            &r.sid_c.to_le_bytes(),
            &r.rm,
            &r.rc,
            &r.guid_c,
            &[r.role, r.user.len() as u8],
            r.user,
        ],
    )
}

/// RAKP3's code, HMAC_Kuid(Rc‖SIDm‖Role‖ULen‖UName).
pub fn rakp3_code(s: Suite, kuid: &[u8], r: &RakpInputs) -> Vec<u8> {
    s.hmac(
        kuid,
        &[
            &r.rc,
            &r.sid_m.to_le_bytes(),
            &[r.role, r.user.len() as u8],
            r.user,
        ],
    )
}

/// Session keys: SIK = HMAC_Kg(Rm‖Rc‖Role‖ULen‖UName) (Kg = Kuid when no BMC key is set),
/// K1 = HMAC_SIK(0x01 × N), K2 = HMAC_SIK(0x02 × N).
pub fn session_keys(s: Suite, kuid: &[u8], kg: Option<&[u8]>, r: &RakpInputs) -> SessionKeys {
    let key = kg.unwrap_or(kuid);
    let sik = s.hmac(key, &[&r.rm, &r.rc, &[r.role, r.user.len() as u8], r.user]);
    let n = s.hmac_len();
    let k1 = s.hmac(&sik, &[&vec![0x01u8; n]]);
    let k2 = s.hmac(&sik, &[&vec![0x02u8; n]]);
    SessionKeys { sik, k1, k2 }
}

/// RAKP4's integrity check value, HMAC_SIK(Rm‖SIDc‖GUIDc) truncated.
pub fn rakp4_icv(s: Suite, sik: &[u8], r: &RakpInputs) -> Vec<u8> {
    let mut v = s.hmac(sik, &[&r.rm, &r.sid_c.to_le_bytes(), &r.guid_c]);
    v.truncate(s.icv_len());
    v
}

/// Per-packet integrity code: HMAC_K1 over the session header through the next-header byte, truncated.
pub fn integrity_code(s: Suite, k1: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = s.hmac(k1, &[data]);
    v.truncate(s.icv_len());
    v
}

/// Constant-time comparison of two codes.
pub fn codes_equal(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

type Enc = cbc::Encryptor<aes::Aes128>;
type Dec = cbc::Decryptor<aes::Aes128>;

/// AES-CBC-128 with the IPMI confidentiality pad: output is IV ‖ ciphertext of
/// (payload ‖ 1,2,…,N ‖ N) where the plaintext length is a multiple of 16.
pub fn encrypt(key: &[u8; 16], iv: &[u8; 16], payload: &[u8]) -> Vec<u8> {
    let pad = (16 - (payload.len() + 1) % 16) % 16;
    let mut buf = Vec::with_capacity(16 + payload.len() + pad + 1);
    buf.extend_from_slice(payload);
    for i in 1..=pad {
        buf.push(i as u8);
    }
    buf.push(pad as u8);
    let len = buf.len();
    let ct = match Enc::new(key.into(), iv.into()).encrypt_padded_mut::<NoPadding>(&mut buf, len) {
        Ok(ct) => ct.to_vec(),
        Err(_) => Vec::new(), // unreachable: len is a multiple of 16
    };
    let mut out = iv.to_vec();
    out.extend_from_slice(&ct);
    out
}

/// Reverse of [`encrypt`]; `None` when the data is not IV + whole blocks or the pad is wrong.
pub fn decrypt(key: &[u8; 16], data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < 32 || !data.len().is_multiple_of(16) {
        return None;
    }
    let (iv, ct) = data.split_at(16);
    let mut buf = ct.to_vec();
    let iv: [u8; 16] = iv.try_into().ok()?;
    let pt = Dec::new(key.into(), (&iv).into())
        .decrypt_padded_mut::<NoPadding>(&mut buf)
        .ok()?;
    let pad = *pt.last()? as usize;
    if pad + 1 > pt.len() || pad > 15 {
        return None;
    }
    let body = pt.len() - pad - 1;
    for (i, b) in pt[body..pt.len() - 1].iter().enumerate() {
        if *b as usize != i + 1 {
            return None;
        }
    }
    Some(pt[..body].to_vec())
}

/// The IPMI 1.5 MD5 auth code: MD5(password ‖ session id ‖ message ‖ session seq ‖ password).
pub fn md5_auth_code(password: &[u8; 16], session_id: u32, msg: &[u8], seq: u32) -> [u8; 16] {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    h.update(password);
    h.update(session_id.to_le_bytes());
    h.update(msg);
    h.update(seq.to_le_bytes());
    h.update(password);
    h.finalize().into()
}
