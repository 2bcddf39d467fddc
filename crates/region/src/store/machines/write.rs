//! Writes to machines, their interfaces and disks, and the small reads the
//! services make inside the same transactions.

use maas_model::NodeStatus;
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder};

use crate::error::Result;
use crate::store::{Conn, Pool};

/// Whether another machine (not `except`) or a device in `domain` has this
/// hostname.
pub async fn hostname_taken(
    c: &mut Conn,
    hostname: &str,
    domain: i64,
    except: i64,
) -> Result<bool> {
    crate::store::names::hostname_taken(c, hostname, domain, except, -1).await
}

/// Which of `macs` a physical interface already has.
pub async fn physical_macs_in_use(c: &mut Conn, macs: &[String]) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT mac_address FROM interfaces WHERE type = 'physical' AND mac_address = ANY($1)",
    )
    .bind(macs)
    .fetch_all(&mut *c)
    .await?)
}

/// Whether any interface has this MAC.
pub async fn mac_registered(db: &Pool, mac: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM interfaces WHERE mac_address = $1)")
            .bind(mac)
            .fetch_one(db)
            .await?,
    )
}

/// Whether an interface with this MAC belongs to a machine in one of
/// `statuses`.
pub async fn mac_in_statuses(db: &Pool, mac: &str, statuses: &[NodeStatus]) -> Result<bool> {
    let statuses: Vec<i16> = statuses.iter().map(|s| s.as_i16()).collect();
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM interfaces i JOIN machines m ON m.id = i.machine_id
                         WHERE i.mac_address = $1 AND m.status = ANY($2))",
    )
    .bind(mac)
    .bind(statuses)
    .fetch_one(db)
    .await?)
}

/// A machine to insert.
pub struct NewMachine<'a> {
    pub system_id: &'a str,
    pub hostname: &'a str,
    pub domain_id: i64,
    pub description: &'a str,
    pub status: NodeStatus,
    pub owner_id: Option<i64>,
    pub zone_id: i64,
    pub pool_id: i64,
    pub architecture: &'a str,
    pub cpu_count: i32,
    pub memory: i64,
    pub power_type: &'a str,
    pub power_parameters: Option<Vec<u8>>,
    pub min_hwe_kernel: &'a str,
    pub hardware_uuid: Option<&'a str>,
    pub enlisting: bool,
}

/// Insert a machine; `None` if its system id is taken (draw another).
pub async fn insert(c: &mut Conn, m: &NewMachine<'_>) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO machines (system_id, hostname, domain_id, description, status, owner_id,
             zone_id, pool_id, architecture, cpu_count, memory, power_type, power_parameters,
             min_hwe_kernel, hardware_uuid, enlisting)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)
         ON CONFLICT (system_id) DO NOTHING RETURNING id",
    )
    .bind(m.system_id)
    .bind(m.hostname)
    .bind(m.domain_id)
    .bind(m.description)
    .bind(m.status.as_i16())
    .bind(m.owner_id)
    .bind(m.zone_id)
    .bind(m.pool_id)
    .bind(m.architecture)
    .bind(m.cpu_count)
    .bind(m.memory)
    .bind(m.power_type)
    .bind(m.power_parameters.clone())
    .bind(m.min_hwe_kernel)
    .bind(m.hardware_uuid)
    .bind(m.enlisting)
    .fetch_optional(&mut *c)
    .await?)
}

/// A physical interface to add to a machine.
pub struct NewInterface<'a> {
    pub name: &'a str,
    pub mac: &'a str,
    pub tags: &'a [String],
    pub vlan_id: Option<i64>,
    pub speed: i32,
    pub is_boot: bool,
}

pub async fn insert_interface(c: &mut Conn, machine_id: i64, i: &NewInterface<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO interfaces (machine_id, name, mac_address, tags, vlan_id, link_speed, interface_speed, is_boot)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(machine_id)
    .bind(i.name)
    .bind(i.mac)
    .bind(i.tags)
    .bind(i.vlan_id)
    .bind(i.speed)
    .bind(i.is_boot)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn interface_count(c: &mut Conn, machine_id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM interfaces WHERE machine_id = $1")
            .bind(machine_id)
            .fetch_one(&mut *c)
            .await?,
    )
}

/// A physical block device to add to a machine.
pub struct NewDisk<'a> {
    pub name: &'a str,
    pub size: i64,
    pub block_size: i32,
    pub tags: &'a [String],
    pub model: &'a str,
    pub serial: &'a str,
    pub id_path: Option<&'a str>,
}

