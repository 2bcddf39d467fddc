//! DNS: domains, DNS resources and DNS resource records.

use super::{C, D, R, Resource, U, auth, post};

pub const RESOURCES: &[Resource] = &[
    auth(
        "DomainsHandler",
        "/domains/",
        &[],
        "Manage domains.",
        &[R, C, post("set_serial")],
    ),
    auth(
        "DomainHandler",
        "/domains/{id}/",
        &["id"],
        "Manage domain.",
        &[R, U, D, post("set_default")],
    ),
    auth(
        "DNSResourcesHandler",
        "/dnsresources/",
        &[],
        "Manage dnsresources.",
        &[R, C],
    ),
    auth(
        "DNSResourceHandler",
        "/dnsresources/{id}/",
        &["id"],
        "Manage dnsresource.",
        &[R, U, D],
    ),
    auth(
        "DNSResourceRecordsHandler",
        "/dnsresourcerecords/",
        &[],
        "Manage DNS resource records (e.g. CNAME, MX, NS, SRV, TXT)",
        &[R, C],
    ),
    auth(
        "DNSResourceRecordHandler",
        "/dnsresourcerecords/{id}/",
        &["id"],
        "Manage dnsresourcerecord.",
        &[R, U, D],
    ),
];
