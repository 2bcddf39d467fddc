//! The metadata API's hardware inventory (`hardware.json`): any bytes are
//! either refused as the client's error or checked into values the database
//! can store (no NUL, nothing negative, no path-like device names).
#![no_main]

use libfuzzer_sys::fuzz_target;
use maas_region::error::Error;
use maas_region::services::metadata::parse_inventory;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    match parse_inventory(&v) {
        Ok(inv) => {
            assert!(inv.cpu_count.is_none_or(|c| c >= 0));
            assert!(inv.memory.is_none_or(|m| m >= 0));
            // hardware_info is JSON with no NUL in any value.
            assert!(inv.hardware_info.as_deref().is_none_or(|h| {
                !h.contains("\\u0000") && serde_json::from_str::<serde_json::Value>(h).is_ok()
            }));
            for d in inv.disks.iter().flatten() {
                assert!(d.size >= 0);
                assert!(!d.name.contains('/') && !d.name.contains('\0'));
                assert!(!d.model.contains('\0') && !d.serial.contains('\0'));
                assert!(
                    d.id_path
                        .is_none_or(|p| p.starts_with("/dev/") && !p.contains('\0'))
                );
            }
            for n in inv.nics.iter().flatten() {
                assert!(n.speed >= 0 && !n.name.is_empty() && !n.name.contains('/'));
                assert_eq!(
                    maas_model::ids::normalize_mac(&n.mac).as_deref(),
                    Some(n.mac.as_str())
                );
            }
        }
        Err(e) => assert!(!matches!(e, Error::Internal(_)), "internal error: {e}"),
    }
});
