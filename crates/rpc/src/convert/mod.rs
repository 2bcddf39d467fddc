//! Conversions between the wire types (`pb`) and the model's types
//! (`maas_model::desired`, `maas_model::rack`). Model → wire always works
//! (`From`); wire → model checks what it reads (`TryFrom`, error [`Invalid`]
//! naming the field), so input from the network is refused, never a panic.
//! Wire conventions: an empty string or 0 is "none".

mod desired;
mod power;
mod rack;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

/// A wire message that does not make a valid model value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct Invalid {
    /// Where, e.g. `subnets[2].cidr`.
    pub field: String,
    pub reason: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Invalid {
        Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error inside `outer` (`subnets[2]` + `cidr`).
    fn within(mut self, outer: &str) -> Invalid {
        self.field = format!("{outer}.{}", self.field);
        self
    }
}

/// Convert every element of a wire list, naming the failing one
/// `name[index]`.
pub fn list<P, M>(name: &str, items: Vec<P>) -> Result<Vec<M>, Invalid>
where
    M: TryFrom<P, Error = Invalid>,
{
    items
        .into_iter()
        .enumerate()
        .map(|(k, p)| M::try_from(p).map_err(|e| e.within(&format!("{name}[{k}]"))))
        .collect()
}

fn ip(field: &str, s: &str) -> Result<IpAddr, Invalid> {
    s.parse()
        .map_err(|_| Invalid::new(field, format!("'{s}' is not an IP address")))
}

/// "" = none.
fn opt_ip(field: &str, s: &str) -> Result<Option<IpAddr>, Invalid> {
    if s.is_empty() {
        Ok(None)
    } else {
        ip(field, s).map(Some)
    }
}

fn opt_string(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A VLAN id on the wire (0 = untagged / none) in 0..=4094.
fn vid(field: &str, v: i32) -> Result<u16, Invalid> {
    u16::try_from(v)
        .ok()
        .filter(|v| *v <= 4094)
        .ok_or_else(|| Invalid::new(field, format!("{v} is not a VLAN id (0 to 4094)")))
}
