//! The kernel command line: `maas_url`, `maas_purpose`, `maas_system_id`,
//! `maas_hostname`, `maas_creds=ck:tk:ts` (debugging / before get_preseed),
//! `BOOTIF` and `maas_test_poweroff`. Unknown words are ignored.

/// What the ephemeral environment was booted to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Enlist,
    Commissioning,
    Testing,
    Deploying,
    Erasing,
    Rescue,
}

impl Purpose {
    pub fn parse(s: &str) -> Option<Purpose> {
        Some(match s {
            "enlist" | "enlistment" => Purpose::Enlist,
            "commissioning" | "commission" => Purpose::Commissioning,
            "testing" | "test" => Purpose::Testing,
            "deploying" | "deploy" | "xinstall" => Purpose::Deploying,
            "erasing" | "erase" | "disk-erasing" => Purpose::Erasing,
            "rescue" | "rescue-mode" => Purpose::Rescue,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Purpose::Enlist => "enlist",
            Purpose::Commissioning => "commissioning",
            Purpose::Testing => "testing",
            Purpose::Deploying => "deploying",
            Purpose::Erasing => "erasing",
            Purpose::Rescue => "rescue",
        }
    }
}

/// OAuth credentials of a machine's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creds {
    pub consumer_key: String,
    pub token_key: String,
    pub token_secret: String,
}

impl Creds {
    /// `ck:tk:ts` (the API key form).
    pub fn parse(s: &str) -> Option<Creds> {
        let mut it = s.split(':');
        let (ck, tk, ts) = (it.next()?, it.next()?, it.next()?);
        if it.next().is_some() || ck.is_empty() || tk.is_empty() || ts.is_empty() {
            return None;
        }
        Some(Creds {
            consumer_key: ck.into(),
            token_key: tk.into(),
            token_secret: ts.into(),
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmdline {
    /// The metadata URL, always ending in `/`.
    pub maas_url: Option<String>,
    pub purpose: Option<Purpose>,
    pub system_id: Option<String>,
    pub hostname: Option<String>,
    pub creds: Option<Creds>,
    /// The boot NIC's MAC (`BOOTIF=01-aa-bb-...`), as `aa:bb:...`.
    pub bootif: Option<String>,
    /// `maas_test_poweroff`: the deployed OS powers off when done.
    pub test_poweroff: bool,
    /// `maas_purpose` was given but is not one we know.
    pub unknown_purpose: Option<String>,
}

impl Cmdline {
    pub fn parse(text: &str) -> Cmdline {
        let mut c = Cmdline::default();
        for word in text.split_ascii_whitespace() {
            let (k, v) = word.split_once('=').unwrap_or((word, ""));
            match k {
                "maas_url" if !v.is_empty() => {
                    let mut u = v.to_string();
                    if !u.ends_with('/') {
                        u.push('/');
                    }
                    c.maas_url = Some(u);
                }
                "maas_purpose" => match Purpose::parse(v) {
                    Some(p) => c.purpose = Some(p),
                    None => c.unknown_purpose = Some(v.to_string()),
                },
                "maas_system_id" if !v.is_empty() => c.system_id = Some(v.to_string()),
                "maas_hostname" if !v.is_empty() => c.hostname = Some(v.to_string()),
                "maas_creds" => c.creds = Creds::parse(v),
                "BOOTIF" => c.bootif = bootif_mac(v),
                "maas_test_poweroff" => c.test_poweroff = true,
                _ => {}
            }
        }
        c
    }
}

/// PXELINUX/iPXE `BOOTIF=01-52-54-00-12-34-56` → `52:54:00:12:34:56`.
fn bootif_mac(v: &str) -> Option<String> {
    let v = v.strip_prefix("01-").unwrap_or(v);
    let parts: Vec<&str> = v.split(['-', ':']).collect();
    if parts.len() != 6
        || !parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return None;
    }
    Some(parts.join(":").to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_ipxe_line() {
        let c = Cmdline::parse(
            "initrd=initrd console=ttyS0 maas_url=http://10.0.0.1:5248/MAAS/metadata \
             maas_purpose=commissioning maas_system_id=abc123 maas_hostname=node1 \
             BOOTIF=01-52-54-00-AB-cd-01 maas_creds=a:b:c",
        );
        assert_eq!(
            c.maas_url.as_deref(),
            Some("http://10.0.0.1:5248/MAAS/metadata/")
        );
        assert_eq!(c.purpose, Some(Purpose::Commissioning));
        assert_eq!(c.system_id.as_deref(), Some("abc123"));
        assert_eq!(c.hostname.as_deref(), Some("node1"));
        assert_eq!(c.bootif.as_deref(), Some("52:54:00:ab:cd:01"));
        assert_eq!(c.creds.unwrap().token_secret, "c");
        assert!(!c.test_poweroff);
    }

    #[test]
    fn enlist_has_no_system_id_and_bad_values_are_dropped() {
        let c = Cmdline::parse("maas_purpose=enlist maas_system_id= maas_creds=a:b BOOTIF=zz");
        assert_eq!(c.purpose, Some(Purpose::Enlist));
        assert_eq!(c.system_id, None);
        assert_eq!(c.creds, None);
        assert_eq!(c.bootif, None);
        let c = Cmdline::parse("maas_purpose=dance maas_test_poweroff");
        assert_eq!(c.purpose, None);
        assert_eq!(c.unknown_purpose.as_deref(), Some("dance"));
        assert!(c.test_poweroff);
    }
}
