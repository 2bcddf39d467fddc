//! Counters, rendered in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($field:ident => $name:literal, $labels:literal, $help:literal;)*) => {
        /// Atomic counters of the DHCP server.
        #[derive(Debug, Default)]
        pub struct Metrics {
            $(pub $field: AtomicU64,)*
        }

        impl Metrics {
            /// Appends every counter in the Prometheus text format.
            pub fn render_prometheus(&self, out: &mut String) {
                let mut last = "";
                $(
                    if last != $name {
                        let _ = writeln!(out, "# HELP {} {}", $name, $help);
                        let _ = writeln!(out, "# TYPE {} counter", $name);
                        last = $name;
                    }
                    let _ = writeln!(out, "{}{} {}", $name, $labels, self.$field.load(Ordering::Relaxed));
                )*
                let _ = last;
            }
        }
    };
}

counters! {
    in_discover => "maas_dhcp_packets_in_total", "{type=\"discover\"}", "DHCP packets received, by message type";
    in_request => "maas_dhcp_packets_in_total", "{type=\"request\"}", "DHCP packets received, by message type";
    in_release => "maas_dhcp_packets_in_total", "{type=\"release\"}", "DHCP packets received, by message type";
    in_decline => "maas_dhcp_packets_in_total", "{type=\"decline\"}", "DHCP packets received, by message type";
    in_inform => "maas_dhcp_packets_in_total", "{type=\"inform\"}", "DHCP packets received, by message type";
    in_other => "maas_dhcp_packets_in_total", "{type=\"other\"}", "DHCP packets received, by message type";
    out_offer => "maas_dhcp_packets_out_total", "{type=\"offer\"}", "DHCP packets sent, by message type";
    out_ack => "maas_dhcp_packets_out_total", "{type=\"ack\"}", "DHCP packets sent, by message type";
    out_nak => "maas_dhcp_packets_out_total", "{type=\"nak\"}", "DHCP packets sent, by message type";
    leases_committed => "maas_dhcp_leases_committed_total", "", "Leases written to the lease log";
    leases_released => "maas_dhcp_leases_released_total", "", "Leases released by clients";
    leases_expired => "maas_dhcp_leases_expired_total", "", "Leases that expired";
    declines => "maas_dhcp_addresses_quarantined_total", "", "Addresses quarantined after a DECLINE";
    pool_exhausted => "maas_dhcp_pool_exhausted_total", "", "DISCOVERs with no free address";
    drop_malformed => "maas_dhcp_dropped_total", "{reason=\"malformed\"}", "Packets dropped, by reason";
    drop_not_request => "maas_dhcp_dropped_total", "{reason=\"not_bootrequest\"}", "Packets dropped, by reason";
    drop_no_subnet => "maas_dhcp_dropped_total", "{reason=\"no_subnet\"}", "Packets dropped, by reason";
    drop_other_server => "maas_dhcp_dropped_total", "{reason=\"other_server\"}", "Packets dropped, by reason";
    drop_unknown_client => "maas_dhcp_dropped_total", "{reason=\"unknown_client\"}", "Packets dropped, by reason";
    drop_send_error => "maas_dhcp_dropped_total", "{reason=\"send_error\"}", "Packets dropped, by reason";
    drop_store_error => "maas_dhcp_dropped_total", "{reason=\"store_error\"}", "Packets dropped, by reason";
    events_dropped => "maas_dhcp_events_dropped_total", "", "Lease events dropped because the channel was full";
    fsyncs => "maas_dhcp_lease_log_fsyncs_total", "", "Group commits of the lease log";
}

impl Metrics {
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_each_family_once_with_labels() {
        let m = Metrics::default();
        Metrics::inc(&m.out_ack);
        Metrics::inc(&m.out_ack);
        Metrics::inc(&m.drop_malformed);
        let mut s = String::new();
        m.render_prometheus(&mut s);
        assert!(s.contains("maas_dhcp_packets_out_total{type=\"ack\"} 2\n"));
        assert!(s.contains("maas_dhcp_dropped_total{reason=\"malformed\"} 1\n"));
        assert_eq!(
            s.matches("# TYPE maas_dhcp_dropped_total counter").count(),
            1
        );
    }
}
