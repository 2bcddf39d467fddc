//! Manual parsing of the generic part of the command line:
//! `[POSITIONAL...] [key=value ...] [key@=FILE ...] [--help] [--debug] [--json]`.

use std::path::PathBuf;

use crate::error::Exit;

/// One `key=value` / `key@=FILE` argument before files are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataArg {
    Text { key: String, value: String },
    File { key: String, path: PathBuf },
}

/// A value ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(String),
    File { file_name: String, bytes: Vec<u8> },
}

impl Value {
    /// The value as text (file contents decoded lossily), for query strings.
    pub fn as_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Value::Text(s) => s.as_str().into(),
            Value::File { bytes, .. } => String::from_utf8_lossy(bytes),
        }
    }
}

/// The arguments after `maas PROFILE RESOURCE ACTION`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    pub positionals: Vec<String>,
    pub data: Vec<DataArg>,
    pub help: bool,
    pub debug: bool,
    pub json: bool,
}

/// Parse one `key=value` or `key@=FILE` token. `Ok(None)` when the token has
/// no `=` at all (a positional argument). The value may itself contain `=`.
pub fn parse_data_arg(token: &str) -> Result<Option<DataArg>, String> {
    let Some((key, value)) = token.split_once('=') else {
        return Ok(None);
    };
    let (key, file) = match key.strip_suffix('@') {
        Some(k) => (k, true),
        None => (key, false),
    };
    if key.is_empty() {
        return Err(format!(
            "invalid argument '{token}': expected key=value or key@=FILE with a non-empty key"
        ));
    }
    Ok(Some(if file {
        if value.is_empty() {
            return Err(format!(
                "invalid argument '{token}': key@=FILE needs a file name"
            ));
        }
        DataArg::File {
            key: key.to_string(),
            path: PathBuf::from(value),
        }
    } else {
        DataArg::Text {
            key: key.to_string(),
            value: value.to_string(),
        }
    }))
}

/// Split action arguments into flags, positionals (tokens without `=`) and
/// data. `--` ends flag processing. `allow_json` enables `--json`.
pub fn split(tokens: &[String], allow_json: bool) -> Result<Split, Exit> {
    let mut out = Split::default();
    let mut flags_done = false;
    for token in tokens {
        if !flags_done {
            match token.as_str() {
                "--" => {
                    flags_done = true;
                    continue;
                }
                "-h" | "--help" => {
                    out.help = true;
                    continue;
                }
                "--debug" => {
                    out.debug = true;
                    continue;
                }
                "--json" if allow_json => {
                    out.json = true;
                    continue;
                }
                t if t.starts_with("--") && !t.contains('=') => {
                    let known = if allow_json {
                        "--help, --debug, --json"
                    } else {
                        "--help, --debug"
                    };
                    return Err(Exit::usage(format!(
                        "unknown option '{t}' (options here: {known}; data is given as key=value)"
                    )));
                }
                _ => {}
            }
        }
        match parse_data_arg(token).map_err(Exit::usage)? {
            Some(d) => out.data.push(d),
            None => out.positionals.push(token.clone()),
        }
    }
    Ok(out)
}

/// Read the files named by `key@=FILE` arguments; keep order (repeated keys
/// become lists on the wire).
pub fn load_data(data: &[DataArg]) -> Result<Vec<(String, Value)>, Exit> {
    data.iter()
        .map(|d| match d {
            DataArg::Text { key, value } => Ok((key.clone(), Value::Text(value.clone()))),
            DataArg::File { key, path } => {
                let bytes = std::fs::read(path).map_err(|e| {
                    Exit::usage(format!(
                        "cannot read file '{}' for {key}@=: {e}",
                        path.display()
                    ))
                })?;
                let file_name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| key.clone());
                Ok((key.clone(), Value::File { file_name, bytes }))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(k: &str, v: &str) -> DataArg {
        DataArg::Text {
            key: k.into(),
            value: v.into(),
        }
    }

    fn toks(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn key_value_forms() {
        assert_eq!(parse_data_arg("a=b").unwrap(), Some(t("a", "b")));
        assert_eq!(parse_data_arg("a=").unwrap(), Some(t("a", "")));
        // values may contain '=' (and '@=')
        assert_eq!(
            parse_data_arg("user_data=a=b==").unwrap(),
            Some(t("user_data", "a=b=="))
        );
        assert_eq!(parse_data_arg("k=x@=y").unwrap(), Some(t("k", "x@=y")));
        assert_eq!(
            parse_data_arg("content@=/tmp/f=1").unwrap(),
            Some(DataArg::File {
                key: "content".into(),
                path: "/tmp/f=1".into()
            })
        );
        assert_eq!(parse_data_arg("abc123").unwrap(), None);
        assert!(parse_data_arg("=v").is_err());
        assert!(parse_data_arg("@=f").is_err());
        assert!(parse_data_arg("k@=").is_err());
    }

    #[test]
    fn split_keeps_order_repeats_and_flags() {
        let s = split(
            &toks(&["abc", "tags=a", "--debug", "tags=b", "zone=z", "-h"]),
            false,
        )
        .unwrap();
        assert_eq!(s.positionals, ["abc"]);
        assert_eq!(s.data, [t("tags", "a"), t("tags", "b"), t("zone", "z")]);
        assert!(s.debug && s.help && !s.json);

        assert!(split(&toks(&["--json"]), false).is_err());
        assert!(split(&toks(&["--json"]), true).unwrap().json);
        assert!(split(&toks(&["--bogus"]), true).is_err());
        // after "--" flags are data/positionals
        let s = split(&toks(&["--", "--help"]), false).unwrap();
        assert!(!s.help);
        assert_eq!(s.positionals, ["--help"]);
    }

    #[test]
    fn file_values_are_read() {
        let dir = std::env::temp_dir().join(format!("maas-cli-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("user-data.yaml");
        std::fs::write(&f, b"#cloud-config\x00\xff").unwrap();
        let data = vec![
            t("distro_series", "jammy"),
            DataArg::File {
                key: "user_data".into(),
                path: f.clone(),
            },
        ];
        let loaded = load_data(&data).unwrap();
        assert_eq!(
            loaded[0],
            ("distro_series".into(), Value::Text("jammy".into()))
        );
        assert_eq!(
            loaded[1],
            (
                "user_data".into(),
                Value::File {
                    file_name: "user-data.yaml".into(),
                    bytes: b"#cloud-config\x00\xff".to_vec()
                }
            )
        );
        let missing = [DataArg::File {
            key: "k".into(),
            path: dir.join("nope"),
        }];
        let err = load_data(&missing).unwrap_err();
        assert_eq!(err.code, 2);
        assert!(err.message.contains("cannot read file"), "{}", err.message);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
