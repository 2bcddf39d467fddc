//! What booting machines read and report through the metadata API: their
//! user data and owner's keys, netboot, inventory, script results, power
//! settings and progress heartbeats.

use crate::error::Result;
use crate::store::{Conn, Executor, Pool};

/// The system id of a machine by row id.
pub async fn system_id(db: &Pool, id: i64) -> Result<String> {
    Ok(
        sqlx::query_scalar("SELECT system_id FROM machines WHERE id = $1")
            .bind(id)
            .fetch_one(db)
            .await?,
    )
}

pub async fn set_netboot(db: &Pool, system_id: &str, on: bool) -> Result<()> {
    sqlx::query("UPDATE machines SET netboot = $2 WHERE system_id = $1")
        .bind(system_id)
        .bind(on)
        .execute(db)
        .await?;
    Ok(())
}

/// What the metadata tree shows of a machine.
pub struct MetaView {
    pub hostname: String,
    pub status: i16,
    pub owner_id: Option<i64>,
    pub user_data: Option<Vec<u8>>,
    /// Commissioning or testing was asked to open SSH.
    pub enable_ssh: bool,
}

pub async fn meta_view(db: &Pool, system_id: &str) -> Result<MetaView> {
    let (hostname, status, owner_id, user_data, enable_ssh) = sqlx::query_as(
        "SELECT hostname, status, owner_id, user_data, enable_ssh FROM machines
          WHERE system_id = $1",
    )
    .bind(system_id)
    .fetch_one(db)
    .await?;
    Ok(MetaView {
        hostname,
        status,
        owner_id,
        user_data,
        enable_ssh,
    })
}

/// How a machine was asked to commission (`enable_ssh` also: to test).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CommissionOptions {
    /// Stay on with SSH open for the requester's keys once done.
    pub enable_ssh: bool,
    /// Leave the BMC as it is (no `maas` user, no new power settings).
    pub skip_bmc_config: bool,
    /// Keep the interfaces' links instead of the initial configuration.
    pub skip_networking: bool,
    /// Keep the block devices and their storage configuration.
    pub skip_storage: bool,
}

pub async fn set_commission_options(c: &mut Conn, id: i64, o: &CommissionOptions) -> Result<()> {
    sqlx::query(
        "UPDATE machines SET enable_ssh = $2, skip_bmc_config = $3, skip_networking = $4,
                skip_storage = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(o.enable_ssh)
    .bind(o.skip_bmc_config)
    .bind(o.skip_networking)
    .bind(o.skip_storage)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Testing sets only `enable_ssh`.
pub async fn set_enable_ssh(c: &mut Conn, id: i64, on: bool) -> Result<()> {
    sqlx::query("UPDATE machines SET enable_ssh = $2 WHERE id = $1")
        .bind(id)
        .bind(on)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn commission_options<'e>(e: impl Executor<'e>, id: i64) -> Result<CommissionOptions> {
    let (enable_ssh, skip_bmc_config, skip_networking, skip_storage) = sqlx::query_as(
        "SELECT enable_ssh, skip_bmc_config, skip_networking, skip_storage
           FROM machines WHERE id = $1",
    )
    .bind(id)
    .fetch_one(e)
    .await?;
    Ok(CommissionOptions {
        enable_ssh,
        skip_bmc_config,
        skip_networking,
        skip_storage,
    })
}

/// A user's SSH public keys, oldest first.
pub async fn ssh_keys(db: &Pool, user_id: Option<i64>) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT key FROM sshkeys WHERE user_id = $1 ORDER BY id")
            .bind(user_id)
            .fetch_all(db)
            .await?,
    )
}

/// The keys of the user named in the machine's latest event of type
/// `event_type` (the user who asked for it), by system id.
pub async fn ssh_keys_of_requester(
    db: &Pool,
    system_id: &str,
    event_type: &str,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT k.key FROM sshkeys k JOIN users u ON u.id = k.user_id \
         WHERE u.username = (SELECT e.username FROM events e \
             JOIN machines m ON m.id = e.machine_id \
             WHERE m.system_id = $1 AND e.type = $2 AND e.username IS NOT NULL \
             ORDER BY e.id DESC LIMIT 1) \
         ORDER BY k.id",
    )
    .bind(system_id)
    .bind(event_type)
    .fetch_all(db)
    .await?)
}

/// The machine-wide figures an inventory reports (`None`: unchanged).
pub struct Hardware<'a> {
    pub cpu_count: Option<i32>,
    pub memory: Option<i64>,
    pub cpu_speed: Option<i32>,
    /// `pxe` or `uefi` (`bios_boot_method`).
    pub boot_method: Option<&'static str>,
    /// `hardware_info` as JSON text, replacing what was there.
    pub hardware_info: Option<&'a str>,
    /// `numanode_set` as JSON text, replacing what was there.
    pub numa_nodes: Option<&'a str>,
}