pub async fn insert_disk(c: &mut Conn, machine_id: i64, d: &NewDisk<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO block_devices (machine_id, name, size, block_size, tags, model, serial, id_path)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(machine_id)
    .bind(d.name)
    .bind(d.size)
    .bind(d.block_size)
    .bind(d.tags)
    .bind(d.model)
    .bind(d.serial)
    .bind(d.id_path)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// A machine's domain and sealed power parameters.
pub async fn domain_and_power(c: &mut Conn, id: i64) -> Result<(i64, Option<Vec<u8>>)> {
    Ok(
        sqlx::query_as("SELECT domain_id, power_parameters FROM machines WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *c)
            .await?,
    )
}

/// Fields an update sets (`None`: unchanged).
#[derive(Default)]
pub struct MachineUpdate {
    pub domain_id: i64,
    pub hostname: Option<String>,
    pub description: Option<String>,
    pub zone_id: Option<i64>,
    pub pool_id: Option<i64>,
    pub architecture: Option<String>,
    pub min_hwe_kernel: Option<String>,
    pub cpu_count: Option<i32>,
    pub memory: Option<i64>,
    pub swap_size: Option<i64>,
    /// `Some(None)` clears it.
    pub hardware_uuid: Option<Option<String>>,
    /// Power type and sealed parameters, set together.
    pub power: Option<(String, Vec<u8>)>,
}

pub async fn update(c: &mut Conn, id: i64, u: MachineUpdate) -> Result<()> {
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new("UPDATE machines SET updated = now(), domain_id = ");
    q.push_bind(u.domain_id);
    if let Some(h) = u.hostname {
        q.push(", hostname = ").push_bind(h);
    }
    if let Some(d) = u.description {
        q.push(", description = ").push_bind(d);
    }
    if let Some(z) = u.zone_id {
        q.push(", zone_id = ").push_bind(z);
    }
    if let Some(p) = u.pool_id {
        q.push(", pool_id = ").push_bind(p);
    }
    if let Some(a) = u.architecture {
        q.push(", architecture = ").push_bind(a);
    }
    if let Some(k) = u.min_hwe_kernel {
        q.push(", min_hwe_kernel = ").push_bind(k);
    }
    if let Some(n) = u.cpu_count {
        q.push(", cpu_count = ").push_bind(n);
    }
    if let Some(n) = u.memory {
        q.push(", memory = ").push_bind(n);
    }
    if let Some(n) = u.swap_size {
        q.push(", swap_size = ").push_bind(n);
    }
    if let Some(h) = u.hardware_uuid {
        q.push(", hardware_uuid = ").push_bind(h);
    }
    if let Some((t, p)) = u.power {
        q.push(", power_type = ").push_bind(t);
        q.push(", power_parameters = ").push_bind(p);
    }
    q.push(" WHERE id = ").push_bind(id);
    q.build().execute(&mut *c).await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM machines WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// A status change as the lifecycle decided it.
pub struct StatusChange<'a> {
    pub to: NodeStatus,
    pub previous: Option<NodeStatus>,
    /// Minutes until the in-progress status fails; `None` clears it.
    pub deadline_minutes: Option<i64>,
    pub message: &'a str,
    /// Back in the pool: owner, deployment settings and lock are dropped.
    pub to_ready: bool,
    /// A failure: the message becomes the error description.
    pub failed: bool,
}

pub async fn set_status(c: &mut Conn, id: i64, s: &StatusChange<'_>) -> Result<()> {
    sqlx::query(
        "UPDATE machines SET
            status = $2,
            previous_status = $3,
            status_expires = CASE WHEN $4::bigint IS NULL THEN NULL
                                  ELSE now() + make_interval(mins => $4::int) END,
            status_message = $5,
            error_description = CASE WHEN $7 THEN $5 WHEN $6 THEN '' ELSE error_description END,
            owner_id = CASE WHEN $6 THEN NULL ELSE owner_id END,
            agent_name = CASE WHEN $6 THEN '' ELSE agent_name END,
            osystem = CASE WHEN $6 THEN '' ELSE osystem END,
            distro_series = CASE WHEN $6 THEN '' ELSE distro_series END,
            hwe_kernel = CASE WHEN $6 THEN NULL ELSE hwe_kernel END,
            user_data = CASE WHEN $6 THEN NULL ELSE user_data END,
            locked = CASE WHEN $6 THEN false ELSE locked END,
            netboot = CASE WHEN $6 THEN true ELSE netboot END,
            owner_data = CASE WHEN $6 THEN '{}'::jsonb ELSE owner_data END,
            updated = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(s.to.as_i16())
    .bind(s.previous.map(|s| s.as_i16()))
    .bind(s.deadline_minutes)
    .bind(s.message)
    .bind(s.to_ready)
    .bind(s.failed)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Take the status monitor's lock for this transaction; false if another
/// region holds it.
pub async fn try_monitor_lock(c: &mut Conn) -> Result<bool> {
    /// Advisory lock id for the status monitor (one region at a time).
    const STATUS_MONITOR_LOCK: i64 = 0x6d61_6173_0002;
    Ok(sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(STATUS_MONITOR_LOCK)
        .fetch_one(&mut *c)
        .await?)
}

/// System ids of machines past their deadline (locked, at most 1,000).
pub async fn overdue(c: &mut Conn) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT system_id FROM machines WHERE status_expires < now()
          ORDER BY status_expires LIMIT 1000 FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(&mut *c)
    .await?)
}

pub async fn clear_deadline(c: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("UPDATE machines SET status_expires = NULL WHERE id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn set_owner(c: &mut Conn, id: i64, owner: i64, agent_name: &str) -> Result<()> {
    sqlx::query("UPDATE machines SET owner_id = $2, agent_name = $3 WHERE id = $1")
        .bind(id)
        .bind(owner)
        .bind(agent_name)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// What a deployment installs.
pub struct DeploySettings<'a> {
    pub osystem: &'a str,
    pub distro_series: &'a str,
    pub hwe_kernel: Option<&'a str>,
    pub user_data: Option<Vec<u8>>,
    pub ephemeral: bool,
    /// Empty: keep the machine's agent name.
    pub agent_name: &'a str,
}

pub async fn set_deploy(c: &mut Conn, id: i64, d: DeploySettings<'_>) -> Result<()> {
    sqlx::query(
        "UPDATE machines SET osystem = $2, distro_series = $3, hwe_kernel = $4,
                user_data = $5, ephemeral_deploy = $6, netboot = true,
                agent_name = CASE WHEN $7 = '' THEN agent_name ELSE $7 END
          WHERE id = $1",
    )
    .bind(id)
    .bind(d.osystem)
    .bind(d.distro_series)
    .bind(d.hwe_kernel)
    .bind(d.user_data)
    .bind(d.ephemeral)
    .bind(d.agent_name)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn set_error_description(c: &mut Conn, id: i64, text: &str) -> Result<()> {
    sqlx::query("UPDATE machines SET error_description = $2 WHERE id = $1")
        .bind(id)
        .bind(text)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn set_locked(c: &mut Conn, id: i64, locked: bool) -> Result<()> {
    sqlx::query("UPDATE machines SET locked = $2 WHERE id = $1")
        .bind(id)
        .bind(locked)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn owner_data(c: &mut Conn, id: i64) -> Result<Value> {
    Ok(
        sqlx::query_scalar("SELECT owner_data FROM machines WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *c)
            .await?,
    )
}

pub async fn set_owner_data(c: &mut Conn, id: i64, data: Value) -> Result<()> {
    sqlx::query("UPDATE machines SET owner_data = $2 WHERE id = $1")
        .bind(id)
        .bind(data)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Sealed power parameters of the machines with these system ids (all when
/// empty), by id.
pub async fn power_parameters(
    db: &Pool,
    system_ids: &[String],
) -> Result<Vec<(String, Option<Vec<u8>>)>> {
    Ok(sqlx::query_as(
        "SELECT system_id, power_parameters FROM machines
          WHERE cardinality($1::text[]) = 0 OR system_id = ANY($1) ORDER BY id",
    )
    .bind(system_ids)
    .fetch_all(db)
    .await?)
}

/// One machine's sealed power parameters; `None` if there is no machine.
pub async fn power_parameters_of(db: &Pool, system_id: &str) -> Result<Option<Option<Vec<u8>>>> {
    Ok(
        sqlx::query_scalar("SELECT power_parameters FROM machines WHERE system_id = $1")
            .bind(system_id)
            .fetch_optional(db)
            .await?,
    )
}

/// System ids of machines in a status.
pub async fn system_ids_in(db: &Pool, status: NodeStatus) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT system_id FROM machines WHERE status = $1 ORDER BY id")
            .bind(status.as_i16())
            .fetch_all(db)
            .await?,
    )
}

/// Move machines to a zone; how many moved.
pub async fn set_zone(c: &mut Conn, zone_id: i64, system_ids: &[String]) -> Result<u64> {
    Ok(
        sqlx::query("UPDATE machines SET zone_id = $1 WHERE system_id = ANY($2)")
            .bind(zone_id)
            .bind(system_ids)
            .execute(&mut *c)
            .await?
            .rows_affected(),
    )
}
