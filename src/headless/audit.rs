//! `memscope audit`: do the tiers agree? With `--repair`, mend what is found.

use super::{HeadlessError, ProgressLine};
use crate::config::Config;
use crate::text;
use std::io::Write;

/// `memscope audit [--json] [--repair [--dry-run] [--yes]]`: the exit code (0 agree, 1 drift).
pub async fn audit(
    cfg: &Config,
    json: bool,
    repair: bool,
    dry_run: bool,
    yes: bool,
    settle_ms: u64,
) -> Result<u8, HeadlessError> {
    use crate::audit::{Options, Progress};
    let writes = repair && !dry_run;
    if writes && cfg.read_only {
        return Err(HeadlessError::Usage(format!(
            "--repair writes to the tiers of profile `{}`, which is read-only: rerun with --write, or see what it would do with --repair --dry-run",
            cfg.profile
        )));
    }
    crate::layout::cross_tier_checks(&cfg.layout)?;
    let mem = crate::memory::Memory::from_config(cfg, writes).await?;
    let line = std::sync::Mutex::new(ProgressLine::new());
    let done = || line.lock().map(|mut l| l.done()).unwrap_or(());
    let mut show = |p: &Progress| {
        let of = p.total.map(|t| format!("/{t}")).unwrap_or_default();
        if let Ok(mut l) = line.lock() {
            l.show(p.phase, &format!("audit: {} {}{of}  drift so far {}", p.phase, p.done, p.drift));
        }
    };
    let settle = std::time::Duration::from_millis(settle_ms);
    let mut opts = Options { repair, dry_run, settle };
    if writes && !yes {
        // Confirmation: look first, then ask.
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() {
            return Err(HeadlessError::Usage(
                "--repair asks for confirmation on a terminal; add --yes to confirm".into(),
            ));
        }
        let look = crate::audit::run(&mem, Options { settle, ..Options::default() }, &mut show).await?;
        done();
        eprint!("{}", look.text(true, true));
        if look.drift() == 0 {
            return Ok(0);
        }
        eprint!("repair these {} findings in profile `{}`? [y/N] ", look.drift(), cfg.profile);
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("nothing was changed");
            return Ok(1);
        }
        opts = Options { repair: true, dry_run: false, settle };
    }
    let report = crate::audit::run(&mem, opts, &mut show).await?;
    done();
    if json {
        println!("{}", text::json_safe(report.json(dry_run).to_string()));
    } else {
        print!("{}", report.text(repair, dry_run));
    }
    let bad = if writes { report.unrepaired() > 0 || !report.repair_errors.is_empty() } else { report.drift() > 0 };
    Ok(u8::from(bad))
}

/// `memscope audit --vectors`: the configured embedder against the vectors the index holds —
/// 20 stored texts re-embedded and compared with their stored vectors. Exit 0 when the same
/// model made them all, 1 when another did or the index mixes models, 2 when it cannot be
/// checked (no embedder, no stored texts: said, never read as a pass).
pub async fn audit_vectors(cfg: &Config, json: bool) -> Result<u8, HeadlessError> {
    let v = crate::tiers::vector(cfg, crate::store::Access::ReadOnly).await?;
    let embedder = v.query_embedder().map_err(|why| HeadlessError::Usage(why.to_string()))?;
    let check = crate::search::check_embedder(&*v.store, embedder, &v.namespace, &v.text_field, 20).await?;
    let Some(c) = check else {
        return Err(HeadlessError::Usage(format!(
            "nothing to check: no record of {} holds a text under `{}` beside its vector (set [vector] text_field)",
            v.store.describe(),
            v.text_field
        )));
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        let j = serde_json::json!({
            "index": v.store.describe(), "embedder": c.embedder, "sampled": c.sampled,
            "median_cosine": c.median, "disagree": c.disagree, "same_model": c.same_model() && c.other_dimension.is_none(),
            "other_dimension": c.other_dimension.map(|(stored, ours)| serde_json::json!({"stored": stored, "embedder": ours})),
        });
        writeln!(out, "{}", text::json_safe(j.to_string()))?;
    } else {
        writeln!(out, "{}: {}", text::sanitize_str(&v.store.describe()), text::sanitize_str(&c.said()))?;
    }
    Ok(if c.same_model() && c.disagree == 0 && c.other_dimension.is_none() { 0 } else { 1 })
}
