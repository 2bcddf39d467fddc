//! Machines as records: reading (with visibility), creating, updating and
//! deleting them, their owner data, power parameters, hardware added by
//! hand, and their own tokens. Status changes are `lifecycle`'s and
//! `actions`' alone.

use maas_model::filter::{Visibility, can_edit};
use maas_model::{NodeStatus, PowerAction, PowerType, SystemId, ids};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::render::FullMachine;
use crate::services::auth::{self, User};
use crate::services::lifecycle::{self, power_intent, transition};
use crate::services::{Ctx, load};
use crate::store::machines::tokens;
use crate::store::machines::write::{self as db, MachineUpdate, NewDisk, NewInterface, NewMachine};
use crate::store::{Conn, names};

impl User {
    /// Which machines this user may see.
    pub fn visibility(&self) -> Visibility {
        Visibility::of(self.id, self.is_superuser)
    }

    pub fn can_view(&self, owner: Option<i64>) -> bool {
        self.visibility().allows(owner)
    }

    pub fn can_edit(&self, owner: Option<i64>) -> bool {
        can_edit(self.id, self.is_superuser, owner)
    }
}

/// One machine with everything it renders; 404 if there is none.
pub async fn get(ctx: &Ctx, system_id: &str) -> Result<FullMachine> {
    if SystemId::parse(system_id).is_none() {
        return Err(lifecycle::not_found(system_id));
    }
    load::machine(ctx, system_id)
        .await?
        .ok_or_else(|| lifecycle::not_found(system_id))
}

/// One machine, if `user` may see it (403 otherwise).
pub async fn get_visible(ctx: &Ctx, user: &User, system_id: &str) -> Result<FullMachine> {
    let m = get(ctx, system_id).await?;
    if !user.can_view(m.row.owner_id) {
        return Err(Error::Forbidden(
            "You do not have permission to view this machine.".into(),
        ));
    }
    Ok(m)
}

async fn zone_id(c: &mut Conn, name: &str) -> Result<i64> {
    names::zone_id(c, name)
        .await?
        .ok_or_else(|| Error::field("zone", format!("No such zone: '{name}'.")))
}

async fn pool_id(c: &mut Conn, name: &str) -> Result<i64> {
    names::pool_id(c, name)
        .await?
        .ok_or_else(|| Error::field("pool", format!("No such resource pool: '{name}'.")))
}

async fn domain_id(c: &mut Conn, name: &str) -> Result<i64> {
    names::domain_id(c, name)
        .await?
        .ok_or_else(|| Error::field("domain", format!("No such domain: '{name}'.")))
}

/// Power parameters as a request gives them.
#[derive(Debug, Default, Clone)]
pub struct PowerParams {
    /// A JSON object.
    pub json: Option<String>,
    /// `power_parameters_<name>` fields: (name, value).
    pub fields: Vec<(String, String)>,
}

