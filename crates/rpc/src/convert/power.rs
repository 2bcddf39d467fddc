//! `pb::PowerCommand` ↔ `maas_model::power::PowerCommand`, `pb::PowerReply`
//! ↔ `maas_model::power::PowerReply`.

use maas_model::power::{PowerAction, PowerCommand, PowerReply};

use super::Invalid;
use crate::pb;

impl From<&PowerCommand> for pb::PowerCommand {
    fn from(c: &PowerCommand) -> pb::PowerCommand {
        pb::PowerCommand {
            id: c.id,
            system_id: c.system_id.clone(),
            action: c.action.as_str().into(),
            boot_pxe_once: c.boot_pxe_once,
            power_type: c.power_type.clone(),
            params: c.params.clone().into_iter().collect(),
            timeout_ms: c.timeout_ms,
        }
    }
}

/// Refused: an unknown action, id 0, a zero timeout.
impl TryFrom<pb::PowerCommand> for PowerCommand {
    type Error = Invalid;
    fn try_from(c: pb::PowerCommand) -> Result<PowerCommand, Invalid> {
        let action = PowerAction::parse(&c.action).ok_or_else(|| {
            Invalid::new(
                "action",
                format!("'{}' is not a power action this rack knows", c.action),
            )
        })?;
        if c.id == 0 {
            return Err(Invalid::new("id", "power command id must be ≥ 1"));
        }
        if c.timeout_ms == 0 {
            return Err(Invalid::new(
                "timeout_ms",
                "power command timeout must be > 0",
            ));
        }
        Ok(PowerCommand {
            id: c.id,
            system_id: c.system_id,
            action,
            boot_pxe_once: c.boot_pxe_once,
            power_type: c.power_type,
            params: c.params.into_iter().collect(),
            timeout_ms: c.timeout_ms,
        })
    }
}

impl From<&PowerReply> for pb::PowerReply {
    fn from(r: &PowerReply) -> pb::PowerReply {
        pb::PowerReply {
            id: r.id,
            ok: r.ok,
            state: r.state.clone(),
            error: r.error.clone(),
            error_kind: r.error_kind.clone(),
        }
    }
}

impl From<pb::PowerReply> for PowerReply {
    fn from(r: pb::PowerReply) -> PowerReply {
        PowerReply {
            id: r.id,
            ok: r.ok,
            state: r.state,
            error: r.error,
            error_kind: r.error_kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_replies_round_trip() {
        let c = PowerCommand {
            id: 7,
            system_id: "abcdef".into(),
            action: PowerAction::Cycle,
            boot_pxe_once: true,
            power_type: "ipmi".into(),
            params: [("power_address".to_string(), "10.0.0.9".to_string())].into(),
            timeout_ms: 5000,
        };
        assert_eq!(
            PowerCommand::try_from(pb::PowerCommand::from(&c)).unwrap(),
            c
        );
        let r = PowerReply {
            id: 7,
            ok: false,
            state: "unknown".into(),
            error: "no answer".into(),
            error_kind: "unreachable".into(),
        };
        assert_eq!(PowerReply::from(pb::PowerReply::from(&r)), r);
    }

    #[test]
    fn bad_commands_are_refused() {
        let ok = pb::PowerCommand {
            id: 1,
            action: "on".into(),
            timeout_ms: 10,
            ..Default::default()
        };
        assert!(PowerCommand::try_from(ok.clone()).is_ok());
        for bad in [
            pb::PowerCommand {
                action: "explode".into(),
                ..ok.clone()
            },
            pb::PowerCommand {
                id: 0,
                ..ok.clone()
            },
            pb::PowerCommand {
                timeout_ms: 0,
                ..ok.clone()
            },
        ] {
            assert!(PowerCommand::try_from(bad).is_err());
        }
    }
}
