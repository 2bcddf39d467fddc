//! Streamed uploads: a multipart body read part by part (base64 parts
//! decoded in pieces, the `content` part handed on in chunks), the base64
//! decoder fed arbitrary splits, and the Range header of image downloads.
//! No panic; a refusal is the client's error, never an internal one.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use libfuzzer_sys::fuzz_target;
use maas_region::api::params::Input;
use maas_region::api::stream::{self, B64Stream, Sink};
use maas_region::error::Error;

struct Collect(Vec<u8>);

impl Sink for Collect {
    async fn write(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.0.extend_from_slice(chunk);
        Ok(())
    }
}

fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let (kind, rest) = (data[0], &data[1..]);
    match kind % 3 {
        0 => {
            let body = Body::from(rest.to_vec());
            let mut input = Input::default();
            let r = rt().block_on(stream::multipart(
                body,
                "XyZ".to_string(),
                std::time::Duration::from_secs(5),
                &mut input,
                "content",
                || async { Ok(Collect(Vec::new())) },
            ));
            if let Err(e) = r {
                assert!(!matches!(e, Error::Internal(_)), "internal error: {e}");
            }
        }
        1 => {
            let mut d = B64Stream::default();
            let step = (kind as usize % 7) + 1;
            for piece in rest.chunks(step) {
                if d.feed(piece).is_err() {
                    return;
                }
            }
            let _ = d.finish();
        }
        _ => {
            let len = u64::from(kind) * 1000;
            match maas_model::range::parse_range(Some(rest), len) {
                maas_model::range::RangeSpec::Partial { start, end } => {
                    assert!(start <= end && end < len, "{start}-{end} of {len}");
                }
                _ => {}
            }
        }
    }
});
