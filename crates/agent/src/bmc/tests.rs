use super::*;
use anyhow::anyhow;

/// A BMC with a LAN channel, users and LAN parameters, answering as the
/// IPMI specification says (completion codes stripped as `Device` does).
struct FakeBmc {
    lan_channel: u8,
    ip: [u8; 4],
    mac: [u8; 6],
    names: Vec<Vec<u8>>,
    passwords: Vec<Vec<u8>>,
    access: Vec<u8>,
    enabled: Vec<bool>,
}

impl FakeBmc {
    fn new(users: &[&str]) -> FakeBmc {
        let mut names: Vec<Vec<u8>> = vec![Vec::new(); 11];
        for (i, u) in users.iter().enumerate() {
            names[i + 1] = u.as_bytes().to_vec();
        }
        FakeBmc {
            lan_channel: 2,
            ip: [10, 201, 1, 30],
            mac: [0x52, 0x54, 0, 0xb1, 0, 0x02],
            passwords: vec![Vec::new(); 11],
            access: vec![0; 11],
            enabled: vec![false; 11],
            names,
        }
    }
}

impl Ipmi for FakeBmc {
    fn call(&mut self, netfn: u8, cmd: u8, d: &[u8]) -> Result<Vec<u8>> {
        let user = |d: &[u8], i: usize| -> Result<usize> {
            let u = usize::from(d[i] & 0x3f);
            if u == 0 || u > 10 {
                return Err(anyhow!("completion code 0xcc"));
            }
            Ok(u)
        };
        match (netfn, cmd) {
            (0x06, 0x42) => {
                let medium = if d[0] == self.lan_channel { 0x04 } else { 0x05 };
                Ok(vec![d[0], medium, 0x01, 0x82])
            }
            (0x0c, 0x02) if d[0] == self.lan_channel => match d[1] {
                3 => Ok([&[0x11][..], &self.ip].concat()),
                5 => Ok([&[0x11][..], &self.mac].concat()),
                _ => Err(anyhow!("completion code 0x80")),
            },
            (0x0c, 0x02) => Err(anyhow!("completion code 0xcc")),
            (0x06, 0x44) => Ok(vec![10, 1, 0, self.access[user(d, 1)?]]),
            (0x06, 0x46) => {
                let mut n = self.names[user(d, 0)?].clone();
                n.resize(16, 0);
                Ok(n)
            }
            (0x06, 0x45) => {
                let u = user(d, 0)?;
                self.names[u] = d[1..].iter().copied().take_while(|b| *b != 0).collect();
                Ok(vec![])
            }
            (0x06, 0x47) => {
                let u = user(d, 0)?;
                match d[1] {
                    0x01 => self.enabled[u] = true,
                    0x02 => self.passwords[u] = d[2..].to_vec(),
                    _ => return Err(anyhow!("completion code 0xcc")),
                }
                Ok(vec![])
            }
            (0x06, 0x43) => {
                assert_eq!(
                    d[0] & 0x0f,
                    self.lan_channel,
                    "access set on the LAN channel"
                );
                assert_eq!(
                    d[0] & 0xb0,
                    0xb0,
                    "change bits, link auth and messaging set"
                );
                let u = user(d, 1)?;
                self.access[u] = d[2];
                Ok(vec![])
            }
            _ => Err(anyhow!("completion code 0xc1")),
        }
    }
}

#[test]
fn the_maas_user_goes_to_the_first_free_slot_on_the_lan_channel() {
    let mut bmc = FakeBmc::new(&["", "admin"]);
    let found = configure(&mut bmc, "s3cretPassw0").unwrap();
    assert_eq!(found.address, "10.201.1.30");
    assert_eq!(found.mac.as_deref(), Some("52:54:00:b1:00:02"));
    assert_eq!(found.channel, 2);
    assert_eq!(bmc.names[3], b"maas");
    assert_eq!(&bmc.passwords[3][..12], b"s3cretPassw0");
    assert!(bmc.passwords[3][12..].iter().all(|b| *b == 0));
    assert_eq!(bmc.access[3], 4, "administrator");
    assert!(bmc.enabled[3]);
    assert_eq!(bmc.names[2], b"admin", "the vendor's user is untouched");
    let p: serde_json::Value = serde_json::from_str(&found.power_parameters()).unwrap();
    assert_eq!(p["power_address"], "10.201.1.30");
    assert_eq!(p["power_user"], "maas");
    assert_eq!(p["power_pass"], "s3cretPassw0");
    assert_eq!(p["power_driver"], "LAN_2_0");
    assert_eq!(p["mac_address"], "52:54:00:b1:00:02");
}

#[test]
fn an_existing_maas_user_is_reused_with_a_new_password() {
    let mut bmc = FakeBmc::new(&["", "admin", "ops", "maas"]);
    configure(&mut bmc, "firstpassword").unwrap();
    configure(&mut bmc, "secondpasswd").unwrap();
    assert_eq!(bmc.names[4], b"maas");
    assert!(bmc.names[5].is_empty(), "no second maas user");
    assert_eq!(&bmc.passwords[4][..12], b"secondpasswd");
    assert_eq!(bmc.names[3], b"ops");
}

#[test]
fn a_bmc_without_an_address_or_a_free_slot_is_refused() {
    let mut bmc = FakeBmc::new(&["", "admin"]);
    bmc.ip = [0; 4];
    let e = configure(&mut bmc, "password12").unwrap_err();
    assert!(e.to_string().contains("no IP address"), "{e}");
    assert!(bmc.names[3].is_empty(), "nothing written");

    let taken: Vec<String> = (1..=10).map(|i| format!("u{i}")).collect();
    let taken: Vec<&str> = taken.iter().map(String::as_str).collect();
    let mut full = FakeBmc::new(&taken);
    let e = configure(&mut full, "password12").unwrap_err();
    assert!(e.to_string().contains("no free user slot"), "{e}");

    let mut bmc = FakeBmc::new(&["", "admin"]);
    bmc.lan_channel = 0x0e;
    let e = configure(&mut bmc, "password12").unwrap_err();
    assert!(e.to_string().contains("no LAN channel"), "{e}");

    assert!(configure(&mut FakeBmc::new(&[]), "short").is_err());
}

#[test]
fn passwords_are_twelve_letters_and_digits_from_the_random_source() {
    let root = std::env::temp_dir().join(format!("agent-bmc-{}", std::process::id()));
    std::fs::create_dir_all(root.join("dev")).unwrap();
    // 0xff is rejected (it would favour the first characters).
    let bytes: Vec<u8> = (0u8..=255).rev().collect();
    std::fs::write(root.join("dev/urandom"), &bytes).unwrap();
    let p = new_password(&root).unwrap();
    assert_eq!(p.len(), 12);
    assert!(p.chars().all(|c| c.is_ascii_alphanumeric()), "{p}");
    let q: String = bytes
        .iter()
        .filter(|b| usize::from(**b) < 256 - 256 % 57)
        .take(12)
        .map(|b| {
            b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"[usize::from(*b) % 57]
                as char
        })
        .collect();
    assert_eq!(p, q);
    std::fs::write(root.join("dev/urandom"), [1u8; 4]).unwrap();
    assert!(new_password(&root).is_err(), "a short source is an error");
    std::fs::remove_dir_all(&root).unwrap();
}
