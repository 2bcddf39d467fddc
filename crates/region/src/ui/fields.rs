//! Form fields as templates draw them (label, input, the service's error
//! beside it), and the power fields of every power type the region knows
//! (`maas_model::power::POWER_TYPES`), shown for the chosen type.

use maas_model::constraints::FieldErrors;
use maas_model::power::POWER_TYPES;

use crate::ui::form::FormData;

#[derive(Debug, Clone, Default)]
pub struct Field {
    pub name: String,
    pub id: String,
    pub label: String,
    /// text, password, select, multiselect, textarea, checkbox
    pub kind: &'static str,
    pub value: String,
    /// (value, label) for selects.
    pub options: Vec<(String, String)>,
    pub error: String,
    pub required: bool,
}

impl Field {
    pub fn text(name: &str, label: &str, value: &str) -> Field {
        Field {
            name: name.into(),
            id: name.into(),
            label: label.into(),
            kind: "text",
            value: value.into(),
            ..Default::default()
        }
    }

    pub fn select(name: &str, label: &str, value: &str, options: &[String]) -> Field {
        Field {
            kind: "select",
            options: options.iter().map(|o| (o.clone(), o.clone())).collect(),
            ..Field::text(name, label, value)
        }
    }

    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    pub fn kind(mut self, kind: &'static str) -> Field {
        self.kind = kind;
        self
    }

    /// (value, label) choices, for selects whose labels differ from values.
    pub fn choices(mut self, options: Vec<(String, String)>) -> Field {
        self.options = options;
        self
    }

    /// The element id, when two forms on a page share a field name.
    pub fn id(mut self, id: &str) -> Field {
        self.id = id.into();
        self
    }

    /// Whether a multiselect has `v` chosen (values comma-separated).
    pub fn picked(&self, v: &str) -> bool {
        self.value.split(',').any(|x| x == v)
    }
}

/// Put each field's errors beside it; errors no field shows are returned.
pub fn attach(fields: &mut [&mut Vec<Field>], errors: &FieldErrors) -> Vec<String> {
    let mut rest = Vec::new();
    for (k, msgs) in errors {
        let mut placed = false;
        for group in fields.iter_mut() {
            for f in group.iter_mut() {
                if f.name == *k || f.error_key() == *k {
                    f.error = msgs.join(" ");
                    placed = true;
                }
            }
        }
        if !placed {
            rest.push(format!("{k}: {}", msgs.join(" ")));
        }
    }
    rest
}

impl Field {
    /// The service's name for this field (`power_parameters_<name>` for
    /// the power fields, whose inputs are named per type).
    fn error_key(&self) -> String {
        match self.name.strip_prefix("pp_") {
            Some(rest) => {
                let param = rest.split_once('_').map_or(rest, |(_, p)| p);
                format!("power_parameters_{param}")
            }
            None => self.name.clone(),
        }
    }
}

/// A power type's fieldset.
#[derive(Debug, Clone)]
pub struct PowerSet {
    pub name: &'static str,
    pub label: &'static str,
    pub selected: bool,
    pub fields: Vec<Field>,
}

fn is_secret(param: &str) -> bool {
    matches!(param, "power_pass" | "k_g" | "power_token")
}

fn label_of(param: &str) -> String {
    let words = param
        .strip_prefix("power_")
        .unwrap_or(param)
        .replace('_', " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Every power type's fields, `chosen` selected, values from `current`
/// (secrets are never echoed: left empty, they stay as they are).
pub fn power_sets(
    chosen: &str,
    current: &serde_json::Map<String, serde_json::Value>,
) -> Vec<PowerSet> {
    POWER_TYPES
        .iter()
        .map(|(name, label, params)| PowerSet {
            name,
            label,
            selected: *name == chosen,
            fields: params
                .iter()
                .map(|p| {
                    let input = format!("pp_{name}_{p}");
                    let value = if *name == chosen && !is_secret(p) {
                        current
                            .get(*p)
                            .and_then(|v| v.as_str())
                            .unwrap_or("")
                            .to_string()
                    } else {
                        String::new()
                    };
                    Field {
                        id: input.clone(),
                        name: input,
                        label: label_of(p),
                        kind: if is_secret(p) { "password" } else { "text" },
                        value,
                        ..Default::default()
                    }
                })
                .collect(),
        })
        .collect()
}

/// The chosen type's parameters from a form: (name, value), secrets only
/// when given.
pub fn power_fields(form: &FormData, chosen: &str) -> Vec<(String, String)> {
    let params = maas_model::power::power_params_for(chosen).unwrap_or(&[]);
    params
        .iter()
        .filter_map(|p| {
            let v = form.get(&format!("pp_{chosen}_{p}")).unwrap_or("").trim();
            (!v.is_empty() || !is_secret(p)).then(|| (p.to_string(), v.to_string()))
        })
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_field_errors_find_their_input() {
        let sets = power_sets("ipmi", &Default::default());
        let mut ipmi = sets.into_iter().find(|s| s.name == "ipmi").unwrap().fields;
        let mut e = FieldErrors::new();
        e.insert("power_parameters_power_address".into(), vec!["Bad.".into()]);
        e.insert("other".into(), vec!["Odd.".into()]);
        let rest = attach(&mut [&mut ipmi], &e);
        let f = ipmi
            .iter()
            .find(|f| f.name == "pp_ipmi_power_address")
            .unwrap();
        assert_eq!(f.error, "Bad.");
        assert_eq!(rest, vec!["other: Odd."]);
        assert_eq!(label_of("power_address"), "Address");
    }

    #[test]
    fn only_the_chosen_types_fields_are_taken() {
        let f = FormData::parse(
            b"pp_ipmi_power_address=10.0.0.1&pp_redfish_power_address=x&pp_ipmi_power_pass=",
        );
        assert_eq!(
            power_fields(&f, "ipmi"),
            vec![("power_address".to_string(), "10.0.0.1".to_string())]
        );
    }
}
