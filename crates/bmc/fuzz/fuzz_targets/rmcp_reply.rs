//! Every parser a BMC's reply reaches: RMCP/IPMI 1.5 framing, RMCP+ framing with
//! and without integrity/confidentiality keys, IPMI responses, Open Session and
//! RAKP 2/4 payloads. None may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maas_bmc::ipmi::crypto::Suite;
use maas_bmc::ipmi::packet::*;

fuzz_target!(|data: &[u8]| {
    let _ = is_v20(data);
    if let Ok(p) = parse_v15(data) {
        let _ = parse_ipmi_response(&p.msg);
    }
    let _ = parse_v20(data, None);
    for suite in [Suite::S3, Suite::S17] {
        let k = Protect {
            suite,
            k1: vec![0x11; suite.hmac_len()],
            aes: [0x22; 16],
        };
        if let Ok(p) = parse_v20(data, Some(&k)) {
            let _ = parse_ipmi_response(&p.payload);
        }
    }
    let _ = parse_ipmi_response(data);
    let _ = parse_open_session_response(data);
    let _ = parse_rakp2(data);
    let _ = parse_rakp4(data);
    let _ = maas_bmc::ipmi::crypto::decrypt(&[0x22; 16], data);
});