impl PowerParams {
    /// The parameters as one object of strings; `None` when none were given.
    fn parse(&self) -> Result<Option<Map<String, Value>>> {
        let mut out = Map::new();
        let not_object = || {
            Error::field(
                "power_parameters",
                "power_parameters must be a JSON object.",
            )
        };
        if let Some(j) = &self.json {
            let Value::Object(m) = serde_json::from_str(j).map_err(|_| not_object())? else {
                return Err(not_object());
            };
            for (k, v) in m {
                let s = match v {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                out.insert(k, Value::String(s));
            }
        }
        for (k, v) in &self.fields {
            out.insert(k.clone(), Value::String(v.clone()));
        }
        Ok((self.json.is_some() || !self.fields.is_empty()).then_some(out))
    }
}

/// Power parameter names not taken by `power_type`'s driver, as a field
/// error; and a power type this region does not know.
fn check_power_params(power_type: &str, params: &Map<String, Value>) -> Result<()> {
    let t = PowerType::parse(power_type).ok_or_else(|| {
        Error::field(
            "power_type",
            format!("'{power_type}' is not a valid power type."),
        )
    })?;
    for k in params.keys() {
        if !t.params().contains(&k.as_str()) {
            return Err(Error::field(
                &format!("power_parameters_{k}"),
                format!("Unknown parameter '{k}' for power type '{power_type}'."),
            ));
        }
    }
    Ok(())
}

/// A machine to create (validated by the caller except what needs the
/// database).
pub struct CreateRequest {
    pub architecture: String,
    pub macs: Vec<String>,
    pub hostname: Option<String>,
    pub power_type: String,
    pub power_params: PowerParams,
    pub commission: bool,
    pub deployed: bool,
    pub cpu_count: i64,
    pub memory: i64,
    pub domain: Option<String>,
    pub zone: Option<String>,
    pub pool: Option<String>,
    pub description: String,
    pub min_hwe_kernel: String,
    pub hardware_uuid: Option<String>,
}

/// Create (or, with no user, enlist) a machine. Returns its system id.
pub async fn create(ctx: &Ctx, user: Option<&User>, r: CreateRequest) -> Result<String> {
    let params = match r.power_type.is_empty() {
        false => r.power_params.parse()?,
        true => None,
    };
    if let Some(p) = &params {
        check_power_params(&r.power_type, p)?;
    }
    let mut tx = crate::store::begin(&ctx.db).await?;
    let domain = match &r.domain {
        Some(d) => domain_id(&mut tx, d).await?,
        None => crate::services::dns::domains::default_id(&mut tx).await?,
    };
    let zone = match &r.zone {
        Some(z) => zone_id(&mut tx, z).await?,
        None => 1,
    };
    let pool = match &r.pool {
        Some(p) => pool_id(&mut tx, p).await?,
        None => 0,
    };
    let taken = db::physical_macs_in_use(&mut tx, &r.macs).await?;
    if !taken.is_empty() {
        return Err(Error::field(
            "mac_addresses",
            format!(
                "One or more MAC addresses is invalid. ({} already in use.)",
                taken.join(", ")
            ),
        ));
    }
    let hostname = match r.hostname {
        Some(h) => {
            let h = h.split('.').next().unwrap_or(&h).to_string();
            if db::hostname_taken(&mut tx, &h, domain, -1).await? {
                return Err(Error::field(
                    "hostname",
                    format!("Node with hostname \"{h}\" already exists."),
                ));
            }
            h
        }
        None => {
            let mut h = ids::new_hostname();
            while db::hostname_taken(&mut tx, &h, domain, -1).await? {
                h = format!(
                    "{}-{}",
                    ids::new_hostname(),
                    auth::random_string(4).to_lowercase()
                );
            }
            h
        }
    };
    let sealed = params.map(|p| ctx.secrets.seal(Value::Object(p).to_string().as_bytes()));
    let status = if r.deployed {
        NodeStatus::Deployed
    } else {
        NodeStatus::New
    };
    let mut system_id = SystemId::new_random();
    let mid = loop {
        let new = NewMachine {
            system_id: system_id.as_str(),
            hostname: &hostname,
            domain_id: domain,
            description: &r.description,
            status,
            owner_id: if r.deployed { user.map(|u| u.id) } else { None },
            zone_id: zone,
            pool_id: pool,
            architecture: &r.architecture,
            cpu_count: r.cpu_count as i32,
            memory: r.memory,
            power_type: &r.power_type,
            power_parameters: sealed.clone(),
            min_hwe_kernel: &r.min_hwe_kernel,
            hardware_uuid: r.hardware_uuid.as_deref(),
            enlisting: user.is_none(),
        };
        match db::insert(&mut tx, &new).await? {
            Some(id) => break id,
            None => system_id = SystemId::new_random(),
        }
    };
    for (n, mac) in r.macs.iter().enumerate() {
        let name = format!("eth{n}");
        let i = NewInterface {
            name: &name,
            mac,
            tags: &[],
            vlan_id: None,
            speed: 0,
            is_boot: n == 0,
        };
        db::insert_interface(&mut tx, mid, &i).await?;
    }
    let mut core = lifecycle::lock(&mut tx, system_id.as_str()).await?;
    let who = user.map(|u| u.username.as_str());
    let what = if user.is_none() {
        "Enlisted"
    } else {
        "Created"
    };
    let text = format!("{what} machine {hostname}.");
    lifecycle::event(&mut tx, Some(&core), who, "INFO", what, &text).await?;
    if r.commission && !r.deployed {
        transition(
            &mut tx,
            &mut core,
            NodeStatus::Commissioning,
            who,
            "Commissioning",
        )
        .await?;
        power_intent(&mut tx, &core, who, PowerAction::On).await?;
    }
    tx.commit().await?;
    if !PowerType::by_hand(core.power_type) {
        use crate::services::power::after;
        if r.commission && !r.deployed {
            let plan = after::PowerPlan::netboot(NodeStatus::Commissioning);
            after::spawn(ctx, system_id.as_str(), plan, who.map(str::to_string));
        } else {
            after::probe(ctx, system_id.as_str());
        }
    }
    Ok(system_id.to_string())
}

/// Changes to a machine (validated by the caller except what needs the
/// database or the machine's current power type).
#[derive(Default)]
pub struct UpdateRequest {
    pub domain: Option<String>,
    /// A valid short hostname.
    pub hostname: Option<String>,
    pub description: Option<String>,
    pub zone: Option<String>,
    pub pool: Option<String>,
    /// Normalised (`arch/sub`).
    pub architecture: Option<String>,
    pub min_hwe_kernel: Option<String>,
    pub cpu_count: Option<i32>,
    pub memory: Option<i64>,
    pub swap_size: Option<i64>,
    pub hardware_uuid: Option<Option<String>>,
    /// A new power type, as given (trimmed).
    pub power_type: Option<String>,
    pub power_params: PowerParams,
}

pub async fn update(ctx: &Ctx, user: &User, system_id: &str, r: UpdateRequest) -> Result<()> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let core = lifecycle::lock(&mut tx, system_id).await?;
    if core.locked {
        return Err(Error::Conflict(format!(
            "Cannot update machine {}: it is locked.",
            core.hostname
        )));
    }
    let (mut domain, old_params) = db::domain_and_power(&mut tx, core.id).await?;
    if let Some(d) = &r.domain {
        domain = domain_id(&mut tx, d).await?;
    }
    let mut u = MachineUpdate {
        domain_id: domain,
        description: r.description,
        architecture: r.architecture,
        min_hwe_kernel: r.min_hwe_kernel,
        cpu_count: r.cpu_count,
        memory: r.memory,
        swap_size: r.swap_size,
        hardware_uuid: r.hardware_uuid,
        ..Default::default()
    };
    if let Some(h) = r.hostname {
        if db::hostname_taken(&mut tx, &h, domain, core.id).await? {
            return Err(Error::field(
                "hostname",
                format!("Node with hostname \"{h}\" already exists."),
            ));
        }
        u.hostname = Some(h);
    }
    if let Some(z) = &r.zone {
        u.zone_id = Some(zone_id(&mut tx, z).await?);
    }
    if let Some(p) = &r.pool {
        u.pool_id = Some(pool_id(&mut tx, p).await?);
    }
    let current = core.power_type.map(|t| t.as_str()).unwrap_or("");
    let ptype = r.power_type.clone().unwrap_or(current.to_string());
    if !ptype.is_empty() && PowerType::parse(&ptype).is_none() {
        return Err(Error::field(
            "power_type",
            format!("'{ptype}' is not a valid power type."),
        ));
    }
    let given = if ptype.is_empty() {
        None
    } else {
        r.power_params.parse()?
    };
    if let Some(g) = &given {
        check_power_params(&ptype, g)?;
    }
    if r.power_type.is_some() || given.is_some() {
        // Same driver: merge into the stored parameters; new driver: replace.
        let mut merged = Map::new();
        if r.power_type.as_deref().is_none_or(|t| t == current)
            && let Some(old) = old_params
            && let Ok(Value::Object(o)) = open_params(ctx, &old)
        {
            merged = o;
        }
        merged.extend(given.unwrap_or_default());
        let sealed = ctx
            .secrets
            .seal(Value::Object(merged).to_string().as_bytes());
        u.power = Some((ptype.clone(), sealed));
    }
    let probe = u.power.is_some() && !PowerType::by_hand(PowerType::parse(&ptype));
    db::update(&mut tx, core.id, u).await?;
    let who = Some(user.username.as_str());
    lifecycle::event(
        &mut tx,
        Some(&core),
        who,
        "INFO",
        "Updated",
        "Machine updated.",
    )
    .await?;
    tx.commit().await?;
    if probe {
        crate::services::power::after::probe(ctx, system_id);
    }
    Ok(())
}

