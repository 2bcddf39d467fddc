//! The OAuth `Authorization` header parser: any text, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(c) = maas_region::api::oauth::parse_oauth_header(s)
    {
        // Whatever parses carries no NUL into a lookup.
        assert!(!c.token.contains('\0') && !c.consumer_key.contains('\0'));
    }
});