/// Set what the inventory reports (`None`: unchanged).
pub async fn set_hardware(c: &mut Conn, id: i64, hw: &Hardware<'_>) -> Result<()> {
    sqlx::query(
        "UPDATE machines SET cpu_count = coalesce($2, cpu_count), memory = coalesce($3, memory),
                cpu_speed = coalesce($4, cpu_speed),
                bios_boot_method = coalesce($5, bios_boot_method),
                hardware_info = coalesce($6::jsonb, hardware_info),
                numa_nodes = coalesce($7::jsonb, numa_nodes) WHERE id = $1",
    )
    .bind(id)
    .bind(hw.cpu_count)
    .bind(hw.memory)
    .bind(hw.cpu_speed)
    .bind(hw.boot_method)
    .bind(hw.hardware_info)
    .bind(hw.numa_nodes)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A disk as the inventory reports it.
pub struct InventoryDisk<'a> {
    pub name: &'a str,
    pub size: i64,
    pub tags: Vec<String>,
    pub model: &'a str,
    pub serial: &'a str,
    pub id_path: Option<&'a str>,
}

/// Replace a machine's disks with the inventory's (a repeated name counts
/// once).
pub async fn replace_disks(c: &mut Conn, id: i64, disks: &[InventoryDisk<'_>]) -> Result<()> {
    sqlx::query("DELETE FROM block_devices WHERE machine_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    for d in disks {
        sqlx::query(
            "INSERT INTO block_devices (machine_id, name, size, tags, model, serial, id_path)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (machine_id, name) DO NOTHING",
        )
        .bind(id)
        .bind(d.name)
        .bind(d.size)
        .bind(&d.tags)
        .bind(d.model)
        .bind(d.serial)
        .bind(d.id_path)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// A NIC as the inventory reports it (MAC normalised).
pub struct InventoryNic {
    pub name: String,
    pub mac: String,
    pub link: bool,
    /// Mbps; 0 when unknown.
    pub speed: i32,
}

/// Update the machine's physical interface with this MAC (its name unless
/// another interface of the machine has it, link state, speeds), or add
/// one. A MAC that belongs to another machine, or a name taken by another
/// interface, adds nothing.
pub async fn upsert_nic(c: &mut Conn, machine_id: i64, n: &InventoryNic) -> Result<()> {
    let link_speed = if n.link { n.speed } else { 0 };
    let updated = sqlx::query(
        "UPDATE interfaces i SET
                name = CASE WHEN EXISTS (SELECT 1 FROM interfaces o WHERE o.machine_id = $1
                                         AND o.name = $3 AND o.id <> i.id) THEN i.name ELSE $3 END,
                link_connected = $4, link_speed = $5, interface_speed = greatest($6, 0)
          WHERE i.machine_id = $1 AND i.mac_address = $2 AND i.type = 'physical'",
    )
    .bind(machine_id)
    .bind(&n.mac)
    .bind(&n.name)
    .bind(n.link)
    .bind(link_speed)
    .bind(n.speed)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if updated == 0 {
        sqlx::query(
            "INSERT INTO interfaces (machine_id, name, mac_address, link_connected, link_speed,
                                     interface_speed)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(machine_id)
        .bind(&n.name)
        .bind(&n.mac)
        .bind(n.link)
        .bind(link_speed)
        .bind(n.speed)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// One script's result.
pub struct ScriptResult<'a> {
    pub result_type: i16,
    pub name: &'a str,
    pub status: i16,
    pub exit_status: Option<i32>,
    pub runtime: Option<&'a str>,
    pub output: &'a [u8],
}

pub async fn insert_script_result(c: &mut Conn, id: i64, r: &ScriptResult<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO script_results (machine_id, result_type, name, status, exit_status, runtime, output)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(r.result_type)
    .bind(r.name)
    .bind(r.status)
    .bind(r.exit_status)
    .bind(r.runtime)
    .bind(r.output)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn set_power(c: &mut Conn, id: i64, power_type: &str, sealed: Vec<u8>) -> Result<()> {
    sqlx::query("UPDATE machines SET power_type = $2, power_parameters = $3 WHERE id = $1")
        .bind(id)
        .bind(power_type)
        .bind(sealed)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// A progress report: new status message, deadline `minutes` from now.
pub async fn heartbeat(c: &mut Conn, id: i64, message: &str, minutes: i64) -> Result<()> {
    sqlx::query(
        "UPDATE machines SET status_message = $2,
                status_expires = now() + make_interval(mins => $3::int) WHERE id = $1",
    )
    .bind(id)
    .bind(message)
    .bind(minutes)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Whether the machine enlisted itself and has not finished its first
/// commissioning yet.
pub async fn enlisting(c: &mut Conn, id: i64) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT enlisting FROM machines WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *c)
            .await?,
    )
}

pub async fn end_enlisting(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("UPDATE machines SET enlisting = false WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The disk-erase options of the last release (`erase` alone: both false).
pub async fn set_erase(c: &mut Conn, id: i64, quick: bool, secure: bool) -> Result<()> {
    sqlx::query("UPDATE machines SET erase_quick = $2, erase_secure = $3 WHERE id = $1")
        .bind(id)
        .bind(quick)
        .bind(secure)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// (quick, secure) erase options.
pub async fn erase_options<'e>(e: impl Executor<'e>, id: i64) -> Result<(bool, bool)> {
    Ok(
        sqlx::query_as("SELECT erase_quick, erase_secure FROM machines WHERE id = $1")
            .bind(id)
            .fetch_one(e)
            .await?,
    )
}

/// A machine's architecture (e.g. "amd64/generic").
pub async fn architecture<'e>(e: impl Executor<'e>, id: i64) -> Result<String> {
    Ok(
        sqlx::query_scalar("SELECT architecture FROM machines WHERE id = $1")
            .bind(id)
            .fetch_one(e)
            .await?,
    )
}
