//! The region ↔ rack contract: generated gRPC code (`proto/maas/rack/v1`),
//! conversions between it and the model's types (`convert`), enrollment
//! proofs, and the TLS pieces both sides use (region CA, CSR
//! signing, mutual-TLS configs, a tonic connector).

pub mod convert;
pub mod proof;
pub mod tls;

#[allow(clippy::all, clippy::pedantic)]
pub mod pb {
    tonic::include_proto!("maas.rack.v1");
}

/// Install ring as the process-wide rustls provider (idempotent). Call first
/// thing in every binary and test that uses TLS.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
