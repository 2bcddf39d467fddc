//! What the rack or region answers the agent: any bytes give a response
//! (status, headers, a body read to its end under a limit) or an error,
//! never a panic or an endless read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maas_agent::http::read_response;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = read_response(data, false) {
        assert!((200..=999).contains(&r.status) || r.status < 200);
        let _ = r.header("content-type");
        if let Ok(body) = r.bytes(1 << 20) {
            assert!(body.len() <= data.len());
        }
    }
});
