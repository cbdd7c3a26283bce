//! How the command line reports a use case's error: a message naming the code and field, and
//! an exit code from the error's kind (the BSD `sysexits` values, so scripts can tell a bad
//! input from a missing permission or a failure of the system).

use redress_app::{AppError, ErrorKind};

/// Wraps a use case's error for `anyhow`, keeping it for [`exit_code`].
pub fn app_error(e: AppError) -> anyhow::Error {
    let message = match &e.field {
        Some(f) => format!("{} ({f}): {}", e.code, e.message),
        None => format!("{}: {}", e.code, e.message),
    };
    anyhow::Error::new(e).context(message)
}

/// The process exit code for an error.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    let Some(app) = e.downcast_ref::<AppError>() else { return 1 };
    match app.kind {
        ErrorKind::Malformed | ErrorKind::Invalid | ErrorKind::TooLarge => 65,
        ErrorKind::NotFound => 66,
        ErrorKind::Internal => 70,
        ErrorKind::Conflict | ErrorKind::RateLimited => 75,
        ErrorKind::Unauthenticated | ErrorKind::Forbidden => 77,
    }
}
