//! The TFTP request path: packet parse, then the file-name sanitiser; and the
//! MAC parse of `/ipxe.cfg-<mac>` and the Range header. None may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maas_boot::http::range::{RangeSpec, parse_range};
use maas_boot::mac::Mac;
use maas_boot::path::sanitize;
use maas_boot::tftp::packet::{Packet, parse};

fuzz_target!(|data: &[u8]| {
    if let Ok(Packet::Read(req) | Packet::Write(req)) = parse(data) {
        if let Ok(p) = sanitize(&req.filename) {
            assert!(!p.starts_with('/') && !p.split('/').any(|c| c == ".." || c.is_empty()));
        }
        let _ = req.options.any();
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Some(m) = Mac::parse(s) {
            assert_eq!(Mac::parse(&m.to_string()), Some(m));
        }
    }
    let len = data.first().map_or(0, |b| u64::from(*b) * 1000);
    if let RangeSpec::Partial { start, end } = parse_range(Some(data), len) {
        assert!(start <= end && end < len);
    }
});
