//! Frames the agent hears on its NICs while commissioning: any bytes give a
//! neighbour or nothing, never a panic, and a neighbour's document is
//! well-formed enough to end where it should.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maas_agent::inventory::lldp;

fuzz_target!(|data: &[u8]| {
    if let Some(n) = lldp::parse(data, "eth0") {
        let x = lldp::xml(&[n]);
        assert!(x.ends_with("</lldp>\n"));
        assert_eq!(x.matches("<interface ").count(), 1);
    }
});
