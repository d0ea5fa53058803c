//! The subcommands other than `check` (which lives in `check`). Each is a function from parsed
//! arguments to printed output and a result; `main` maps results to exit codes.

pub mod adopt;
pub mod explain;
pub mod heads;
pub mod init;
pub mod new;
pub mod record;
pub mod renumber;
pub mod status;

/// Numbers other open branches add to `set`, with the ref that adds each (empty without refs to
/// look at or without a base).
pub(crate) fn claimed_numbers(
    ws: &crate::check::Workspace,
    set: &crate::config::SetConfig,
    against: &[String],
    base: Option<&str>,
) -> crate::Result<std::collections::BTreeMap<u64, String>> {
    let globs: Vec<String> = against.iter().chain(&ws.config.against).cloned().collect();
    let mut out = std::collections::BTreeMap::new();
    let Some(repo) = ws.repo.as_deref().filter(|_| !globs.is_empty()) else {
        return Ok(out);
    };
    let Some(base) = repo.resolve_base(base, ws.config.base.as_deref())? else {
        return Ok(out);
    };
    let convention = crate::naming::convention(set);
    for claim in repo.claims(set, &base, &globs)?.claims {
        for file in &claim.files {
            if let Ok(p) = convention.parse(file) {
                out.entry(p.number)
                    .or_insert_with(|| claim.reference.clone());
            }
        }
    }
    Ok(out)
}