/// Decrypt sealed power parameters.
pub fn open_params(ctx: &Ctx, sealed: &[u8]) -> Result<Value> {
    let plain = ctx.secrets.open(sealed).map_err(Error::Internal)?;
    serde_json::from_slice(&plain).map_err(|e| Error::Internal(e.into()))
}

fn params_value(ctx: &Ctx, sealed: Option<Vec<u8>>) -> Result<Value> {
    match sealed {
        Some(s) => open_params(ctx, &s),
        None => Ok(Value::Object(Map::new())),
    }
}

/// Power parameters of the machines with these system ids (all when empty).
pub async fn power_parameters(ctx: &Ctx, system_ids: &[String]) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for (sid, sealed) in db::power_parameters(&ctx.db, system_ids).await? {
        out.insert(sid, params_value(ctx, sealed)?);
    }
    Ok(out)
}

/// One machine's power parameters.
pub async fn power_parameters_of(ctx: &Ctx, system_id: &str) -> Result<Value> {
    let sealed = db::power_parameters_of(&ctx.db, system_id)
        .await?
        .ok_or_else(|| lifecycle::not_found(system_id))?;
    params_value(ctx, sealed)
}

pub async fn delete(ctx: &Ctx, user: &User, system_id: &str) -> Result<()> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let core = lifecycle::lock(&mut tx, system_id).await?;
    if core.locked {
        return Err(Error::Conflict(format!(
            "Cannot delete machine {}: it is locked.",
            core.hostname
        )));
    }
    let text = format!("Deleted machine {}.", core.hostname);
    let who = Some(user.username.as_str());
    lifecycle::event(&mut tx, Some(&core), who, "INFO", "Deleted", &text).await?;
    db::delete(&mut tx, core.id).await?;
    tx.commit().await?;
    // Its node tokens and cached renderings went with it.
    ctx.tokens.clear();
    ctx.render.remove(core.id);
    Ok(())
}

