//! The commands: login, logout, list, refresh, and the generic
//! `maas PROFILE RESOURCE ACTION ...` derived from the describe document.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use serde_json::Value;

use crate::args;
use crate::describe::{Action, Api, Resource, fill_path};
use crate::error::Exit;
use crate::http::{Client, Response, prepare};
use crate::oauth::Credentials;
use crate::profile::{Profile, Store, api_url, origin};
use crate::table;

/// Settings shared by all commands (from global flags / environment).
pub struct Context {
    pub config: PathBuf,
    pub timeout: Duration,
    pub debug: bool,
}

impl Context {
    fn client(&self, debug: bool) -> Result<Client> {
        Client::new(self.timeout, self.debug || debug)
    }
}

/// Write to stdout, treating a closed pipe (`maas ... | head`) as success.
pub fn out(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn pretty_json(v: &Value) -> Vec<u8> {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(v, &mut ser).expect("serialising a JSON value cannot fail");
    buf.push(b'\n');
    buf
}

/// Print a successful response: JSON pretty-printed with 4-space indents
/// (like maascli), anything else raw.
fn print_response(resp: &Response) -> Result<()> {
    if resp.is_json()
        && let Some(v) = resp.json()
    {
        return out(&pretty_json(&v));
    }
    out(&resp.body)?;
    if std::io::stdout().is_terminal() && !resp.body.is_empty() && !resp.body.ends_with(b"\n") {
        out(b"\n")?;
    }
    Ok(())
}

fn fetch_description(client: &Client, api_root: &str) -> Result<Value> {
    let req = prepare("GET", &format!("{api_root}describe/"), None, &[]);
    let resp = client.send(&req, None)?.into_result().map_err(|e| {
        Exit::refused(format!(
            "error: could not fetch the API description from {api_root}describe/ \
             (is this a MAAS region URL?)\n{}",
            e.message
        ))
    })?;
    let doc: Value = resp.json().ok_or_else(|| {
        Exit::failure(format!(
            "{api_root}describe/ did not return JSON; is this a MAAS region URL?"
        ))
    })?;
    if !doc.get("resources").is_some_and(Value::is_array) {
        return Err(Exit::failure(format!(
            "{api_root}describe/ returned JSON without a \"resources\" list; is this a MAAS \
             region URL?"
        ))
        .into());
    }
    Ok(doc)
}

fn read_key(apikey: &str) -> Result<Credentials> {
    let key = if apikey == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Exit::failure(format!("reading the API key from stdin: {e}")))?;
        s
    } else {
        apikey.to_string()
    };
    Ok(Credentials::parse(&key).map_err(Exit::usage)?)
}

/// `maas login PROFILE URL APIKEY`.
pub fn login(ctx: &Context, name: &str, url: &str, apikey: &str) -> Result<()> {
    if name.is_empty() || name.starts_with('-') {
        return Err(Exit::usage(format!("invalid profile name '{name}'")).into());
    }
    let creds = read_key(apikey)?;
    let root = api_url(url)?;
    let client = ctx.client(false)?;
    let description = fetch_description(&client, &root)?;
    // Check the key before storing anything.
    let whoami = prepare("GET", &format!("{root}users/"), Some("whoami"), &[]);
    client.send(&whoami, Some(&creds))?.into_result()?;

    let mut store = Store::load(&ctx.config)?;
    store.profiles.insert(
        name.to_string(),
        Profile {
            name: name.to_string(),
            url: root.clone(),
            apikey: format!(
                "{}:{}:{}",
                creds.consumer_key, creds.token_key, creds.token_secret
            ),
            description,
        },
    );
    store.save(&ctx.config)?;
    out(format!(
        "\nYou are now logged in to the MAAS server at {root} with the profile name '{name}'.\n\n\
         For help with the available commands, try:\n\n  maas {name} --help\n\n"
    )
    .as_bytes())
}

/// `maas logout PROFILE`.
pub fn logout(ctx: &Context, name: &str) -> Result<()> {
    let mut store = Store::load(&ctx.config)?;
    store.get(name)?;
    store.profiles.remove(name);
    store.save(&ctx.config)
}

/// `maas list`: one `NAME URL [APIKEY]` line per profile.
pub fn list(ctx: &Context, show_keys: bool) -> Result<()> {
    let store = Store::load(&ctx.config)?;
    let mut text = String::new();
    for p in store.profiles.values() {
        if show_keys {
            text.push_str(&format!("{} {} {}\n", p.name, p.url, p.apikey));
        } else {
            text.push_str(&format!("{} {}\n", p.name, p.url));
        }
    }
    out(text.as_bytes())
}

