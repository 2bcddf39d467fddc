//! Turning a client's requested file name into a path under a root, or a
//! refusal. Pure (no I/O) except [`resolve_under`], which follows symlinks to
//! check the file stays inside its root.

use std::path::{Path, PathBuf};

/// Longest file name a client may ask for, in bytes.
pub const MAX_NAME: usize = 255;

/// Why a requested name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathRefusal {
    #[error("empty file name")]
    Empty,
    #[error("file name longer than {MAX_NAME} bytes")]
    TooLong,
    #[error("file name contains a NUL byte")]
    Nul,
    #[error("file name is not UTF-8")]
    NotUtf8,
    #[error("file name contains a control character")]
    Control,
    #[error("file name contains a backslash")]
    Backslash,
    #[error("absolute path")]
    Absolute,
    #[error("path contains a '..' component")]
    DotDot,
    #[error("path leaves its root through a symlink")]
    OutsideRoot,
}

/// Check a requested name and return it as a clean relative path: no leading
/// `/`, no `..`, no `\`, no NUL or control characters, at most [`MAX_NAME`]
/// bytes; `.` and empty components are dropped. Never panics.
pub fn sanitize(raw: &[u8]) -> Result<String, PathRefusal> {
    if raw.len() > MAX_NAME {
        return Err(PathRefusal::TooLong);
    }
    if raw.contains(&0) {
        return Err(PathRefusal::Nul);
    }
    let s = std::str::from_utf8(raw).map_err(|_| PathRefusal::NotUtf8)?;
    if s.chars().any(char::is_control) {
        return Err(PathRefusal::Control);
    }
    if s.contains('\\') {
        return Err(PathRefusal::Backslash);
    }
    if s.starts_with('/') {
        return Err(PathRefusal::Absolute);
    }
    let mut parts = Vec::new();
    for c in s.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(PathRefusal::DotDot),
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Err(PathRefusal::Empty);
    }
    Ok(parts.join("/"))
}

/// Join a sanitised relative path to `root` and follow symlinks; the result
/// must still be inside `root` (itself canonicalised). `Ok(None)` when the
/// file does not exist.
pub async fn resolve_under(root: &Path, rel: &str) -> Result<Option<PathBuf>, PathRefusal> {
    let Ok(root) = tokio::fs::canonicalize(root).await else {
        return Ok(None);
    };
    let Ok(full) = tokio::fs::canonicalize(root.join(rel)).await else {
        return Ok(None);
    };
    if !full.starts_with(&root) {
        return Err(PathRefusal::OutsideRoot);
    }
    Ok(Some(full))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted() {
        assert_eq!(sanitize(b"undionly.kpxe").as_deref(), Ok("undionly.kpxe"));
        assert_eq!(sanitize(b"./a//b/./c").as_deref(), Ok("a/b/c"));
        assert_eq!(sanitize(b"a..b/c..").as_deref(), Ok("a..b/c.."));
    }

    #[test]
    fn refused() {
        let long = vec![b'a'; MAX_NAME + 1];
        let cases: &[(&[u8], PathRefusal)] = &[
            (b"", PathRefusal::Empty),
            (b"./", PathRefusal::Empty),
            (b"../etc/passwd", PathRefusal::DotDot),
            (b"a/../../b", PathRefusal::DotDot),
            (b"a/..", PathRefusal::DotDot),
            (b"/etc/passwd", PathRefusal::Absolute),
            (b"a\\..\\b", PathRefusal::Backslash),
            (b"a\0b", PathRefusal::Nul),
            (b"a\nb", PathRefusal::Control),
            (b"\xff\xfe", PathRefusal::NotUtf8),
            (&long, PathRefusal::TooLong),
        ];
        for (raw, want) in cases {
            assert_eq!(
                sanitize(raw).as_ref(),
                Err(want),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[tokio::test]
    async fn symlink_out_of_root_is_refused() {
        let dir = std::env::temp_dir().join(format!("maas-boot-path-{}", std::process::id()));
        let root = dir.join("root");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(dir.join("secret"), b"x").unwrap();
        std::fs::write(root.join("ok"), b"y").unwrap();
        let _ = std::os::unix::fs::symlink(dir.join("secret"), root.join("link"));
        assert_eq!(
            resolve_under(&root, "link").await,
            Err(PathRefusal::OutsideRoot)
        );
        assert!(resolve_under(&root, "ok").await.unwrap().is_some());
        assert_eq!(resolve_under(&root, "missing").await, Ok(None));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
