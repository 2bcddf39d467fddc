//! The web UI's machine search box (`status:ready pool:default gpu`): any
//! text is parsed into a filter or refused with an error on `q`, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maas_model::search;

fuzz_target!(|data: &[u8]| {
    let Ok(q) = std::str::from_utf8(data) else {
        return;
    };
    match search::parse(q) {
        Ok(s) => match s.filter() {
            Ok(f) => assert!(f.text.iter().all(|t| !t.is_empty())),
            Err(e) => assert!(e.contains_key("q")),
        },
        Err(e) => assert!(e.contains_key("q")),
    }
});
