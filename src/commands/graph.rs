//! `miglint graph`: the picture (Mermaid or DOT) of what `check` sees: files, numbers, the
//! base's files with the same number, and the findings on each.

use std::io::Write as _;
use std::process::ExitCode;

use super::{unsupported, Ctx};
use crate::check;
use crate::report::{self, Format};
use crate::Fatal;

pub fn cli(ctx: &Ctx, base: &Option<String>, set: &Option<String>) -> crate::Result<ExitCode> {
    let format = ctx.format;
    let format = match format {
        Format::Human | Format::Mermaid => Format::Mermaid,
        Format::Dot => Format::Dot,
        other => {
            return Err(unsupported(
                other,
                "graph",
                "use --format mermaid (the default) or --format dot",
            ))
        }
    };
    let ws = ctx.open(&[])?;
    let opts = check::Options {
        base: base.clone(),
        set: set.clone(),
        ..check::Options::default()
    };
    let outcome = check::run(&ws, &opts)?;
    let mut out = std::io::stdout().lock();
    report::render(format, &outcome, false, &mut out)
        .and_then(|()| out.flush())
        .map_err(|e| Fatal::io("standard output", e))?;
    Ok(ExitCode::SUCCESS)
}
