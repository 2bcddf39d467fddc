//! `maas-rack`: enrolls with a region, keeps one mutual-TLS session stream
//! to a region (failing over between several), applies the desired-state
//! snapshots it is pushed (and keeps serving the last one when no region is
//! reachable, across its own restarts), and sends its events from a durable
//! on-disk queue.

pub mod identity;
pub mod ifaces;
pub mod images;
pub mod local;
pub mod plan;
pub mod power;
pub mod queue;
pub mod services;
pub mod session;
pub mod sim;
pub mod state;

/// What the rack needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Region RPC endpoints, e.g. `https://10.0.0.1:5250`.
    pub regions: Vec<String>,
    pub secret: String,
    pub data_dir: std::path::PathBuf,
    pub hostname: String,
    pub http_listen: Option<std::net::SocketAddr>,
}

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `https://host:port` → (host, port).
pub fn parse_region(url: &str) -> anyhow::Result<(String, u16)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("grpcs://"))
        .ok_or_else(|| anyhow::anyhow!("region URL must start with https:// (got {url})"))?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => match p.parse::<u16>() {
            Ok(p) if !h.is_empty() => (h.to_string(), p),
            _ => anyhow::bail!("bad port in region URL {url}"),
        },
        _ => (rest.to_string(), 5250),
    };
    if host.is_empty() || host.contains('/') {
        anyhow::bail!("bad host in region URL {url}");
    }
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    #[test]
    fn region_urls() {
        assert_eq!(
            super::parse_region("https://10.0.0.1:5250").unwrap(),
            ("10.0.0.1".into(), 5250)
        );
        assert_eq!(
            super::parse_region("https://region").unwrap(),
            ("region".into(), 5250)
        );
        assert_eq!(
            super::parse_region("https://[::1]:7000/").unwrap(),
            ("[::1]".into(), 7000)
        );
        assert!(super::parse_region("http://x:1").is_err());
        assert!(super::parse_region("https://x:notaport").is_err());
        assert!(super::parse_region("https://:5").is_err());
    }
}
