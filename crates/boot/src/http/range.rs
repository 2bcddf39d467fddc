//! The `Range` request header: the one parser lives in `maas_model::range`
//! (the region serves images with it too).

pub use maas_model::range::{RangeSpec, parse_range};
