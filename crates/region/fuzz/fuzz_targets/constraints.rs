//! Allocation constraints and listing filters from any form body: parsed or
//! refused with field errors, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maas_model::constraints::{Constraints, Params, parse_interfaces, parse_storage};
use maas_model::filter::MachineFilter;

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(data).unwrap_or_default();
    let mut params = Params::new();
    for (k, v) in pairs {
        params.entry(k).or_default().push(v);
    }
    if let Ok(c) = Constraints::parse(&params) {
        let _ = MachineFilter::for_allocation(&c);
    }
    let _ = MachineFilter::from_read_params(&params);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_storage(s);
        let _ = parse_interfaces(s);
    }
});
