//! The region's `describe/` document, turned into CLI resources and actions
//! the way MAAS's `maascli` does it.

use anyhow::{Context, Result};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct RawDescribe {
    #[serde(default)]
    resources: Vec<RawResource>,
}

#[derive(Deserialize)]
struct RawResource {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    anon: Option<RawHandler>,
    #[serde(default)]
    auth: Option<RawHandler>,
}

#[derive(Deserialize)]
struct RawHandler {
    name: String,
    #[serde(default)]
    doc: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    params: Vec<String>,
    #[serde(default)]
    actions: Vec<RawAction>,
}

#[derive(Deserialize)]
struct RawAction {
    name: String,
    method: String,
    #[serde(default)]
    op: Option<String>,
    #[serde(default)]
    restful: bool,
    #[serde(default)]
    doc: Option<String>,
}

/// The API as the CLI sees it: resources sorted by CLI name.
#[derive(Debug, Clone)]
pub struct Api {
    pub resources: Vec<Resource>,
}

#[derive(Debug, Clone)]
pub struct Resource {
    /// CLI name, e.g. `machines`, `rack-controllers`.
    pub name: String,
    pub doc: String,
    /// Positional parameters of the primary handler (for usage lines).
    pub params: Vec<String>,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone)]
pub struct Action {
    /// CLI name, e.g. `query-power-state`.
    pub name: String,
    pub method: String,
    /// `Some(op)` for non-restful actions: sent as `?op=<op>`.
    pub op: Option<String>,
    pub doc: String,
    /// Path template of the handler the action belongs to,
    /// e.g. `/MAAS/api/2.0/machines/{system_id}/`.
    pub path: String,
    pub params: Vec<String>,
}

impl Api {
    pub fn from_value(doc: &Value) -> Result<Api> {
        let raw: RawDescribe = serde_json::from_value(doc.clone())
            .context("the stored API description is malformed; run `maas refresh`")?;
        let mut resources: Vec<Resource> = Vec::new();
        for r in raw.resources {
            // Represent the resource by its authenticated handler, falling back to
            // the anonymous one; merge in anonymous-only actions like maascli does.
            let handlers: Vec<&RawHandler> = [r.auth.as_ref(), r.anon.as_ref()]
                .into_iter()
                .flatten()
                .collect();
            let Some(primary) = handlers.first() else {
                continue;
            };
            let raw_name = r.name.as_deref().unwrap_or(&primary.name);
            let name = handler_command_name(raw_name);
            if resources.iter().any(|x| x.name == name) {
                continue; // first one wins, like a parser registering a name once
            }
            let mut actions: Vec<Action> = Vec::new();
            for h in &handlers {
                let path = handler_path(h);
                for a in &h.actions {
                    let cli = action_command_name(&a.name);
                    if actions.iter().any(|x| x.name == cli) {
                        continue;
                    }
                    let op = if a.restful {
                        None
                    } else {
                        Some(a.op.clone().unwrap_or_else(|| a.name.clone()))
                    };
                    actions.push(Action {
                        name: cli,
                        method: a.method.to_ascii_uppercase(),
                        op,
                        doc: dedent(a.doc.as_deref().unwrap_or("")),
                        path: path.clone(),
                        params: h.params.clone(),
                    });
                }
            }
            actions.sort_by(|a, b| a.name.cmp(&b.name));
            resources.push(Resource {
                name,
                doc: dedent(primary.doc.as_deref().unwrap_or("")),
                params: primary.params.clone(),
                actions,
            });
        }
        resources.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Api { resources })
    }

    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name == name)
    }

    /// `maas PROFILE --help`.
    pub fn help(&self, profile: &str, url: &str) -> String {
        let mut out = format!(
            "usage: maas {profile} RESOURCE ACTION [ARGS...] [key=value ...]\n\n\
             Resources of profile '{profile}' ({url}):\n\n"
        );
        let width = self
            .resources
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(0);
        for r in &self.resources {
            out.push_str(&format!("  {:<width$}  {}\n", r.name, first_line(&r.doc)));
        }
        out.push_str(&format!(
            "\nRun `maas {profile} RESOURCE --help` for a resource's actions.\n"
        ));
        out
    }
}

