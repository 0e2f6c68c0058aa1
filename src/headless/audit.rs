//! `memscope audit`: do the tiers agree? With `--repair`, mend what is found.

use super::{HeadlessError, ProgressLine};
use crate::config::Config;
use crate::text;

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
