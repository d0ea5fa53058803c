//! The subcommands other than `check` (which lives in `check`). Each is a function from parsed
//! arguments to printed output and a result; `main` maps results to exit codes.

pub mod explain;
pub mod heads;
pub mod init;
pub mod new;
pub mod record;
pub mod renumber;
pub mod status;
