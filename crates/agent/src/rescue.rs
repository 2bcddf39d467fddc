//! Rescue mode (and commissioning or testing with `enable_ssh`): the
//! ephemeral environment stays up with an SSH server,
//! Debian's dropbear, that lets in root with the keys the metadata API
//! gives (`meta-data/public-keys`: the owner's, or those of the user who
//! asked for rescue mode or SSH). Password logins are off.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::Env;

/// The SSH public keys in a `public-keys` answer, one per line: blank
/// lines, comments and lines that are not a key are dropped.
pub fn keys(raw: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(raw)
        .lines()
        .map(str::trim)
        .filter(|l| {
            let kind = l.split_whitespace().next().unwrap_or("");
            let known = kind.starts_with("ssh-")
                || kind.starts_with("ecdsa-sha2-")
                || kind.starts_with("sk-");
            known && l.split_whitespace().nth(1).is_some()
        })
        .map(str::to_string)
        .collect()
}

/// Write root's `~/.ssh/authorized_keys` under `root` with the modes an
/// SSH server insists on (home and `.ssh` 0700, the file 0600).
pub fn write_authorized_keys(root: &Path, keys: &[String]) -> Result<()> {
    let home = root.join("root");
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh).with_context(|| format!("create {}", ssh.display()))?;
    for d in [&home, &ssh] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700))?;
    }
    let file = ssh.join("authorized_keys");
    let mut text = keys.join("\n");
    text.push('\n');
    std::fs::write(&file, text).with_context(|| format!("write {}", file.display()))?;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// Open SSH for the keys the metadata API gives this boot (written for
/// root, dropbear started where the environment has it); what it did, as
/// a sentence for the log.
pub fn open(env: &Env, maas: &crate::client::Maas) -> Result<String> {
    let keys = keys(&maas.get_text("latest/meta-data/public-keys")?);
    let ssh = if env.tools {
        write_authorized_keys(&env.root, &keys)?;
        start_ssh(env)?
    } else {
        false
    };
    Ok(match (ssh, keys.len()) {
        (false, _) => "no SSH server in this environment".to_string(),
        (true, 0) => "SSH on port 22, but no keys: no one can log in".to_string(),
        (true, n) => format!("SSH on port 22 for root with {n} key(s)"),
    })
}

/// Start dropbear on port 22 (it makes its host keys on first use and
/// goes to the background). `false`: this environment has no dropbear.
pub fn start_ssh(env: &Env) -> Result<bool> {
    let Some(dropbear) = crate::which("dropbear") else {
        return Ok(false);
    };
    std::fs::create_dir_all(env.root.join("etc/dropbear"))?;
    let st = Command::new(&dropbear)
        .args(["-R", "-s", "-p", "22"])
        .status()
        .with_context(|| format!("run {}", dropbear.display()))?;
    if !st.success() {
        bail!("dropbear exited with {st}");
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_key_lines_are_kept() {
        let raw = b"ssh-ed25519 AAAAC3Nz alice@x\n\n# a comment\nnot a key\n  ecdsa-sha2-nistp256 AAAAE2 b  \nssh-rsa\n";
        assert_eq!(
            keys(raw),
            vec![
                "ssh-ed25519 AAAAC3Nz alice@x",
                "ecdsa-sha2-nistp256 AAAAE2 b"
            ]
        );
        assert!(keys(b"").is_empty());
    }

    #[test]
    fn authorized_keys_have_the_modes_sshd_wants() {
        let dir = std::env::temp_dir().join(format!("maas-agent-rescue-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let k = vec![
            "ssh-ed25519 AAAA a".to_string(),
            "ssh-rsa BBBB b".to_string(),
        ];
        write_authorized_keys(&dir, &k).unwrap();
        let f = dir.join("root/.ssh/authorized_keys");
        assert_eq!(
            std::fs::read_to_string(&f).unwrap(),
            "ssh-ed25519 AAAA a\nssh-rsa BBBB b\n"
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&f), 0o600);
        assert_eq!(mode(&dir.join("root/.ssh")), 0o700);
        assert_eq!(mode(&dir.join("root")), 0o700);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
