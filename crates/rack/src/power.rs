//! Power commands from the region: build the machine's driver from the
//! command's power type and parameters (never stored), run the action under
//! the command's timeout, and answer with the state or the BMC's error.

use std::sync::Arc;
use std::time::Duration;

use maas_bmc::{BootDevice, BootTarget, DriverOptions, OffMode, PowerDriver, PowerState};
use maas_model::power::{PowerAction, PowerCommand, PowerReply};
use maas_model::rack::{EventKind, PowerResult};

/// Power commands a rack runs at once; more wait for a slot (the region
/// bounds its own polling per rack too).
pub const MAX_CONCURRENT: usize = 64;

/// Run a command from the stream in its own task: answer on the stream and
/// record the result in the durable event queue (so it lands even if the
/// stream breaks before the reply goes out).
pub fn dispatch(
    c: maas_rpc::pb::PowerCommand,
    tx: tokio::sync::mpsc::Sender<maas_rpc::pb::RackMessage>,
    shared: Arc<crate::session::Shared>,
    slots: Arc<tokio::sync::Semaphore>,
) {
    use maas_rpc::pb;
    let id = c.id;
    tokio::spawn(async move {
        let reply = match PowerCommand::try_from(c) {
            Ok(cmd) => {
                let _slot = slots.acquire_owned().await;
                let reply = execute(&cmd).await;
                let pushed = shared
                    .queue
                    .lock()
                    .map_err(|_| anyhow::anyhow!("event queue lock poisoned"))
                    .and_then(|mut q| q.push_many(vec![event_for(&cmd, &reply)]));
                match pushed {
                    Ok(_) => shared.events_ready.notify_one(),
                    Err(e) => tracing::error!(error = %e, "cannot queue the power result"),
                }
                reply
            }
            Err(e) => PowerReply {
                id,
                ok: false,
                error: format!("invalid power command: {e}"),
                error_kind: "bad_parameters".into(),
                ..Default::default()
            },
        };
        let m = pb::RackMessage {
            msg: Some(pb::rack_message::Msg::PowerReply((&reply).into())),
        };
        if tx.send(m).await.is_err() {
            tracing::warn!(
                id,
                "stream closed before the power reply; the event carries it"
            );
        }
    });
}

/// Run one command; never fails: a failure is a reply with `ok = false`.
pub async fn execute(cmd: &PowerCommand) -> PowerReply {
    let timeout = Duration::from_millis(cmd.timeout_ms.max(1));
    let started = std::time::Instant::now();
    let outcome = tokio::time::timeout(timeout, run(cmd, timeout)).await;
    let reply = match outcome {
        Ok(Ok(state)) => PowerReply {
            id: cmd.id,
            ok: true,
            state: state.as_str().into(),
            ..Default::default()
        },
        Ok(Err(e)) => PowerReply {
            id: cmd.id,
            ok: false,
            state: String::new(),
            error: e.to_string(),
            error_kind: e.kind().into(),
        },
        Err(_) => PowerReply {
            id: cmd.id,
            ok: false,
            state: String::new(),
            error: format!("the BMC did not finish within {} ms", cmd.timeout_ms),
            error_kind: "timeout".into(),
        },
    };
    tracing::info!(
        id = cmd.id,
        system_id = %cmd.system_id,
        action = cmd.action.as_str(),
        power_type = %cmd.power_type,
        ok = reply.ok,
        state = %reply.state,
        error = %reply.error,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "power command done"
    );
    reply
}

async fn run(cmd: &PowerCommand, timeout: Duration) -> maas_bmc::Result<PowerState> {
    let opts = DriverOptions {
        call_timeout: timeout,
        ..DriverOptions::default()
    };
    let driver = maas_bmc::driver_for_with(&cmd.power_type, &cmd.params, opts)?;
    act(driver.as_ref(), cmd).await
}

/// The action on a driver: PXE boot once first when asked; the state after.
pub async fn act(d: &dyn PowerDriver, cmd: &PowerCommand) -> maas_bmc::Result<PowerState> {
    if cmd.boot_pxe_once {
        let efi = cmd
            .params
            .get("power_boot_type")
            .is_some_and(|t| t.eq_ignore_ascii_case("efi"));
        d.set_boot_device(BootDevice {
            target: BootTarget::Pxe,
            persistent: false,
            efi,
        })
        .await?;
    }
    Ok(match cmd.action {
        PowerAction::On => {
            d.power_on().await?;
            on_or_recorded(d)
        }
        PowerAction::Off => {
            d.power_off(OffMode::Hard).await?;
            off_or_recorded(d)
        }
        PowerAction::SoftOff => {
            d.power_off(OffMode::Soft).await?;
            // A soft off takes the OS's time: read what the BMC says now.
            d.query().await?
        }
        PowerAction::Cycle => {
            d.power_cycle().await?;
            on_or_recorded(d)
        }
        PowerAction::Reset => {
            d.power_reset().await?;
            on_or_recorded(d)
        }
        PowerAction::Query => d.query().await?,
    })
}

fn on_or_recorded(d: &dyn PowerDriver) -> PowerState {
    if d.power_type() == "manual" {
        PowerState::Unknown
    } else {
        PowerState::On
    }
}

fn off_or_recorded(d: &dyn PowerDriver) -> PowerState {
    if d.power_type() == "manual" {
        PowerState::Unknown
    } else {
        PowerState::Off
    }
}

/// The durable event for a reply (lands even if the stream breaks).
pub fn event_for(cmd: &PowerCommand, r: &PowerReply) -> EventKind {
    EventKind::Power(PowerResult {
        job_id: cmd.id,
        system_id: cmd.system_id.clone(),
        action: cmd.action.as_str().into(),
        ok: r.ok,
        state: r.state.clone(),
        error: r.error.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(action: PowerAction, power_type: &str) -> PowerCommand {
        PowerCommand {
            id: 9,
            system_id: "abc".into(),
            action,
            boot_pxe_once: false,
            power_type: power_type.into(),
            params: Default::default(),
            timeout_ms: 2000,
        }
    }

    #[tokio::test]
    async fn manual_commands_succeed_with_unknown_state() {
        let r = execute(&cmd(PowerAction::On, "manual")).await;
        assert!(r.ok, "{r:?}");
        assert_eq!((r.id, r.state.as_str()), (9, "unknown"));
    }

    #[tokio::test]
    async fn bad_parameters_and_unknown_types_are_clear_errors() {
        let r = execute(&cmd(PowerAction::Query, "ipmi")).await;
        assert!(!r.ok);
        assert_eq!(r.error_kind, "bad_parameters", "{r:?}");
        let r = execute(&cmd(PowerAction::Query, "teleport")).await;
        assert!(!r.ok && !r.error.is_empty(), "{r:?}");
    }

    #[tokio::test]
    async fn a_silent_bmc_ends_within_the_command_timeout() {
        // A UDP socket that never answers.
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut c = cmd(PowerAction::Query, "ipmi");
        c.timeout_ms = 300;
        c.params = [
            (
                "power_address".to_string(),
                silent.local_addr().unwrap().to_string(),
            ),
            ("power_user".to_string(), "admin".to_string()),
            ("power_pass".to_string(), "pw".to_string()),
        ]
        .into();
        let t = std::time::Instant::now();
        let r = execute(&c).await;
        assert!(!r.ok);
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert!(
            r.error_kind == "timeout" || r.error_kind == "unreachable",
            "{r:?}"
        );
    }
}
