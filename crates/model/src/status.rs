//! Machine lifecycle: MAAS's `NodeStatus` values, labels, the allowed-transition
//! table and the in-progress → failed map.

use serde::{Deserialize, Serialize};

macro_rules! statuses {
    ($($variant:ident = $num:literal, $short:literal, $label:literal, $simple:literal;)*) => {
        /// A machine's status, with MAAS's integer values.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[repr(i16)]
        pub enum NodeStatus { $($variant = $num),* }

        impl NodeStatus {
            /// Every status, in integer order.
            pub const ALL: &'static [NodeStatus] = &[$(NodeStatus::$variant),*];

            /// MAAS's integer value.
            pub fn as_i16(self) -> i16 { self as i16 }

            pub fn from_i16(n: i16) -> Option<Self> {
                match n { $($num => Some(NodeStatus::$variant),)* _ => None }
            }

            /// The lowercase short name used by list filters (`status=ready`).
            pub fn short_name(self) -> &'static str {
                match self { $(NodeStatus::$variant => $short),* }
            }

            /// The UI label MAAS returns as `status_name`.
            pub fn label(self) -> &'static str {
                match self { $(NodeStatus::$variant => $label),* }
            }

            /// MAAS's simplified status (`simple_status` filter).
            pub fn simplified(self) -> &'static str {
                match self { $(NodeStatus::$variant => $simple),* }
            }

            /// Parse a short name (`ready`), an upper-case enum name (`READY`),
            /// a label (`Ready`) or an integer (`4`).
            pub fn parse(s: &str) -> Option<Self> {
                let t = s.trim();
                if let Ok(n) = t.parse::<i16>() {
                    return Self::from_i16(n);
                }
                let lower = t.to_ascii_lowercase().replace([' ', '-'], "_");
                Self::ALL.iter().copied().find(|st| {
                    st.short_name() == lower || st.label().eq_ignore_ascii_case(t)
                })
            }
        }
    };
}

statuses! {
    New = 0, "new", "New", "New";
    Commissioning = 1, "commissioning", "Commissioning", "Commissioning";
    FailedCommissioning = 2, "failed_commissioning", "Failed commissioning", "Failed";
    Missing = 3, "missing", "Missing", "Other";
    Ready = 4, "ready", "Ready", "Ready";
    Reserved = 5, "reserved", "Reserved", "Other";
    Deployed = 6, "deployed", "Deployed", "Deployed";
    Retired = 7, "retired", "Retired", "Other";
    Broken = 8, "broken", "Broken", "Broken";
    Deploying = 9, "deploying", "Deploying", "Deploying";
    Allocated = 10, "allocated", "Allocated", "Allocated";
    FailedDeployment = 11, "failed_deployment", "Failed deployment", "Failed";
    Releasing = 12, "releasing", "Releasing", "Releasing";
    FailedReleasing = 13, "failed_releasing", "Releasing failed", "Failed";
    DiskErasing = 14, "disk_erasing", "Disk erasing", "Releasing";
    FailedDiskErasing = 15, "failed_disk_erasing", "Failed disk erasing", "Failed";
    RescueMode = 16, "rescue_mode", "Rescue mode", "Rescue Mode";
    EnteringRescueMode = 17, "entering_rescue_mode", "Entering rescue mode", "Rescue Mode";
    FailedEnteringRescueMode = 18, "failed_entering_rescue_mode", "Failed to enter rescue mode", "Failed";
    ExitingRescueMode = 19, "exiting_rescue_mode", "Exiting rescue mode", "Rescue Mode";
    FailedExitingRescueMode = 20, "failed_exiting_rescue_mode", "Failed to exit rescue mode", "Failed";
    Testing = 21, "testing", "Testing", "Testing";
    FailedTesting = 22, "failed_testing", "Failed testing", "Failed";
}

use NodeStatus::*;

/// Statuses a machine may be created in.
pub const CREATE_STATUSES: &[NodeStatus] = &[New, Missing, Retired];

/// Statuses that go back to READY on release/reset (MAAS's "reset-to-ready" set).
const RESET_SET: &[NodeStatus] = &[
    New,
    Commissioning,
    FailedDeployment,
    Missing,
    Retired,
    Broken,
    FailedReleasing,
    FailedDiskErasing,
    FailedEnteringRescueMode,
    FailedExitingRescueMode,
    FailedTesting,
];

