//! `miglint check`: runs the engine and renders its outcome in the chosen format; the exit code
//! follows the findings (0 clean, 1 an error, or a warning under `--deny-warnings`).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::{color, unsupported, Ctx};
use crate::check::{self, Outcome, Workspace};
use crate::finding::Severity;
use crate::report::{self, Format};

/// `check` with the options the command line chose; `opts.source` picks the input (work tree
/// or index) once for the whole run.
pub fn cli(
    ctx: &Ctx,
    dirs: &[PathBuf],
    mut opts: check::Options,
    deny_warnings: bool,
) -> crate::Result<ExitCode> {
    let format = ctx.format;
    if matches!(format, Format::Mermaid | Format::Dot) {
        return Err(unsupported(format, "check", "pictures are drawn by `miglint graph --format mermaid|dot`; `check --format markdown` embeds the Mermaid one"));
    }
    let ws = Workspace::open_from(&ctx.cwd, ctx.config.as_deref(), dirs, opts.source)?;
    opts.history_export = opts.history_export.map(|p| ctx.cwd.join(p));
    let outcome = check::run(&ws, &opts)?;
    Ok(print_outcome(format, &outcome, deny_warnings))
}

/// Renders `outcome` on stdout and returns the exit code its findings call for.
pub fn print_outcome(format: Format, outcome: &Outcome, deny_warnings: bool) -> ExitCode {
    // Block-buffered: tens of thousands of findings are written in large chunks, not per line.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if report::render(format, outcome, color(), &mut out).is_err() || out.flush().is_err() {
        return ExitCode::from(2);
    }
    let failing =
        outcome.count(Severity::Error) > 0 || deny_warnings && outcome.count(Severity::Warning) > 0;
    ExitCode::from(u8::from(failing))
}