/// `maas refresh`: re-fetch the describe document of every profile.
pub fn refresh(ctx: &Context) -> Result<()> {
    let mut store = Store::load(&ctx.config)?;
    let client = ctx.client(false)?;
    let mut failures = Vec::new();
    let names: Vec<String> = store.profiles.keys().cloned().collect();
    for name in names {
        let url = store.profiles[&name].url.clone();
        match fetch_description(&client, &url) {
            Ok(doc) => {
                if let Some(p) = store.profiles.get_mut(&name) {
                    p.description = doc;
                }
            }
            Err(e) => {
                let (_, msg) = crate::error::exit_code_and_message(&e);
                failures.push(format!("profile '{name}': {msg}"));
            }
        }
    }
    store.save(&ctx.config)?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Exit::failure(format!("refresh failed for:\n{}", failures.join("\n"))).into())
    }
}

fn is_help(arg: &str) -> bool {
    matches!(arg, "-h" | "--help" | "help")
}

/// `maas PROFILE [RESOURCE [ACTION [ARGS...]]]`.
pub fn profile_command(ctx: &Context, argv: &[String]) -> Result<()> {
    let Some(name) = argv.first() else {
        return Err(Exit::usage("missing profile name").into());
    };
    let store = Store::load(&ctx.config)?;
    let profile = store.get(name)?;
    let api = Api::from_value(&profile.description)?;

    let Some(resource_name) = argv.get(1) else {
        return Err(Exit::usage_raw(api.help(name, &profile.url)).into());
    };
    if is_help(resource_name) {
        return out(api.help(name, &profile.url).as_bytes());
    }
    let Some(resource) = api.resource(resource_name) else {
        let names: Vec<&str> = api.resources.iter().map(|r| r.name.as_str()).collect();
        return Err(Exit::usage(format!(
            "unknown resource '{resource_name}' for profile '{name}'.\nAvailable resources: {}\n\
             (run `maas {name} --help` for descriptions; `maas refresh` if the region was upgraded)",
            names.join(", ")
        ))
        .into());
    };

    let Some(action_name) = argv.get(2) else {
        return Err(Exit::usage_raw(resource.help(name)).into());
    };
    if is_help(action_name) {
        return out(resource.help(name).as_bytes());
    }
    let rest = &argv[3..];
    if action_name == "list"
        && let Some(read) = resource.list_extra()
    {
        return list_table(ctx, profile, resource, read, rest);
    }
    let Some(action) = resource.action(action_name) else {
        let mut names: Vec<&str> = resource.actions.iter().map(|a| a.name.as_str()).collect();
        if resource.list_extra().is_some() {
            names.push("list");
            names.sort();
        }
        return Err(Exit::usage(format!(
            "unknown action '{action_name}' for resource '{}'.\nAvailable actions: {}\n\
             (run `maas {name} {} --help` for descriptions)",
            resource.name,
            names.join(", "),
            resource.name
        ))
        .into());
    };
    let split = args::split(rest, false)?;
    if split.help {
        return out(action.help(name, &resource.name).as_bytes());
    }
    let resp = call(ctx, profile, resource, action, &split)?;
    print_response(&resp)
}

/// Run one action and return its successful response.
fn call(
    ctx: &Context,
    profile: &Profile,
    resource: &Resource,
    action: &Action,
    split: &args::Split,
) -> Result<Response> {
    let path = fill_path(&action.path, &action.params, &split.positionals).map_err(|e| {
        Exit::usage(format!(
            "{e}\n{}",
            action.usage(&profile.name, &resource.name)
        ))
    })?;
    let base = if path.starts_with('/') {
        format!("{}{path}", origin(&profile.url)?)
    } else {
        format!("{}{path}", profile.url)
    };
    let data = args::load_data(&split.data)?;
    let creds = Credentials::parse(&profile.apikey).map_err(|e| {
        Exit::usage(format!(
            "profile '{}' has a bad stored key ({e}); log in again",
            profile.name
        ))
    })?;
    let req = prepare(&action.method, &base, action.op.as_deref(), &data);
    let client = ctx.client(split.debug)?;
    Ok(client.send(&req, Some(&creds))?.into_result()?)
}

/// `maas PROFILE RESOURCE list [--json] [key=value filters]`.
fn list_table(
    ctx: &Context,
    profile: &Profile,
    resource: &Resource,
    read: &Action,
    rest: &[String],
) -> Result<()> {
    let split = args::split(rest, true)?;
    if split.help {
        return out(format!(
            "usage: maas {} {} list [--json] [--debug] [key=value filters ...]\n\n\
             Readable table of `{} read` (maas-rs extra). Filters are sent as query \
             parameters, like `read`; --json prints the JSON response instead.\n",
            profile.name, resource.name, resource.name
        )
        .as_bytes());
    }
    let resp = call(ctx, profile, resource, read, &split)?;
    if split.json {
        return print_response(&resp);
    }
    let Some(v) = resp.json() else {
        return Err(Exit::failure("the region's list response is not JSON").into());
    };
    out(table::render(&resource.name, &v).as_bytes())
}

/// Default profile file for this environment (see `profile::config_path`).
pub fn default_config(explicit: Option<&Path>) -> Result<PathBuf> {
    crate::profile::config_path(explicit, std::env::var_os("HOME"))
}
