//! Stored login profiles: `$MAAS_CLI_CONFIG`, else
//! `$HOME/.config/maas-rs/profiles.json` (mode 0600).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Exit;

/// One logged-in region.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    /// The API root, always ending in `/api/2.0/`.
    pub url: String,
    /// `consumer_key:token_key:token_secret`.
    pub apikey: String,
    /// The region's `describe/` document as fetched at login/refresh.
    pub description: Value,
}

/// All profiles, keyed by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Store {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// Where the profile file lives: `--config`/`$MAAS_CLI_CONFIG` (already merged
/// by clap into `explicit`), else `$HOME/.config/maas-rs/profiles.json`.
pub fn config_path(explicit: Option<&Path>, home: Option<OsString>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    match home {
        Some(h) if !h.is_empty() => Ok(PathBuf::from(h).join(".config/maas-rs/profiles.json")),
        _ => Err(Exit::failure(
            "cannot locate the profile file: $HOME is not set; set MAAS_CLI_CONFIG \
             (or pass --config) to the path of a profiles.json file",
        )
        .into()),
    }
}

impl Store {
    /// Load the store; a missing file is an empty store.
    pub fn load(path: &Path) -> Result<Store> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Store::default()),
            Err(e) => {
                return Err(e).with_context(|| format!("reading profiles from {}", path.display()));
            }
        };
        serde_json::from_str(&text).with_context(|| {
            format!(
                "the profile file {} is not valid JSON; fix or remove it",
                path.display()
            )
        })
    }

    /// Write the store atomically (temp file + rename), creating parent
    /// directories; the file is readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)
                .with_context(|| format!("creating directory {}", dir.display()))?;
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp.{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let mut json = serde_json::to_vec_pretty(self)?;
        json.push(b'\n');
        let write = || -> std::io::Result<()> {
            let mut f = open_private(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            anyhow::Error::new(e).context(format!("writing profiles to {}", path.display()))
        })
    }

    pub fn get(&self, name: &str) -> Result<&Profile> {
        self.profiles.get(name).ok_or_else(|| {
            Exit::usage(format!(
                "unknown profile '{name}'. {}",
                self.known_profiles_hint()
            ))
            .into()
        })
    }

    pub fn known_profiles_hint(&self) -> String {
        if self.profiles.is_empty() {
            "No profiles are stored yet; create one with `maas login PROFILE URL APIKEY`."
                .to_string()
        } else {
            let names: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            format!(
                "Known profiles: {}. Add one with `maas login PROFILE URL APIKEY`.",
                names.join(", ")
            )
        }
    }
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // The mode above only applies on creation; a stale temp file keeps its own.
    f.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(f)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<fs::File> {
    fs::File::create(path)
}

/// Normalise a region URL to its API root, the way MAAS's CLI does:
/// `http://host:5240/MAAS`, `.../MAAS/` and `.../MAAS/api/2.0[/]` all become
/// `http://host:5240/MAAS/api/2.0/`.
pub fn api_url(input: &str) -> Result<String, Exit> {
    let input = input.trim();
    let mut url = reqwest::Url::parse(input).map_err(|e| {
        Exit::usage(format!(
            "invalid region URL '{input}': {e} (expected e.g. http://host:5240/MAAS)"
        ))
    })?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(Exit::usage(format!(
                "cannot use '{input}': https:// URLs are not supported yet (this build of \
                 maas has no TLS support); use the region's http:// URL"
            )));
        }
        other => {
            return Err(Exit::usage(format!(
                "invalid region URL '{input}': scheme '{other}' is not supported; use http://"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Exit::usage(format!(
            "invalid region URL '{input}': no host"
        )));
    }
    url.set_query(None);
    url.set_fragment(None);
    let mut path = url.path().to_string();
    if !path.ends_with('/') {
        path.push('/');
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let n = segments.len();
    if n >= 2 && segments[n - 2] == "api" {
        if segments[n - 1] != "2.0" {
            return Err(Exit::usage(format!(
                "invalid region URL '{input}': API version {} is not supported; use api/2.0",
                segments[n - 1]
            )));
        }
    } else {
        path.push_str("api/2.0/");
    }
    url.set_path(&path);
    Ok(url.to_string())
}

/// `scheme://host[:port]` of a URL, used to build request URLs from handler
/// paths (which are absolute paths such as `/MAAS/api/2.0/machines/`).
pub fn origin(url: &str) -> Result<String, Exit> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Exit::usage(format!("the stored profile URL '{url}' is invalid: {e}")))?;
    Ok(parsed.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn temp_dir(tag: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "maas-cli-test-{tag}-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn config_path_prefers_explicit_then_home() {
        let p = config_path(Some(Path::new("/x/p.json")), Some("/home/u".into())).unwrap();
        assert_eq!(p, PathBuf::from("/x/p.json"));
        let p = config_path(None, Some("/home/u".into())).unwrap();
        assert_eq!(p, PathBuf::from("/home/u/.config/maas-rs/profiles.json"));
        assert!(config_path(None, None).is_err());
        assert!(config_path(None, Some("".into())).is_err());
    }

    #[test]
    fn store_round_trip_in_temp_dir() {
        let dir = temp_dir("store");
        // nested, not-yet-existing directories are created
        let path = dir.join("a/b/profiles.json");
        assert_eq!(Store::load(&path).unwrap(), Store::default());

        let mut store = Store::default();
        let profile = Profile {
            name: "admin".into(),
            url: "http://h:5240/MAAS/api/2.0/".into(),
            apikey: "a:b:c".into(),
            description: json!({"resources": [], "handlers": [], "doc": "x"}),
        };
        store.profiles.insert("admin".into(), profile.clone());
        store.save(&path).unwrap();

        let loaded = Store::load(&path).unwrap();
        assert_eq!(loaded, store);
        assert_eq!(loaded.get("admin").unwrap(), &profile);
        let err = loaded.get("nope").unwrap_err().to_string();
        assert!(
            err.contains("unknown profile 'nope'") && err.contains("admin"),
            "{err}"
        );

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // overwrite works and leaves no temp files behind
        store.profiles.clear();
        store.save(&path).unwrap();
        assert!(Store::load(&path).unwrap().profiles.is_empty());
        let files: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(files.len(), 1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn corrupt_store_is_a_clear_error() {
        let dir = temp_dir("corrupt");
        let path = dir.join("profiles.json");
        fs::write(&path, "{not json").unwrap();
        let err = format!("{:#}", Store::load(&path).unwrap_err());
        assert!(err.contains("not valid JSON"), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn api_url_normalisation() {
        let want = "http://h:5240/MAAS/api/2.0/";
        for input in [
            "http://h:5240/MAAS",
            "http://h:5240/MAAS/",
            "http://h:5240/MAAS/api/2.0",
            "http://h:5240/MAAS/api/2.0/",
            " http://h:5240/MAAS/?x=1#frag ",
        ] {
            assert_eq!(api_url(input).unwrap(), want, "{input}");
        }
        assert_eq!(api_url("http://h").unwrap(), "http://h/api/2.0/");
        let err = api_url("https://h/MAAS").unwrap_err().message;
        assert!(err.contains("not supported yet"), "{err}");
        assert!(api_url("ftp://h/MAAS").is_err());
        assert!(api_url("h:5240/MAAS").is_err());
        assert!(api_url("http://h/MAAS/api/1.0/").is_err());
    }

    #[test]
    fn origin_of_api_url() {
        assert_eq!(
            origin("http://h:5240/MAAS/api/2.0/").unwrap(),
            "http://h:5240"
        );
        assert_eq!(origin("http://h/api/2.0/").unwrap(), "http://h");
    }
}
