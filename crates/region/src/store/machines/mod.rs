//! Machines: their rows, reads by id and system id, the lock lifecycle
//! decisions are made under, and every write to the `machines` table and
//! its interfaces and disks.

pub mod alloc;
pub mod boot;
pub mod filter;
pub mod page;
pub mod power;
pub mod related;
pub mod tokens;
pub mod write;

use maas_model::{NodeStatus, PowerType};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::error::Result;
use crate::store::Conn;
use crate::store::db::Hot;

/// The columns of `machines m` that `MachineRow::from_row` reads, ending
/// with the versions the render caches are keyed by. No joins: the names of
/// a machine's domain, zone, pool and owner come from `SharedNames`.
pub const MACHINE_SELECT: &str = "SELECT m.id, m.system_id, m.hostname, m.description,
    m.domain_id, m.status, m.status_message, m.error_description, m.previous_status,
    m.zone_id, m.pool_id, m.architecture, m.cpu_count, m.cpu_speed, m.memory, m.swap_size,
    m.power_type, m.power_state, m.locked, m.netboot, m.osystem, m.distro_series, m.hwe_kernel,
    m.min_hwe_kernel, m.tag_names, m.hardware_uuid, m.hardware_info::text AS hardware_info,
    m.owner_data::text AS owner_data, m.ephemeral_deploy, m.bios_boot_method, m.agent_name,
    m.node_type, m.owner_id, m.version, m.hw_version, (SELECT n FROM render_epoch) AS epoch,
    m.numa_nodes::text AS numa_nodes
  FROM machines m";

#[derive(Debug, Clone)]
pub struct MachineRow {
    pub id: i64,
    pub system_id: String,
    pub hostname: String,
    pub description: String,
    pub domain_id: i64,
    pub status: NodeStatus,
    pub previous_status: Option<NodeStatus>,
    pub status_message: String,
    pub error_description: String,
    pub owner_id: Option<i64>,
    pub zone_id: i64,
    pub pool_id: i64,
    pub architecture: String,
    pub cpu_count: i32,
    pub cpu_speed: i32,
    pub memory: i64,
    pub swap_size: Option<i64>,
    pub power_type: String,
    pub power_state: String,
    pub locked: bool,
    pub netboot: bool,
    pub osystem: String,
    pub distro_series: String,
    pub hwe_kernel: Option<String>,
    pub min_hwe_kernel: String,
    pub tag_names: Vec<String>,
    pub hardware_uuid: Option<String>,
    pub hardware_info: String,
    pub owner_data: String,
    pub ephemeral_deploy: bool,
    pub bios_boot_method: Option<String>,
    pub agent_name: String,
    pub node_type: i16,
    /// Row version, hardware version and shared-data epoch (`rendercache`).
    pub version: i64,
    pub hw_version: i64,
    pub epoch: i64,
    /// The NUMA nodes commissioning found (JSON text), if any.
    pub numa_nodes: Option<String>,
}

fn status_of(n: i16) -> NodeStatus {
    NodeStatus::from_i16(n).unwrap_or(NodeStatus::Broken)
}

impl MachineRow {
    pub fn from_row(r: &PgRow) -> sqlx::Result<MachineRow> {
        Ok(MachineRow {
            id: r.try_get(0)?,
            system_id: r.try_get(1)?,
            hostname: r.try_get(2)?,
            description: r.try_get(3)?,
            domain_id: r.try_get(4)?,
            status: status_of(r.try_get(5)?),
            status_message: r.try_get(6)?,
            error_description: r.try_get(7)?,
            previous_status: r
                .try_get::<Option<i16>, _>(8)?
                .and_then(NodeStatus::from_i16),
            zone_id: r.try_get(9)?,
            pool_id: r.try_get(10)?,
            architecture: r.try_get(11)?,
            cpu_count: r.try_get(12)?,
            cpu_speed: r.try_get(13)?,
            memory: r.try_get(14)?,
            swap_size: r.try_get(15)?,
            power_type: r.try_get(16)?,
            power_state: r.try_get(17)?,
            locked: r.try_get(18)?,
            netboot: r.try_get(19)?,
            osystem: r.try_get(20)?,
            distro_series: r.try_get(21)?,
            hwe_kernel: r.try_get(22)?,
            min_hwe_kernel: r.try_get(23)?,
            tag_names: r.try_get(24)?,
            hardware_uuid: r.try_get(25)?,
            hardware_info: r.try_get(26)?,
            owner_data: r.try_get(27)?,
            ephemeral_deploy: r.try_get(28)?,
            bios_boot_method: r.try_get(29)?,
            agent_name: r.try_get(30)?,
            node_type: r.try_get(31)?,
            owner_id: r.try_get(32)?,
            version: r.try_get(33)?,
            hw_version: r.try_get(34)?,
            epoch: r.try_get(35)?,
            numa_nodes: r.try_get(36)?,
        })
    }
}

/// Machine rows by id (split over two backends when many).
pub async fn rows_by_ids(hot: &Hot, ids: &[i64]) -> Result<Vec<MachineRow>> {
    crate::store::split_read(ids, |ids| async move {
        let q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{MACHINE_SELECT} WHERE m.id = ANY($1)"
        )))
        .bind(ids);
        let rows = hot.run(async |c| q.fetch_all(c).await).await?;
        Ok(rows
            .iter()
            .map(MachineRow::from_row)
            .collect::<sqlx::Result<Vec<_>>>()?)
    })
    .await
}

/// One machine row by system id.
pub async fn row_by_system_id(hot: &Hot, system_id: &str) -> Result<Option<MachineRow>> {
    let q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{MACHINE_SELECT} WHERE m.system_id = $1"
    )))
    .bind(system_id);
    let row = hot.run(async |c| q.fetch_optional(c).await).await?;
    Ok(row.as_ref().map(MachineRow::from_row).transpose()?)
}

/// The columns lifecycle decisions need, read under a row lock.
#[derive(Debug, Clone)]
pub struct Core {
    pub id: i64,
    pub system_id: String,
    pub hostname: String,
    pub status: NodeStatus,
    pub previous_status: Option<NodeStatus>,
    pub owner_id: Option<i64>,
    pub locked: bool,
    /// `None`: no power type set (or one this region does not know).
    pub power_type: Option<PowerType>,
    pub power_state: String,
}

/// Lock a machine row for this transaction; `None` if it does not exist.
pub async fn lock(c: &mut Conn, system_id: &str) -> Result<Option<Core>> {
    let r = sqlx::query(
        "SELECT id, system_id, hostname, status, previous_status, owner_id, locked, power_type,
                power_state
           FROM machines WHERE system_id = $1 FOR UPDATE",
    )
    .bind(system_id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(r) = r else { return Ok(None) };
    Ok(Some(Core {
        id: r.try_get("id")?,
        system_id: r.try_get("system_id")?,
        hostname: r.try_get("hostname")?,
        status: status_of(r.try_get("status")?),
        previous_status: r
            .try_get::<Option<i16>, _>("previous_status")?
            .and_then(NodeStatus::from_i16),
        owner_id: r.try_get("owner_id")?,
        locked: r.try_get("locked")?,
        power_type: PowerType::parse(r.try_get::<&str, _>("power_type")?),
        power_state: r.try_get("power_state")?,
    }))
}

/// Which of `system_ids` exist.
pub async fn existing(c: &mut Conn, system_ids: &[String]) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT system_id FROM machines WHERE system_id = ANY($1)")
            .bind(system_ids)
            .fetch_all(&mut *c)
            .await?,
    )
}