impl Resource {
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.name == name)
    }

    /// Whether the `list` table extra applies: no `list` action of its own and
    /// a collection `read` (GET, no positional parameters).
    pub fn list_extra(&self) -> Option<&Action> {
        if self.action("list").is_some() {
            return None;
        }
        self.action("read")
            .filter(|a| a.method == "GET" && a.params.is_empty())
    }

    /// `maas PROFILE RESOURCE --help`.
    pub fn help(&self, profile: &str) -> String {
        let params: String = self.params.iter().map(|p| format!(" <{p}>")).collect();
        let mut out = format!(
            "usage: maas {profile} {} ACTION{params} [key=value ...]\n\n",
            self.name
        );
        if !self.doc.is_empty() {
            out.push_str(&self.doc);
            out.push_str("\n\n");
        }
        out.push_str("Actions:\n\n");
        let mut rows: Vec<(String, String, String)> = self
            .actions
            .iter()
            .map(|a| (a.name.clone(), a.method.clone(), first_line(&a.doc)))
            .collect();
        if self.list_extra().is_some() {
            rows.push((
                "list".into(),
                "GET".into(),
                "Readable table of `read` (maas-rs extra; --json for JSON).".into(),
            ));
            rows.sort();
        }
        let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        for (name, method, doc) in rows {
            out.push_str(&format!("  {name:<width$}  {method:<6}  {doc}\n"));
        }
        out.push_str(&format!(
            "\nRun `maas {profile} {} ACTION --help` for an action's details.\n",
            self.name
        ));
        out
    }
}

impl Action {
    pub fn usage(&self, profile: &str, resource: &str) -> String {
        let params: String = self.params.iter().map(|p| format!(" <{p}>")).collect();
        format!(
            "usage: maas {profile} {resource} {}{params} [key=value ...] [key@=FILE ...] [--debug]",
            self.name
        )
    }

    /// `maas PROFILE RESOURCE ACTION --help`.
    pub fn help(&self, profile: &str, resource: &str) -> String {
        let mut out = self.usage(profile, resource);
        out.push_str("\n\n");
        if !self.doc.is_empty() {
            out.push_str(&self.doc);
            out.push_str("\n\n");
        }
        let op = self
            .op
            .as_deref()
            .map(|op| format!("?op={op}"))
            .unwrap_or_default();
        out.push_str(&format!("Request: {} {}{op}\n", self.method, self.path));
        let how = if sends_query(&self.method) {
            "in the query string"
        } else {
            "as multipart/form-data"
        };
        out.push_str(&format!(
            "Arguments given as key=value are sent {how}; repeat a key to give a list;\n\
             key@=FILE sends the contents of FILE.\n"
        ));
        out
    }
}

/// GET and DELETE carry their data in the query string; other methods in a
/// multipart body.
pub fn sends_query(method: &str) -> bool {
    matches!(method, "GET" | "DELETE")
}

fn handler_path(h: &RawHandler) -> String {
    if let Some(p) = h.path.as_deref().filter(|p| !p.is_empty()) {
        return p.to_string();
    }
    // Fall back to the path part of the absolute URI.
    let uri = h.uri.as_deref().unwrap_or("");
    match uri.find("://") {
        Some(i) => {
            let rest = &uri[i + 3..];
            rest.find('/')
                .map(|j| rest[j..].to_string())
                .unwrap_or("/".into())
        }
        None => uri.to_string(),
    }
}