impl NodeStatus {
    /// The statuses this status may move to (MAAS's `NODE_TRANSITIONS`).
    pub fn allowed_next(self) -> &'static [NodeStatus] {
        match self {
            New => &[
                Commissioning,
                Testing,
                Missing,
                Ready,
                Retired,
                Broken,
                EnteringRescueMode,
            ],
            Commissioning => &[
                FailedCommissioning,
                Ready,
                Retired,
                Missing,
                New,
                Broken,
                Testing,
            ],
            FailedCommissioning => &[
                Commissioning,
                Missing,
                Retired,
                Broken,
                EnteringRescueMode,
                Testing,
            ],
            Ready => &[
                EnteringRescueMode,
                Commissioning,
                Allocated,
                Reserved,
                Retired,
                Missing,
                Broken,
                Testing,
            ],
            Reserved => &[
                Ready,
                Allocated,
                Retired,
                Missing,
                Broken,
                DiskErasing,
                Releasing,
                EnteringRescueMode,
                Testing,
            ],
            Allocated => &[
                Ready,
                Retired,
                Missing,
                Broken,
                Deploying,
                DiskErasing,
                Releasing,
                EnteringRescueMode,
                Testing,
            ],
            Releasing => &[
                New,
                Allocated,
                Reserved,
                Deployed,
                Ready,
                Broken,
                Missing,
                FailedDeployment,
                FailedDiskErasing,
                FailedReleasing,
            ],
            Deploying => &[
                Allocated,
                Missing,
                Broken,
                FailedDeployment,
                Deployed,
                Ready,
                DiskErasing,
                Releasing,
            ],
            FailedDeployment => &[
                Allocated,
                Missing,
                Broken,
                Ready,
                DiskErasing,
                Releasing,
                EnteringRescueMode,
                Testing,
            ],
            Deployed => &[
                Allocated,
                Missing,
                Broken,
                Ready,
                DiskErasing,
                Releasing,
                EnteringRescueMode,
                Testing,
            ],
            Missing => &[
                New,
                Ready,
                Allocated,
                Commissioning,
                Broken,
                EnteringRescueMode,
                Testing,
            ],
            Retired => &[New, Ready, Missing, Broken, EnteringRescueMode, Testing],
            Broken => &[
                Commissioning,
                Ready,
                DiskErasing,
                Releasing,
                EnteringRescueMode,
                Testing,
                Deployed,
            ],
            FailedReleasing => &[Releasing, DiskErasing, Ready, Broken, Testing],
            DiskErasing => &[Broken, DiskErasing, FailedDiskErasing, Ready, Releasing],
            FailedDiskErasing => &[
                DiskErasing,
                Releasing,
                Broken,
                Allocated,
                Ready,
                EnteringRescueMode,
                Testing,
            ],
            EnteringRescueMode => &[
                Ready,
                Broken,
                Deployed,
                RescueMode,
                FailedEnteringRescueMode,
                ExitingRescueMode,
            ],
            FailedEnteringRescueMode => &[Broken, EnteringRescueMode, ExitingRescueMode, Testing],
            // Not listed in MAAS's table; mirrors FAILED_ENTERING_RESCUE_MODE.
            FailedExitingRescueMode => &[Broken, EnteringRescueMode, ExitingRescueMode, Testing],
            RescueMode => &[Broken, ExitingRescueMode, Testing],
            ExitingRescueMode => &[
                New,
                Broken,
                FailedCommissioning,
                Ready,
                Reserved,
                Allocated,
                FailedDeployment,
                Deployed,
                Missing,
                Retired,
                FailedReleasing,
                FailedDiskErasing,
                RescueMode,
                FailedEnteringRescueMode,
                FailedExitingRescueMode,
                FailedTesting,
            ],
            Testing => &[
                Broken,
                New,
                Ready,
                Reserved,
                Allocated,
                Deployed,
                Commissioning,
                FailedDeployment,
                Missing,
                Retired,
                FailedReleasing,
                FailedDiskErasing,
                FailedEnteringRescueMode,
                FailedExitingRescueMode,
                FailedTesting,
            ],
            FailedTesting => &[
                Commissioning,
                Broken,
                Missing,
                EnteringRescueMode,
                Testing,
                Ready,
                Deployed,
            ],
        }
    }

    /// Whether `self → next` is in the transition table.
    pub fn can_transition_to(self, next: NodeStatus) -> bool {
        self.allowed_next().contains(&next)
    }

    /// The failed status an in-progress status moves to on failure or timeout.
    pub fn failure_status(self) -> Option<NodeStatus> {
        Some(match self {
            Commissioning => FailedCommissioning,
            Deploying => FailedDeployment,
            Releasing => FailedReleasing,
            DiskErasing => FailedDiskErasing,
            EnteringRescueMode => FailedEnteringRescueMode,
            ExitingRescueMode => FailedExitingRescueMode,
            Testing => FailedTesting,
            _ => return None,
        })
    }

    /// In-progress statuses carry a deadline. RELEASING and EXITING_RESCUE_MODE
    /// use a fixed 5 minutes; the others use the `node_timeout` setting.
    pub fn deadline_minutes(self, node_timeout_minutes: i64) -> Option<i64> {
        match self {
            Releasing | ExitingRescueMode => Some(5),
            Commissioning | Deploying | DiskErasing | EnteringRescueMode | Testing => {
                Some(node_timeout_minutes)
            }
            _ => None,
        }
    }

    pub fn is_failed(self) -> bool {
        self.simplified() == "Failed"
    }

    /// Statuses in which the machine runs the ephemeral environment.
    pub fn is_commissioning_like(self) -> bool {
        matches!(
            self,
            New | Commissioning
                | DiskErasing
                | EnteringRescueMode
                | Releasing
                | RescueMode
                | Testing
        )
    }

    /// Statuses a TESTING run may return to when it passes (else READY).
    pub fn is_reset_to_ready(self) -> bool {
        RESET_SET.contains(&self)
    }
}

