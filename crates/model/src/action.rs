//! Machine actions (the REST `op`s that change a machine's status): where each
//! is allowed from, where it leads, and who may run it.

use crate::status::NodeStatus::{self, *};

/// Who may run an action on a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    /// Admins only.
    Admin,
    /// The machine's owner (or an admin). For `allocate`/`deploy` of an unowned
    /// machine, any user.
    Edit,
}

/// A lifecycle action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Commission,
    Test,
    Abort,
    Allocate,
    Deploy,
    Release,
    MarkBroken,
    MarkFixed,
    OverrideFailedTesting,
    RescueMode,
    ExitRescueMode,
    Lock,
    Unlock,
    PowerOn,
    PowerOff,
}

const FAILED_STATUSES: &[NodeStatus] = &[
    FailedCommissioning,
    FailedDeployment,
    FailedReleasing,
    FailedDiskErasing,
    FailedEnteringRescueMode,
    FailedExitingRescueMode,
    FailedTesting,
];

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::Commission,
        Action::Test,
        Action::Abort,
        Action::Allocate,
        Action::Deploy,
        Action::Release,
        Action::MarkBroken,
        Action::MarkFixed,
        Action::OverrideFailedTesting,
        Action::RescueMode,
        Action::ExitRescueMode,
        Action::Lock,
        Action::Unlock,
        Action::PowerOn,
        Action::PowerOff,
    ];

    /// The REST op name.
    pub fn op(self) -> &'static str {
        match self {
            Action::Commission => "commission",
            Action::Test => "test",
            Action::Abort => "abort",
            Action::Allocate => "allocate",
            Action::Deploy => "deploy",
            Action::Release => "release",
            Action::MarkBroken => "mark_broken",
            Action::MarkFixed => "mark_fixed",
            Action::OverrideFailedTesting => "override_failed_testing",
            Action::RescueMode => "rescue_mode",
            Action::ExitRescueMode => "exit_rescue_mode",
            Action::Lock => "lock",
            Action::Unlock => "unlock",
            Action::PowerOn => "power_on",
            Action::PowerOff => "power_off",
        }
    }

    pub fn from_op(op: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.op() == op)
    }

    pub fn perm(self) -> Perm {
        match self {
            Action::Commission
            | Action::Test
            | Action::Abort
            | Action::MarkFixed
            | Action::OverrideFailedTesting
            | Action::RescueMode
            | Action::ExitRescueMode => Perm::Admin,
            _ => Perm::Edit,
        }
    }

    /// Whether the action may run from `s`. `None` means "any status"
    /// (power off, unlock); status-free actions return true for every status.
    pub fn allowed_from(self, s: NodeStatus) -> bool {
        let list: &[NodeStatus] = match self {
            Action::Commission => &[
                New,
                FailedCommissioning,
                Ready,
                Broken,
                Missing,
                FailedTesting,
            ],
            Action::Test => &[
                FailedCommissioning,
                New,
                Ready,
                Reserved,
                Allocated,
                FailedDeployment,
                Deployed,
                Missing,
                Retired,
                Broken,
                RescueMode,
                FailedReleasing,
                FailedDiskErasing,
                FailedEnteringRescueMode,
                FailedExitingRescueMode,
                FailedTesting,
            ],
            Action::Abort => &[Commissioning, DiskErasing, Deploying, Testing],
            Action::Allocate => &[Ready],
            Action::Deploy => &[Ready, Allocated],
            Action::Release => &[
                Allocated,
                Deployed,
                Deploying,
                FailedDeployment,
                FailedReleasing,
                FailedDiskErasing,
                Reserved,
                Broken,
            ],
            Action::MarkBroken => {
                return matches!(
                    s,
                    New | Commissioning
                        | Ready
                        | Allocated
                        | Releasing
                        | Deploying
                        | Deployed
                        | DiskErasing
                        | Testing
                ) || FAILED_STATUSES.contains(&s);
            }
            Action::MarkFixed => &[Broken],
            Action::OverrideFailedTesting => &[FailedTesting],
            Action::RescueMode => &[
                New,
                FailedCommissioning,
                Ready,
                Reserved,
                Allocated,
                FailedDeployment,
                Deployed,
                Missing,
                Retired,
                Broken,
                FailedDiskErasing,
                FailedEnteringRescueMode,
                FailedExitingRescueMode,
                FailedTesting,
            ],
            Action::ExitRescueMode => &[
                RescueMode,
                EnteringRescueMode,
                FailedEnteringRescueMode,
                FailedExitingRescueMode,
            ],
            Action::Lock => &[Deployed, Deploying],
            Action::PowerOn => &[
                Allocated,
                Deploying,
                Deployed,
                Broken,
                FailedDeployment,
                RescueMode,
            ],
            Action::Unlock | Action::PowerOff => return true,
        };
        list.contains(&s)
    }

    /// The status the action moves to from `s` first (before any asynchronous
    /// completion). `None` for actions that do not change the status.
    pub fn first_target(self, s: NodeStatus) -> Option<NodeStatus> {
        Some(match self {
            Action::Commission => Commissioning,
            Action::Test => Testing,
            Action::Abort => match s {
                Commissioning => New,
                Deploying => Allocated,
                DiskErasing => FailedDiskErasing,
                // Testing returns to the status it started from; the caller
                // supplies it. READY is the fallback.
                Testing => Ready,
                _ => return None,
            },
            Action::Allocate => Allocated,
            Action::Deploy => Deploying,
            Action::Release => Releasing,
            Action::MarkBroken => Broken,
            Action::MarkFixed => Ready,
            Action::OverrideFailedTesting => Ready,
            Action::RescueMode => EnteringRescueMode,
            Action::ExitRescueMode => ExitingRescueMode,
            Action::Lock | Action::Unlock | Action::PowerOn | Action::PowerOff => return None,
        })
    }

    /// The error text MAAS-style clients see when the status forbids the action.
    pub fn refusal(self, s: NodeStatus) -> String {
        format!(
            "{} action is not available for this node (status: {}).",
            self.op(),
            s.label()
        )
    }
}