/// Set (non-empty value) or remove (empty value) owner-data keys.
pub async fn set_owner_data(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    changes: &[(String, String)],
) -> Result<()> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let m = lifecycle::lock(&mut tx, system_id).await?;
    if !user.can_edit(m.owner_id) {
        return Err(Error::Forbidden("You do not own this machine.".into()));
    }
    let cur = db::owner_data(&mut tx, m.id).await?;
    let mut data = cur.as_object().cloned().unwrap_or_default();
    for (k, v) in changes {
        if v.is_empty() {
            data.remove(k);
        } else {
            data.insert(k.clone(), Value::String(v.clone()));
        }
    }
    db::set_owner_data(&mut tx, m.id, Value::Object(data)).await?;
    tx.commit().await?;
    Ok(())
}

/// The machine's own OAuth token (created on first use).
pub async fn node_token(tx: &mut Conn, machine_id: i64) -> Result<(String, String, String)> {
    if let Some(t) = tokens::first(tx, machine_id).await? {
        return Ok(t);
    }
    let uid = tokens::node_init_user(tx).await?;
    let (ck, tk, ts) = auth::new_key();
    tokens::insert(tx, uid, machine_id, (&ck, &tk, &ts)).await?;
    Ok((ck, tk, ts))
}

/// A machine's token, for an admin.
pub async fn token_of(ctx: &Ctx, system_id: &str) -> Result<(String, String, String)> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let m = lifecycle::lock(&mut tx, system_id).await?;
    let t = node_token(&mut tx, m.id).await?;
    tx.commit().await?;
    Ok(t)
}

/// Move machines to a zone (admin).
pub async fn set_zone(ctx: &Ctx, user: &User, zone: &str, system_ids: &[String]) -> Result<()> {
    let mut tx = crate::store::begin(&ctx.db).await?;
    let z = zone_id(&mut tx, zone).await?;
    let n = db::set_zone(&mut tx, z, system_ids).await?;
    let text = format!("{n} machines moved to zone {zone}.");
    let who = Some(user.username.as_str());
    lifecycle::event(&mut tx, None, who, "INFO", "Zone set", &text).await?;
    tx.commit().await?;
    Ok(())
}

/// A block device name: letters, digits, `.`, `_`, `-`, at most 64 bytes (no
/// paths).
pub fn valid_device_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && name != "."
        && name != ".."
}

/// A physical disk to add by hand (checked by `storage::disk_form`).
#[derive(Debug)]
pub struct DiskRequest {
    pub name: String,
    pub size: i64,
    pub block_size: i32,
    pub tags: Vec<String>,
    pub model: String,
    pub serial: String,
    pub id_path: Option<String>,
}

/// Add a physical disk (admins; its name unique on the machine).
pub async fn add_disk(ctx: &Ctx, user: &User, system_id: &str, r: DiskRequest) -> Result<()> {
    if !user.is_superuser {
        return Err(Error::Forbidden(
            "You do not have permission to access this machine.".into(),
        ));
    }
    let d = NewDisk {
        name: &r.name,
        size: r.size,
        block_size: r.block_size,
        tags: &r.tags,
        model: &r.model,
        serial: &r.serial,
        id_path: r.id_path.as_deref(),
    };
    let mut tx = crate::store::begin(&ctx.db).await?;
    let m = lifecycle::lock(&mut tx, system_id).await?;
    if crate::store::storage::disk_name_taken(&mut tx, m.id, -1, d.name).await? {
        return Err(Error::field(
            "__all__",
            "Block device with this Node config and Name already exists.",
        ));
    }
    db::insert_disk(&mut tx, m.id, &d).await?;
    let text = format!("Added block device {}.", d.name);
    let who = Some(user.username.as_str());
    lifecycle::event(&mut tx, Some(&m), who, "INFO", "Disk added", &text).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether any interface has this MAC (`op=is_registered`).
pub async fn is_registered(ctx: &Ctx, mac: &str) -> Result<bool> {
    db::mac_registered(&ctx.db, mac).await
}

/// Whether the machine with this MAC is commissioning or deploying (what
/// MAAS's `is_action_in_progress` answers).
pub async fn action_in_progress(ctx: &Ctx, mac: &str) -> Result<bool> {
    db::mac_in_statuses(
        &ctx.db,
        mac,
        &[NodeStatus::Commissioning, NodeStatus::Deploying],
    )
    .await
}

/// System ids of enlisted (NEW) machines.
pub async fn enlisted(ctx: &Ctx) -> Result<Vec<String>> {
    db::system_ids_in(&ctx.db, NodeStatus::New).await
}