/// A refused transition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid transition from {from} to {to}", from = .from.label(), to = .to.label())]
pub struct InvalidTransition {
    pub from: NodeStatus,
    pub to: NodeStatus,
}

/// Check one status write against the table.
pub fn check_transition(from: NodeStatus, to: NodeStatus) -> Result<(), InvalidTransition> {
    if from.can_transition_to(to) {
        Ok(())
    } else {
        Err(InvalidTransition { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_labels_match_maas() {
        assert_eq!(NodeStatus::ALL.len(), 23);
        for (i, s) in NodeStatus::ALL.iter().enumerate() {
            assert_eq!(s.as_i16() as usize, i);
            assert_eq!(NodeStatus::from_i16(i as i16), Some(*s));
            assert_eq!(NodeStatus::parse(s.short_name()), Some(*s));
            assert_eq!(NodeStatus::parse(s.label()), Some(*s));
        }
        assert_eq!(Ready.as_i16(), 4);
        assert_eq!(FailedTesting.label(), "Failed testing");
        assert_eq!(FailedReleasing.label(), "Releasing failed");
        assert_eq!(NodeStatus::parse("READY"), Some(Ready));
        assert_eq!(NodeStatus::parse("bogus"), None);
        assert_eq!(NodeStatus::from_i16(23), None);
    }

    #[test]
    fn failure_map_targets_are_allowed() {
        for s in NodeStatus::ALL {
            if let Some(f) = s.failure_status() {
                assert!(s.can_transition_to(f), "{s:?} -> {f:?}");
                assert!(f.is_failed());
                assert!(s.deadline_minutes(30).is_some());
            }
        }
    }

    #[test]
    fn table_spot_checks() {
        assert!(Ready.can_transition_to(Allocated));
        assert!(!New.can_transition_to(Deployed));
        assert!(!Ready.can_transition_to(Deployed));
        assert!(Broken.can_transition_to(Deployed));
        assert!(!FailedReleasing.can_transition_to(EnteringRescueMode));
        assert_eq!(
            check_transition(New, Allocated),
            Err(InvalidTransition {
                from: New,
                to: Allocated
            })
        );
    }
}