/// The OS and series a deployment installs: `distro_series` may be `series`
/// or `os/series`; missing parts come from the defaults. Both must be short
/// names of letters, digits, `.`, `_` and `-`.
pub fn os_series(
    osystem: Option<&str>,
    distro_series: Option<&str>,
    default_os: &str,
    default_series: &str,
) -> Result<(String, String), String> {
    let good = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    let os = osystem.unwrap_or(default_os).to_string();
    let (os, series) = match distro_series {
        Some(ds) => match ds.split_once('/') {
            Some((o, s)) => (o.to_string(), s.to_string()),
            None => (os, ds.to_string()),
        },
        None => (os, default_series.to_string()),
    };
    if !good(&os) || !good(&series) {
        return Err(format!("'{os}/{series}' is not a valid OS/series."));
    }
    Ok((os, series))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action's first target must be a legal transition from each status
    /// the action is allowed in (except where the action restores a previous
    /// status, which the caller checks separately).
    #[test]
    fn actions_agree_with_transition_table() {
        for a in Action::ALL {
            for s in NodeStatus::ALL {
                if !a.allowed_from(*s) {
                    continue;
                }
                if let Some(t) = a.first_target(*s) {
                    // Deploy from READY allocates first.
                    let from = if *a == Action::Deploy && *s == Ready {
                        Allocated
                    } else {
                        *s
                    };
                    assert!(
                        from.can_transition_to(t),
                        "{a:?} from {s:?} to {t:?} not in the table"
                    );
                }
            }
        }
    }

    #[test]
    fn ops_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::from_op(a.op()), Some(*a));
        }
        assert_eq!(Action::from_op("nope"), None);
    }

    #[test]
    fn spot_checks() {
        assert!(Action::Deploy.allowed_from(Ready));
        assert!(!Action::Deploy.allowed_from(New));
        assert!(!Action::Allocate.allowed_from(Allocated));
        assert!(Action::MarkBroken.allowed_from(FailedDeployment));
        assert!(!Action::MarkBroken.allowed_from(Broken));
        assert_eq!(Action::Abort.first_target(Commissioning), Some(New));
        assert_eq!(Action::Commission.perm(), Perm::Admin);
        assert_eq!(Action::Release.perm(), Perm::Edit);
    }

    #[test]
    fn os_and_series() {
        let d = |o: Option<&str>, s: Option<&str>| os_series(o, s, "ubuntu", "noble");
        assert_eq!(d(None, None).unwrap(), ("ubuntu".into(), "noble".into()));
        assert_eq!(d(None, Some("jammy")).unwrap().1, "jammy");
        assert_eq!(
            d(Some("ubuntu"), Some("centos/8")).unwrap(),
            ("centos".into(), "8".into())
        );
        assert!(d(None, Some("no spaces")).is_err());
        assert!(d(Some(""), None).is_err());
    }
}
