//! Notifications: messages for one user, all users or all admins, which each
//! reader may dismiss for themselves.

use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::services::auth::User;
use crate::services::misc::{not_found, parse_id};
use crate::store::misc::notifications as db;
pub use crate::store::misc::notifications::Notification;

pub const CATEGORIES: &[&str] = &["error", "warning", "success", "info"];

/// A notification's addressee as rendered: (id, username, email, admin, local).
pub type Addressee = (i64, String, String, bool, bool);

pub async fn list(ctx: &Ctx, u: &User) -> Result<Vec<Notification>> {
    db::for_user(&ctx.db, u.id, u.is_superuser).await
}

/// Every notification (admins: to manage them); others get a 403.
pub async fn all(ctx: &Ctx, u: &User) -> Result<Vec<Notification>> {
    if !u.is_superuser {
        return Err(Error::Forbidden(
            "Only administrators can list every notification.".into(),
        ));
    }
    db::all(&ctx.db).await
}

fn relevant(n: &Notification, u: &User) -> bool {
    n.user_id == Some(u.id) || (n.users && !u.is_superuser) || (n.admins && u.is_superuser)
}

/// A notification the caller may see (admins see all).
pub async fn get(ctx: &Ctx, u: &User, id: &str) -> Result<Notification> {
    let id = parse_id(id, "Notification")?;
    let n = db::by_id(&ctx.db, id)
        .await?
        .ok_or_else(|| not_found("Notification"))?;
    if u.is_superuser || relevant(&n, u) {
        Ok(n)
    } else {
        Err(Error::Forbidden(
            "You do not have permission to view this notification.".into(),
        ))
    }
}

pub async fn addressee(ctx: &Ctx, n: &Notification) -> Result<Option<Addressee>> {
    match n.user_id {
        Some(id) => db::user(&ctx.db, id).await,
        None => Ok(None),
    }
}

/// The fields a create or update sets (`None`: unchanged / default).
#[derive(Default)]
pub struct Change {
    pub ident: Option<String>,
    /// A user id or name; `Some("")` clears it.
    pub user: Option<String>,
    pub users: Option<bool>,
    pub admins: Option<bool>,
    pub message: Option<String>,
    pub context: Option<String>,
    pub category: Option<String>,
    pub dismissable: Option<bool>,
}

/// Create (`existing` None) or update a notification; the saved row.
pub async fn save(ctx: &Ctx, existing: Option<Notification>, c: Change) -> Result<Notification> {
    let mut errors = maas_model::constraints::FieldErrors::new();
    let mut add = |f: &str, m: String| errors.entry(f.to_string()).or_default().push(m);
    let mut n = existing.unwrap_or(Notification {
        category: "info".into(),
        dismissable: true,
        context: serde_json::json!({}),
        ..Notification::default()
    });
    let mut tx = crate::store::begin(&ctx.db).await?;
    if let Some(i) = c.ident {
        let i = i.trim().to_string();
        if i.len() > 40 {
            add(
                "ident",
                "Ensure this value has at most 40 characters.".into(),
            );
        } else if !i.is_empty() && db::ident_taken(&mut tx, &i, n.id).await? {
            add(
                "ident",
                "Notification with this Ident already exists.".into(),
            );
        }
        n.ident = (!i.is_empty()).then_some(i);
    }
    if let Some(u) = c.user {
        let u = u.trim();
        n.user_id = if u.is_empty() {
            None
        } else {
            let found = match u.parse::<i64>() {
                Ok(id) if u.chars().all(|c| c.is_ascii_digit()) => {
                    db::user(&mut *tx, id).await?.map(|x| x.0)
                }
                _ => db::user_id_by_name(&mut *tx, u).await?,
            };
            if found.is_none() {
                add("user", "Enter a valid user id or username.".into());
            }
            found
        };
    }
    if let Some(b) = c.users {
        n.users = b;
    }
    if let Some(b) = c.admins {
        n.admins = b;
    }
    if let Some(m) = c.message {
        n.message = m;
    }
    if n.message.trim().is_empty() {
        add("message", "This field is required.".into());
    }
    if let Some(ctx_text) = c.context {
        if ctx_text.trim().is_empty() {
            n.context = serde_json::json!({});
        } else {
            match serde_json::from_str::<serde_json::Value>(&ctx_text) {
                Ok(v @ serde_json::Value::Object(_)) => n.context = v,
                Ok(_) => add("context", "Context is not a mapping.".into()),
                Err(_) => add("context", "Enter a valid JSON.".into()),
            }
        }
    }
    if let Some(cat) = c.category {
        let cat = if cat.is_empty() {
            "info".to_string()
        } else {
            cat
        };
        if CATEGORIES.contains(&cat.as_str()) {
            n.category = cat;
        } else {
            add(
                "category",
                format!("Select a valid choice. {cat} is not one of the available choices."),
            );
        }
    }
    if let Some(d) = c.dismissable {
        n.dismissable = d;
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    n.id = db::save(&mut tx, &n).await?;
    tx.commit().await?;
    Ok(n)
}

pub async fn delete(ctx: &Ctx, n: &Notification) -> Result<()> {
    db::delete(&ctx.db, n.id).await?;
    Ok(())
}

pub async fn dismiss(ctx: &Ctx, u: &User, n: &Notification) -> Result<()> {
    if !relevant(n, u) {
        return Err(Error::Forbidden(
            "You cannot dismiss a notification that is not addressed to you.".into(),
        ));
    }
    if !n.dismissable {
        return Err(Error::BadRequest("Notification is not dismissable".into()));
    }
    db::dismiss(&ctx.db, n.id, u.id).await
}
