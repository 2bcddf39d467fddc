//! Network-boot selection: which loader a client gets, from option 93
//! (client architecture), option 60 (PXEClient / HTTPClient) and iPXE's
//! user class (77 "iPXE") or its encapsulated options (175).

use std::net::Ipv4Addr;

use crate::config::BootConfig;

/// What the client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootClient {
    pub arch: Option<u16>,
    pub pxe: bool,
    pub http: bool,
    pub ipxe: bool,
}

/// What it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootAnswer {
    /// file / option 67.
    pub filename: String,
    /// Over HTTP (a URL, with option 60 "HTTPClient" in the reply).
    pub http_client: bool,
}

pub const ARCH_BIOS: u16 = 0;
pub const ARCH_EFI_IA32: u16 = 6;
pub const ARCH_EFI_X64: u16 = 7;
pub const ARCH_EFI_BC: u16 = 9;
pub const ARCH_EFI_ARM64: u16 = 11;
pub const ARCH_EFI_X64_HTTP: u16 = 16;
pub const ARCH_EFI_ARM64_HTTP: u16 = 19;

/// The loader for `c`, or None when the client is not network booting
/// (no PXE/HTTP class, no arch, not iPXE) or its arch is unknown.
pub fn select(c: &BootClient, cfg: &BootConfig, server: Ipv4Addr) -> Option<BootAnswer> {
    if !cfg.enabled {
        return None;
    }
    let http_base = format!("http://{server}:{}", cfg.http_port);
    if c.ipxe {
        return Some(BootAnswer {
            filename: format!("{http_base}/{}", cfg.ipxe_script.trim_start_matches('/')),
            http_client: false,
        });
    }
    if !(c.pxe || c.http || c.arch.is_some()) {
        return None;
    }
    let arch = c.arch.unwrap_or(ARCH_BIOS);
    let tftp = |f: &str| {
        Some(BootAnswer {
            filename: f.to_string(),
            http_client: false,
        })
    };
    let http = |f: &str| {
        Some(BootAnswer {
            filename: format!("{http_base}/boot/{f}"),
            http_client: true,
        })
    };
    match arch {
        ARCH_EFI_X64_HTTP if c.http => http(&cfg.http_x64_loader),
        ARCH_EFI_ARM64_HTTP if c.http => http(&cfg.http_arm64_loader),
        ARCH_BIOS => tftp(&cfg.bios_loader),
        ARCH_EFI_X64 | ARCH_EFI_BC => tftp(&cfg.uefi_x64_loader),
        ARCH_EFI_ARM64 => tftp(&cfg.uefi_arm64_loader),
        _ => None,
    }
}

/// Human name of an arch (for boot events and logs).
pub fn arch_name(arch: Option<u16>) -> &'static str {
    match arch {
        Some(ARCH_BIOS) | None => "bios",
        Some(ARCH_EFI_IA32) => "uefi-ia32",
        Some(ARCH_EFI_X64) | Some(ARCH_EFI_BC) => "uefi-x64",
        Some(ARCH_EFI_ARM64) => "uefi-arm64",
        Some(ARCH_EFI_X64_HTTP) => "uefi-x64-http",
        Some(ARCH_EFI_ARM64_HTTP) => "uefi-arm64-http",
        Some(_) => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    fn c(arch: Option<u16>, pxe: bool, http: bool, ipxe: bool) -> Option<String> {
        select(
            &BootClient {
                arch,
                pxe,
                http,
                ipxe,
            },
            &BootConfig::default(),
            S,
        )
        .map(|a| a.filename)
    }

    #[test]
    fn each_arch_and_class_gets_its_loader() {
        assert_eq!(c(Some(0), true, false, false).unwrap(), "undionly.kpxe");
        assert_eq!(c(Some(7), true, false, false).unwrap(), "snponly.efi");
        assert_eq!(c(Some(9), true, false, false).unwrap(), "snponly.efi");
        assert_eq!(c(Some(11), true, false, false).unwrap(), "grubaa64.efi");
        assert_eq!(
            c(Some(16), false, true, false).unwrap(),
            "http://10.0.0.1:5248/boot/snponly.efi"
        );
        assert_eq!(
            c(Some(19), false, true, false).unwrap(),
            "http://10.0.0.1:5248/boot/grubaa64.efi"
        );
        assert_eq!(
            c(Some(7), true, false, true).unwrap(),
            "http://10.0.0.1:5248/ipxe.cfg"
        );
        assert_eq!(c(None, false, false, false), None);
        assert_eq!(c(Some(0x1234), true, false, false), None);
        // HTTP arch without the HTTPClient class: not offered a URL.
        assert_eq!(c(Some(16), true, false, false), None);
    }

    #[test]
    fn names_and_port_come_from_config() {
        let cfg = BootConfig {
            uefi_arm64_loader: "shimaa64.efi".into(),
            http_port: 8080,
            ..BootConfig::default()
        };
        let a = |arch: u16, http: bool| {
            select(
                &BootClient {
                    arch: Some(arch),
                    pxe: !http,
                    http,
                    ipxe: false,
                },
                &cfg,
                S,
            )
            .unwrap()
        };
        assert_eq!(a(11, false).filename, "shimaa64.efi");
        let h = a(16, true);
        assert_eq!(h.filename, "http://10.0.0.1:8080/boot/snponly.efi");
        assert!(h.http_client);
    }
}
