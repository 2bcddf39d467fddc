//! Text the agent parses from the network or the boot loader: the kernel
//! command line, the get_preseed cloud-config and a task's JSON. No input
//! may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maas_agent::cmdline::Cmdline;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let c = Cmdline::parse(&text);
    if let Some(u) = &c.maas_url {
        assert!(u.ends_with('/'));
    }
    if let Some(p) = maas_agent::preseed::parse(&text) {
        assert!(!p.creds.token_secret.is_empty());
    }
    if let Ok(v) = serde_json_from(data) {
        let _ = maas_agent::deploy::Image::from_task(&v);
        let _ = maas_agent::erase::Mode::from_task(Some(&v));
    }
});

fn serde_json_from(data: &[u8]) -> Result<maas_agent::Value, ()> {
    maas_agent::parse_json(data).ok_or(())
}
