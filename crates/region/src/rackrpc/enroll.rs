//! `Enrollment.Enroll`: a rack proves it knows the shared secret (an HMAC
//! bound to the certificate it saw), gets its CSR signed with a new system
//! id, and the region proves the same back.

use std::net::IpAddr;

use maas_rpc::pb::{self, enrollment_server::Enrollment};
use maas_rpc::{proof, tls};
use tonic::{Request, Response, Status};

use super::Svc;
use crate::error::Error;
use crate::services::racks::{self, NewRack};

#[tonic::async_trait]
impl Enrollment for Svc {
    async fn enroll(
        &self,
        req: Request<pb::EnrollRequest>,
    ) -> Result<Response<pb::EnrollResponse>, Status> {
        let s = &self.0;
        let ip = req
            .remote_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let r = req.into_inner();
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        racks::check_enroll_request(&r.hostname, &r.rack_nonce, &r.csr_der, r.timestamp, now)?;
        // Only failures under this hostname count: a neighbour on the same
        // address guessing under other names cannot lock this rack out.
        if let Err(e) = s.limiter.check(ip, &r.hostname) {
            tracing::debug!(%ip, hostname = %r.hostname, "rack enrollment rate limited");
            return Err(e.into());
        }
        let secret = racks::enrollment_secret(&s.db).await?;
        let expected = proof::rack_proof(
            &secret,
            &r.rack_nonce,
            r.timestamp,
            &r.csr_der,
            &s.server_cert_der,
            &r.hostname,
        );
        if !proof::verify(&expected, &r.proof) {
            let failures = s.limiter.failed(ip, &r.hostname);
            tracing::warn!(%ip, hostname = %r.hostname, failures, limit = racks::FAIL_LIMIT,
                "rack enrollment refused: wrong secret");
            return Err(Error::Forbidden(
                "enrollment refused: the rack's proof does not match this region's secret (check --secret)".into(),
            )
            .into());
        }
        s.limiter.succeeded(ip, &r.hostname);
        let (system_id, cert, serial) = loop {
            let system_id = maas_model::ids::new_system_id();
            let (cert, _) =
                s.ca.sign_rack_csr(&r.csr_der, &system_id)
                    .map_err(|e| Error::BadRequest(e.to_string()))?;
            // The serial exactly as sessions read it back from the certificate.
            let (_, serial) = tls::cert_identity(&cert).map_err(Error::Internal)?;
            let rack = NewRack {
                system_id: &system_id,
                hostname: &r.hostname,
                version: &r.version,
                cert_serial: &serial,
                cert_fingerprint: &tls::fingerprint(&cert),
            };
            if racks::register(&s.db, &rack).await? {
                break (system_id, cert, serial);
            }
        };
        tracing::info!(%system_id, hostname = %r.hostname, %serial, "rack enrolled");
        let proof = proof::region_proof(&secret, &r.rack_nonce, &cert, &s.ca.cert_der, &system_id);
        Ok(Response::new(pb::EnrollResponse {
            system_id,
            certificate_der: cert,
            ca_der: s.ca.cert_der.clone(),
            proof,
        }))
    }
}
