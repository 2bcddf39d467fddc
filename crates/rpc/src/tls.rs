//! TLS for the rack contract: the region CA (shared by every region through
//! the database), server and rack certificates, rustls configs for mutual
//! TLS, and a tonic connector that runs our own rustls client.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use anyhow::{Context as _, anyhow};
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use tokio::net::TcpStream;
use tonic::codegen::http::Uri;

/// The name every region certificate carries; racks check it (with the CA),
/// whatever address they dial.
pub const REGION_NAME: &str = "maas-region";

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A new CA: (certificate PEM, key PEM).
pub fn generate_ca() -> anyhow::Result<(String, String)> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "maas-rs region CA");
    params.distinguished_name = dn;
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2099, 1, 1);
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

pub struct Ca {
    pub cert_der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
}

fn random_serial() -> (SerialNumber, String) {
    let mut b: [u8; 16] = rand::random();
    // Positive and without a leading zero byte, so DER keeps all 16 bytes.
    b[0] = (b[0] & 0x7f) | 0x01;
    (SerialNumber::from_slice(&b), hex::encode(b))
}

impl Ca {
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> anyhow::Result<Ca> {
        let key = KeyPair::from_pem(key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(cert_pem, key)?;
        let der = rustls::pki_types::pem::PemObject::from_pem_slice(cert_pem.as_bytes())
            .map(|c: CertificateDer<'static>| c.to_vec())
            .map_err(|e| anyhow!("CA certificate PEM: {e:?}"))?;
        Ok(Ca {
            cert_der: der,
            issuer,
        })
    }

    /// A server certificate for a region: (cert DER, PKCS#8 key DER).
    pub fn issue_server(&self) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec![REGION_NAME.to_string()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, REGION_NAME);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.serial_number = Some(random_serial().0);
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2099, 1, 1);
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok((cert.der().to_vec(), key.serialize_der()))
    }

    /// Sign a rack's CSR. Only its public key is kept; subject, SAN, usage
    /// and validity are the region's. Returns (cert DER, serial hex).
    pub fn sign_rack_csr(
        &self,
        csr_der: &[u8],
        system_id: &str,
    ) -> anyhow::Result<(Vec<u8>, String)> {
        let der = rustls::pki_types::CertificateSigningRequestDer::from(csr_der.to_vec());
        let mut csr = CertificateSigningRequestParams::from_der(&der)
            .map_err(|e| anyhow!("invalid certificate signing request: {e}"))?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, system_id);
        params.subject_alt_names = vec![SanType::URI(
            format!("urn:maas:rack:{system_id}").try_into()?,
        )];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let (serial, serial_hex) = random_serial();
        params.serial_number = Some(serial);
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2099, 1, 1);
        csr.params = params;
        let cert = csr.signed_by(&self.issuer)?;
        Ok((cert.der().to_vec(), serial_hex))
    }
}

/// A rack's new key and CSR: (key PKCS#8 DER, CSR DER).
pub fn rack_key_and_csr(hostname: &str) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, hostname);
    let csr = params.serialize_request(&key)?;
    Ok((key.serialize_der(), csr.der().to_vec()))
}

/// (common name, serial hex) of a certificate.
pub fn cert_identity(der: &[u8]) -> anyhow::Result<(String, String)> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|e| anyhow!("bad certificate: {e}"))?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|c| c.as_str().ok())
        .unwrap_or("")
        .to_string();
    Ok((cn, hex::encode(cert.raw_serial())))
}

pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(crate::proof::sha256(der))
}

fn roots(ca_der: &[u8]) -> anyhow::Result<RootCertStore> {
    let mut r = RootCertStore::empty();
    r.add(CertificateDer::from(ca_der.to_vec()))
        .context("adding the region CA")?;
    Ok(r)
}

/// The region's server config: client certificates are verified against the
/// CA when presented (a certificate from another CA fails the handshake) and
/// optional, because enrollment happens before the rack has one; the session
/// service refuses callers without one.
pub fn server_config(
    ca_der: &[u8],
    cert_der: &[u8],
    key_der: &[u8],
) -> anyhow::Result<Arc<ServerConfig>> {
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca_der)?), provider())
            .allow_unauthenticated()
            .build()?;
    let mut cfg = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(cert_der.to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.to_vec())),
        )?;
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(cfg))
}

/// The rack's session config: the region must chain to the CA it got at
/// enrollment, and the rack presents its own certificate.
pub fn client_config(
    ca_der: &[u8],
    cert_der: &[u8],
    key_der: &[u8],
) -> anyhow::Result<Arc<ClientConfig>> {
    let mut cfg = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots(ca_der)?)
        .with_client_auth_cert(
            vec![CertificateDer::from(cert_der.to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.to_vec())),
        )?;
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(cfg))
}

/// First contact: accept the region's certificate but remember it; the
/// enrollment proofs then authenticate it with the shared secret.
#[derive(Debug)]
pub struct RecordingVerifier {
    pub seen: Mutex<Option<Vec<u8>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.seen.lock().expect("verifier lock") = Some(end_entity.to_vec());
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

pub fn enrollment_client_config() -> anyhow::Result<(Arc<ClientConfig>, Arc<RecordingVerifier>)> {
    let v = Arc::new(RecordingVerifier {
        seen: Mutex::new(None),
        provider: provider(),
    });
    let mut cfg = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(v.clone())
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok((Arc::new(cfg), v))
}

/// A tonic connector: TCP, then our rustls client with `REGION_NAME` as the
/// server name. Use with `Endpoint::from_shared("http://host:port")`.
#[derive(Clone)]
pub struct Connector {
    pub config: Arc<ClientConfig>,
}

type BoxErr = Box<dyn std::error::Error + Send + Sync>;

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<tokio_rustls::client::TlsStream<TcpStream>>;
    type Error = BoxErr;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxErr>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxErr>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let config = self.config.clone();
        Box::pin(async move {
            let host = uri.host().ok_or("URI without host")?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let port = uri.port_u16().unwrap_or(5250);
            let tcp = TcpStream::connect((host, port)).await?;
            tcp.set_nodelay(true)?;
            let name = ServerName::try_from(REGION_NAME)?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await?;
            Ok(TokioIo::new(tls))
        })
    }
}

/// Re-exported so dependants need no direct rustls dependency.
pub use rustls::ClientConfig as RustlsClientConfig;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_signs_rack_csr_keeping_only_the_key() {
        crate::install_crypto();
        let (cert_pem, key_pem) = generate_ca().unwrap();
        let ca = Ca::from_pem(&cert_pem, &key_pem).unwrap();
        let (_key, csr) = rack_key_and_csr("rack1.example").unwrap();
        let (cert, serial) = ca.sign_rack_csr(&csr, "abc123").unwrap();
        let (cn, s2) = cert_identity(&cert).unwrap();
        assert_eq!(
            cn, "abc123",
            "subject is the region's choice, not the CSR's"
        );
        assert_eq!(serial, s2);
        assert!(ca.sign_rack_csr(b"garbage", "x").is_err());
        let (scert, skey) = ca.issue_server().unwrap();
        assert!(server_config(&ca.cert_der, &scert, &skey).is_ok());
    }
}