/// `MachinesHandler` → `machines`, `ResourcePoolsHandler` → `resource-pools`,
/// `SSHKeysHandler` → `sshkeys`: drop the `Handler` suffix, insert a hyphen
/// where a lowercase letter is followed by an uppercase one, lowercase it all.
pub fn handler_command_name(name: &str) -> String {
    let base = name.strip_suffix("Handler").unwrap_or(name);
    let mut out = String::with_capacity(base.len() + 4);
    let mut prev_lower = false;
    for c in base.chars() {
        if prev_lower && c.is_ascii_uppercase() {
            out.push('-');
        }
        prev_lower = c.is_ascii_lowercase();
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// `query_power_state` → `query-power-state`.
pub fn action_command_name(name: &str) -> String {
    name.replace('_', "-")
}

/// Characters escaped in a positional argument put into a path segment.
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Fill `{param}` placeholders of `template` with `positionals`, in the order
/// of `params`. Errors (as a message) on missing or extra positionals.
pub fn fill_path(
    template: &str,
    params: &[String],
    positionals: &[String],
) -> Result<String, String> {
    if positionals.len() < params.len() {
        let missing: Vec<String> = params[positionals.len()..]
            .iter()
            .map(|p| format!("<{p}>"))
            .collect();
        return Err(format!("missing argument(s): {}", missing.join(" ")));
    }
    if positionals.len() > params.len() {
        let extra = &positionals[params.len()..];
        let expected = if params.is_empty() {
            "takes no positional arguments".to_string()
        } else {
            let names: Vec<String> = params.iter().map(|p| format!("<{p}>")).collect();
            format!(
                "takes {} positional argument(s): {}",
                params.len(),
                names.join(" ")
            )
        };
        return Err(format!(
            "unexpected argument '{}': this action {expected}; give data as key=value",
            extra[0]
        ));
    }
    let mut path = template.to_string();
    for (name, value) in params.iter().zip(positionals) {
        if value.is_empty() {
            return Err(format!("argument <{name}> must not be empty"));
        }
        let placeholder = format!("{{{name}}}");
        let encoded = utf8_percent_encode(value, PATH_SEGMENT).to_string();
        path = path.replace(&placeholder, &encoded);
    }
    Ok(path)
}

pub fn first_line(doc: &str) -> String {
    doc.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// Remove the common indentation of a Python docstring (the first line is
/// often unindented) and surrounding blank lines.
pub fn dedent(doc: &str) -> String {
    let lines: Vec<&str> = doc.lines().collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let out: Vec<&str> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.trim()
            } else if l.len() >= indent && l.is_char_boundary(indent) {
                l[indent..].trim_end()
            } else {
                l.trim()
            }
        })
        .collect();
    out.join("\n").trim_matches('\n').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn handler_names() {
        let cases = [
            ("MachinesHandler", "machines"),
            ("MachineHandler", "machine"),
            ("ResourcePoolsHandler", "resource-pools"),
            ("SSHKeysHandler", "sshkeys"),
            ("RackControllersHandler", "rack-controllers"),
            ("DNSResourceRecordsHandler", "dnsresource-records"),
            ("IPRangesHandler", "ipranges"),
            ("VLANHandler", "vlan"),
            ("BootSourceSelectionsHandler", "boot-source-selections"),
            ("Machines", "machines"),
        ];
        for (input, want) in cases {
            assert_eq!(handler_command_name(input), want, "{input}");
        }
    }

    #[test]
    fn action_names() {
        assert_eq!(
            action_command_name("query_power_state"),
            "query-power-state"
        );
        assert_eq!(action_command_name("read"), "read");
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn path_templating() {
        let t = "/MAAS/api/2.0/nodes/{system_id}/interfaces/{id}/";
        let params = s(&["system_id", "id"]);
        assert_eq!(
            fill_path(t, &params, &s(&["abc123", "7"])).unwrap(),
            "/MAAS/api/2.0/nodes/abc123/interfaces/7/"
        );
        let err = fill_path(t, &params, &s(&["abc123"])).unwrap_err();
        assert!(err.contains("missing") && err.contains("<id>"), "{err}");
        assert!(!err.contains("<system_id>"), "{err}");
        let err = fill_path(t, &params, &[]).unwrap_err();
        assert!(err.contains("<system_id> <id>"), "{err}");
        let err = fill_path(t, &params, &s(&["a", "b", "c"])).unwrap_err();
        assert!(
            err.contains("unexpected argument 'c'") && err.contains("2 positional"),
            "{err}"
        );
        let err = fill_path("/MAAS/api/2.0/machines/", &[], &s(&["x"])).unwrap_err();
        assert!(err.contains("takes no positional"), "{err}");
        assert!(fill_path(t, &params, &s(&["", "1"])).is_err());
        // unsafe characters are escaped, harmless ones kept
        assert_eq!(
            fill_path("/s/{id}/", &s(&["id"]), &s(&["10.0.0.0/24"])).unwrap(),
            "/s/10.0.0.0%2F24/"
        );
        assert_eq!(
            fill_path("/s/{id}/", &s(&["id"]), &s(&["name:a b"])).unwrap(),
            "/s/name:a%20b/"
        );
    }

    #[test]
    fn dedents_docstrings() {
        let doc = "Manage a machine.\n\n    Details here.\n      indented more\n    ";
        assert_eq!(
            dedent(doc),
            "Manage a machine.\n\nDetails here.\n  indented more"
        );
        assert_eq!(first_line("\n  Title line\nrest"), "Title line");
    }

    pub(crate) fn sample() -> Value {
        json!({
            "doc": "MAAS API",
            "resources": [
                {"name": "MachineHandler", "anon": null, "auth": {
                    "name": "MachineHandler", "doc": "Manage an individual machine.",
                    "path": "/MAAS/api/2.0/machines/{system_id}/",
                    "uri": "http://elsewhere:5240/MAAS/api/2.0/machines/{system_id}/",
                    "params": ["system_id"],
                    "actions": [
                        {"name": "deploy", "method": "POST", "op": "deploy", "restful": false, "doc": "Deploy."},
                        {"name": "read", "method": "GET", "op": null, "restful": true, "doc": "Read."},
                        {"name": "query_power_state", "method": "GET", "op": "query_power_state", "restful": false, "doc": null}
                    ]}},
                {"name": "MachinesHandler",
                 "anon": {"name": "AnonMachinesHandler", "doc": "anon", "path": "/MAAS/api/2.0/machines/",
                          "uri": "http://x/MAAS/api/2.0/machines/", "params": [],
                          "actions": [
                              {"name": "is_registered", "method": "GET", "op": "is_registered", "restful": false, "doc": "Anon op."},
                              {"name": "read", "method": "GET", "op": null, "restful": true, "doc": "anon read"}]},
                 "auth": {"name": "MachinesHandler", "doc": "Manage the collection of all machines.",
                          "path": "/MAAS/api/2.0/machines/", "uri": "http://x/MAAS/api/2.0/machines/", "params": [],
                          "actions": [
                              {"name": "read", "method": "GET", "op": null, "restful": true, "doc": "List machines."},
                              {"name": "allocate", "method": "POST", "op": "allocate", "restful": false, "doc": "Allocate."}]}},
                {"name": "VersionHandler", "auth": null, "anon": {
                    "name": "VersionHandler", "doc": "Version.", "uri": "http://x/MAAS/api/2.0/version/",
                    "params": [], "actions": [{"name": "read", "method": "GET", "op": null, "restful": true, "doc": ""}]}}
            ],
            "handlers": []
        })
    }

    #[test]
    fn builds_resources_from_describe() {
        let api = Api::from_value(&sample()).unwrap();
        let names: Vec<&str> = api.resources.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["machine", "machines", "version"]);

        let machine = api.resource("machine").unwrap();
        assert_eq!(machine.params, ["system_id"]);
        let qps = machine.action("query-power-state").unwrap();
        assert_eq!(qps.method, "GET");
        assert_eq!(qps.op.as_deref(), Some("query_power_state"));
        assert_eq!(machine.action("read").unwrap().op, None);
        assert!(machine.list_extra().is_none());

        // auth actions win, anon-only actions are merged in
        let machines = api.resource("machines").unwrap();
        assert_eq!(machines.action("read").unwrap().doc, "List machines.");
        assert_eq!(machines.action("is-registered").unwrap().doc, "Anon op.");
        assert!(machines.list_extra().is_some());
        assert!(machines.help("admin").contains("list"));

        // a handler without `path` falls back to the uri's path
        let version = api.resource("version").unwrap();
        assert_eq!(
            version.action("read").unwrap().path,
            "/MAAS/api/2.0/version/"
        );

        let help = api.help("admin", "http://h/MAAS/api/2.0/");
        assert!(
            help.contains("machines") && help.contains("Manage the collection of all machines.")
        );
        let ahelp = machine.action("deploy").unwrap().help("admin", "machine");
        assert!(
            ahelp.contains("usage: maas admin machine deploy <system_id>"),
            "{ahelp}"
        );
        assert!(
            ahelp.contains("POST /MAAS/api/2.0/machines/{system_id}/?op=deploy"),
            "{ahelp}"
        );
    }

    #[test]
    fn malformed_describe_is_an_error() {
        assert!(Api::from_value(&json!({"resources": "nope"})).is_err());
        assert!(Api::from_value(&json!({})).unwrap().resources.is_empty());
    }
}
