//! The UI's 404 page.

use crate::error::Error;
use crate::ui::error::{PageError, PageResult};
use crate::ui::session::Viewer;

/// Unknown paths: the UI's 404 page.
pub async fn not_found(viewer: Viewer) -> PageResult {
    Err(PageError {
        nav: viewer.nav(),
        error: Error::NotFound(format!("No page at {}.", viewer.path)),
    })
}
