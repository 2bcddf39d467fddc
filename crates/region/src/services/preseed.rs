//! What a machine booting the ephemeral environment learns before it has
//! credentials: its preseed (a cloud-config carrying the metadata URL and
//! its OAuth token, as MAAS's `get_preseed`), and the enlistment rules
//! (an enlisted machine commissions in the same boot).

use maas_model::NodeStatus;

use crate::error::{Error, Result};
use crate::services::lifecycle::{self, Core};
use crate::services::machines::node_token;
use crate::services::{Ctx, config};
use crate::store::Conn;
use crate::store::machines::boot as db;

/// Statuses in which a machine runs the ephemeral environment and so may
/// fetch its credentials anonymously.
fn boots_environment(s: NodeStatus) -> bool {
    use NodeStatus::*;
    matches!(
        s,
        Commissioning | Testing | Deploying | DiskErasing | EnteringRescueMode | RescueMode
    )
}

/// The cloud-config for `system_id`, with `metadata_url` (the URL the
/// machine reached us by). Only while the machine boots the environment,
/// or is a NEW machine that enlisted itself; otherwise 403, so a token is
/// never handed to a machine that is not booting.
pub async fn get(ctx: &Ctx, system_id: &str, metadata_url: &str) -> Result<String> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let m = lifecycle::lock(&mut tx, system_id).await?;
    let allowed = boots_environment(m.status)
        || (m.status == NodeStatus::New && db::enlisting(&mut tx, m.id).await?);
    if !allowed {
        return Err(Error::Forbidden(format!(
            "{} is not booting the ephemeral environment (status: {}).",
            m.hostname,
            m.status.label()
        )));
    }
    let (ck, tk, ts) = node_token(&mut tx, m.id).await?;
    tx.commit().await?;
    Ok(render(metadata_url, &ck, &tk, &ts))
}

/// The anonymous enlistment preseed: where to find the metadata API.
pub fn enlist(metadata_url: &str) -> String {
    format!(
        "#cloud-config\ndatasource:\n  MAAS:\n    metadata_url: {}\n",
        yaml_scalar(metadata_url)
    )
}

fn render(url: &str, ck: &str, tk: &str, ts: &str) -> String {
    format!(
        "#cloud-config\n\
         datasource:\n  MAAS:\n    metadata_url: {}\n    consumer_key: {ck}\n    \
         token_key: {tk}\n    token_secret: {ts}\n\
         reporting:\n  maas:\n    type: webhook\n    endpoint: {}\n    consumer_key: {ck}\n    \
         token_key: {tk}\n    token_secret: {ts}\n",
        yaml_scalar(url),
        yaml_scalar(&format!("{}status/", url)),
    )
}

/// A URL as a YAML scalar: quoted when it holds anything YAML would read
/// differently.
fn yaml_scalar(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || ":/._-[]%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// An enlisting NEW machine's first signal in the enlistment boot
/// (COMMISSIONING, WORKING or OK) makes it COMMISSIONING. True when that
/// happened.
pub async fn start_commissioning(tx: &mut Conn, m: &mut Core, status: &str) -> Result<bool> {
    let starts = matches!(status, "COMMISSIONING" | "WORKING" | "OK");
    if m.status != NodeStatus::New || !starts || !db::enlisting(tx, m.id).await? {
        return Ok(false);
    }
    lifecycle::transition(
        tx,
        m,
        NodeStatus::Commissioning,
        None,
        "Commissioning (enlisted)",
    )
    .await?;
    Ok(true)
}

/// Where a successful commissioning leads: an enlisting machine goes back
/// to NEW unless `enlist_commissioning` is on. Ends enlistment either way.
pub async fn commissioned_to(tx: &mut Conn, m: &Core, ok_to: NodeStatus) -> Result<NodeStatus> {
    if m.status != NodeStatus::Commissioning || !db::enlisting(tx, m.id).await? {
        return Ok(ok_to);
    }
    db::end_enlisting(tx, m.id).await?;
    if config::get_bool(&mut *tx, "enlist_commissioning").await? {
        Ok(ok_to)
    } else {
        Ok(NodeStatus::New)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preseed_carries_the_token_and_quotes_odd_urls() {
        let p = render("http://10.0.0.1:5248/MAAS/metadata/", "ck", "tk", "ts");
        assert!(p.starts_with("#cloud-config\n"));
        assert!(p.contains("    metadata_url: http://10.0.0.1:5248/MAAS/metadata/\n"));
        assert!(p.contains("    consumer_key: ck\n    token_key: tk\n    token_secret: ts\n"));
        assert!(p.contains("endpoint: http://10.0.0.1:5248/MAAS/metadata/status/\n"));
        assert_eq!(yaml_scalar("http://x/#a b"), "'http://x/#a b'");
        assert_eq!(yaml_scalar("it's"), "'it''s'");
        assert!(
            enlist("http://r/MAAS/metadata/").contains("metadata_url: http://r/MAAS/metadata/")
        );
    }
}
