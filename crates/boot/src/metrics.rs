//! Counters for the boot services, rendered in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// HTTP routes we count requests for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    IpxeCfg = 0,
    IpxeMachine = 1,
    Loader = 2,
    Image = 3,
    Metadata = 4,
    Other = 5,
}

impl Route {
    pub const ALL: [Route; 6] = [
        Route::IpxeCfg,
        Route::IpxeMachine,
        Route::Loader,
        Route::Image,
        Route::Metadata,
        Route::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Route::IpxeCfg => "ipxe_cfg",
            Route::IpxeMachine => "ipxe_machine",
            Route::Loader => "loader",
            Route::Image => "image",
            Route::Metadata => "metadata",
            Route::Other => "other",
        }
    }
}

/// Atomic counters shared by the TFTP and HTTP servers.
#[derive(Debug, Default)]
pub struct Metrics {
    pub tftp_started: AtomicU64,
    pub tftp_completed: AtomicU64,
    pub tftp_failed: AtomicU64,
    pub tftp_bytes: AtomicU64,
    pub tftp_refused_paths: AtomicU64,
    pub tftp_malformed: AtomicU64,
    pub tftp_not_found: AtomicU64,
    pub http_refused_paths: AtomicU64,
    pub http_requests: [AtomicU64; 6],
    pub http_bytes: AtomicU64,
    pub events_dropped: AtomicU64,
}

impl Metrics {
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Relaxed);
    }

    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Relaxed);
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Relaxed)
    }

    pub fn http_request(&self, r: Route) {
        Self::inc(&self.http_requests[r as usize]);
    }

    pub fn http_requests_for(&self, r: Route) -> u64 {
        Self::get(&self.http_requests[r as usize])
    }

    /// Append every counter in the Prometheus text exposition format.
    pub fn render_prometheus(&self, out: &mut String) {
        let counters: [(&str, &str, &AtomicU64); 10] = [
            (
                "maas_boot_tftp_transfers_started_total",
                "TFTP read requests accepted",
                &self.tftp_started,
            ),
            (
                "maas_boot_tftp_transfers_completed_total",
                "TFTP transfers acknowledged to the end",
                &self.tftp_completed,
            ),
            (
                "maas_boot_tftp_transfers_failed_total",
                "TFTP transfers that timed out or were aborted",
                &self.tftp_failed,
            ),
            (
                "maas_boot_tftp_bytes_total",
                "File bytes sent over TFTP (first transmissions)",
                &self.tftp_bytes,
            ),
            (
                "maas_boot_tftp_refused_paths_total",
                "TFTP requests refused for their path",
                &self.tftp_refused_paths,
            ),
            (
                "maas_boot_tftp_malformed_packets_total",
                "TFTP datagrams dropped as malformed",
                &self.tftp_malformed,
            ),
            (
                "maas_boot_tftp_not_found_total",
                "TFTP requests for files that do not exist",
                &self.tftp_not_found,
            ),
            (
                "maas_boot_http_refused_paths_total",
                "HTTP requests refused for their path",
                &self.http_refused_paths,
            ),
            (
                "maas_boot_http_bytes_total",
                "Body bytes sent by the HTTP boot server",
                &self.http_bytes,
            ),
            (
                "maas_boot_events_dropped_total",
                "Boot events dropped because the channel was full",
                &self.events_dropped,
            ),
        ];
        for (name, help, c) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                Self::get(c)
            );
        }
        let name = "maas_boot_http_requests_total";
        let _ = writeln!(
            out,
            "# HELP {name} HTTP boot server requests by route\n# TYPE {name} counter"
        );
        for r in Route::ALL {
            let _ = writeln!(
                out,
                "{name}{{route=\"{}\"}} {}",
                r.name(),
                self.http_requests_for(r)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        let m = Metrics::default();
        Metrics::add(&m.tftp_bytes, 42);
        m.http_request(Route::Image);
        let mut s = String::new();
        m.render_prometheus(&mut s);
        assert!(s.contains("maas_boot_tftp_bytes_total 42\n"), "{s}");
        assert!(
            s.contains("maas_boot_http_requests_total{route=\"image\"} 1\n"),
            "{s}"
        );
        assert!(
            s.contains("# TYPE maas_boot_tftp_transfers_started_total counter\n"),
            "{s}"
        );
    }
}
