//! A machine's PCI and USB devices (`nodes/{system_id}/devices/`): listed
//! with MAAS's filters, found by id, PCI address or `bus:device`, deleted
//! by an admin (commissioning finds it again if it is still there).

use maas_model::node_device::{Bus, HardwareType};

use crate::error::{Error, Result};
use crate::render::FullMachine;
use crate::render::node_devices::NodeDeviceJson;
use crate::services::Ctx;
use crate::services::auth::User;
use crate::services::machines;
use crate::services::misc::not_found;
use crate::store::node_devices::{self as db, Row};

/// The list filters, as MAAS takes them (`None`: any).
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub bus: Option<&'a str>,
    pub hardware_type: Option<&'a str>,
    pub vendor_id: Option<&'a str>,
    pub product_id: Option<&'a str>,
    pub vendor_name: Option<&'a str>,
    pub product_name: Option<&'a str>,
    pub commissioning_driver: Option<&'a str>,
}

fn render(m: &FullMachine, rows: Vec<Row>) -> Vec<NodeDeviceJson> {
    let (ifaces, disks) = (&m.related.interfaces, &m.related.disks);
    rows.into_iter()
        .map(|r| NodeDeviceJson::new(&m.row.system_id, r, ifaces, disks))
        .collect()
}

/// All of a machine's devices (the caller has checked it may see it).
pub async fn of(ctx: &Ctx, m: &FullMachine) -> Result<Vec<NodeDeviceJson>> {
    Ok(render(m, db::list(&ctx.db, m.row.id).await?))
}

/// The devices `user` may see, filtered; a bad bus or hardware type is a
/// 400 as in MAAS.
pub async fn list(
    ctx: &Ctx,
    user: &User,
    system_id: &str,
    f: &Filter<'_>,
) -> Result<Vec<NodeDeviceJson>> {
    let bus = f
        .bus
        .map(|b| Bus::parse(b).map_err(|e| Error::BadRequest(e.into())))
        .transpose()?;
    let hardware_type = f
        .hardware_type
        .map(|t| HardwareType::parse(t).map_err(Error::BadRequest))
        .transpose()?;
    let m = machines::get_visible(ctx, user, system_id).await?;
    let same = |want: Option<&str>, have: &str| want.is_none_or(|w| w.eq_ignore_ascii_case(have));
    let rows: Vec<Row> = db::list(&ctx.db, m.row.id)
        .await?
        .into_iter()
        .filter(|r| {
            let d = &r.device;
            bus.is_none_or(|b| b as i16 == d.bus)
                && hardware_type.is_none_or(|t| t as i16 == d.hardware_type)
                && same(f.vendor_id, &d.vendor_id)
                && same(f.product_id, &d.product_id)
                && same(f.vendor_name, &d.vendor_name)
                && same(f.product_name, &d.product_name)
                && same(f.commissioning_driver, &d.commissioning_driver)
        })
        .collect();
    Ok(render(&m, rows))
}

/// Which device an `{id}` in a URL means: its id, `bus:device` numbers,
/// or otherwise a PCI address.
fn find(rows: Vec<Row>, id: &str) -> Result<Row> {
    let invalid = || Error::BadRequest("Invalid id format!".into());
    let mut hits: Vec<Row> = if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        let id: i64 = id.parse().map_err(|_| not_found("NodeDevice"))?;
        rows.into_iter().filter(|r| r.id == id).collect()
    } else if let Some((bus, dev)) = id.split_once(':').filter(|(_, d)| !d.contains(':')) {
        let (bus, dev): (i32, i32) = match (bus.parse(), dev.parse()) {
            (Ok(b), Ok(d)) => (b, d),
            _ => return Err(invalid()),
        };
        rows.into_iter()
            .filter(|r| r.device.bus_number == bus && r.device.device_number == dev)
            .collect()
    } else {
        rows.into_iter()
            .filter(|r| r.device.pci_address.as_deref() == Some(id))
            .collect()
    };
    match hits.len() {
        0 => Err(not_found("NodeDevice")),
        1 => Ok(hits.remove(0)),
        _ => Err(invalid()),
    }
}

/// The machine `user` may see and its device that `id` names.
async fn located(ctx: &Ctx, user: &User, system_id: &str, id: &str) -> Result<(FullMachine, Row)> {
    let m = machines::get_visible(ctx, user, system_id).await?;
    let row = find(db::list(&ctx.db, m.row.id).await?, id)?;
    Ok((m, row))
}

pub async fn get(ctx: &Ctx, user: &User, system_id: &str, id: &str) -> Result<NodeDeviceJson> {
    let (m, row) = located(ctx, user, system_id, id).await?;
    Ok(render(&m, vec![row]).remove(0))
}

/// Delete a device (admin only; the caller checks).
pub async fn delete(ctx: &Ctx, user: &User, system_id: &str, id: &str) -> Result<()> {
    let (m, row) = located(ctx, user, system_id, id).await?;
    if !db::delete(&ctx.db, m.row.id, row.id).await? {
        return Err(not_found("NodeDevice"));
    }
    tracing::info!(system_id, device = row.id, "node device deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::node_devices::Device;

    fn row(id: i64, bus: i16, pci: Option<&str>, bn: i32, dn: i32) -> Row {
        Row {
            id,
            device: Device {
                bus,
                hardware_type: 0,
                numa_node: 0,
                vendor_id: "1af4".into(),
                product_id: "1000".into(),
                vendor_name: String::new(),
                product_name: String::new(),
                commissioning_driver: String::new(),
                bus_number: bn,
                device_number: dn,
                pci_address: pci.map(str::to_string),
            },
            interface_id: None,
            block_device_id: None,
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            row(7, 1, Some("0000:00:03.0"), 0, 3),
            row(8, 2, None, 1, 2),
            row(9, 1, Some("0000:01:02.0"), 1, 2),
        ]
    }

    #[test]
    fn devices_are_found_by_id_address_or_numbers() {
        assert_eq!(find(rows(), "7").unwrap().id, 7);
        assert_eq!(find(rows(), "0000:00:03.0").unwrap().id, 7);
        assert_eq!(find(rows(), "0:3").unwrap().id, 7);
        let e = find(rows(), "1:2").unwrap_err();
        assert!(
            matches!(e, Error::BadRequest(_)),
            "two devices at 1:2: {e:?}"
        );
        assert!(matches!(find(rows(), "a:b"), Err(Error::BadRequest(_))));
        assert!(matches!(find(rows(), "70"), Err(Error::NotFound(_))));
        assert!(matches!(find(rows(), "nope"), Err(Error::NotFound(_))));
        assert!(matches!(
            find(rows(), "99999999999999999999"),
            Err(Error::NotFound(_))
        ));
    }
}
