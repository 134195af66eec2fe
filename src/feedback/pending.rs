//! Returns held for a frozen period (released as final): each county that sent one is told, in
//! `feedback/YYYY-MM/<code>_<name>_修订暂存.md` of that period, that its return is held and not
//! used until the city bureau applies it with `gongbao run --revise YYYY-MM`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::markdown::escape;
use crate::incremental::PendingRevision;
use crate::period::Period;
use crate::reference::Region;

/// File name suffix of a note (after `<code>_<name>_`).
pub const NOTE_SUFFIX: &str = "修订暂存.md";

/// The county a held return is from: its sender, else the county its file name names.
pub fn county_of<'a>(p: &PendingRevision, regions: &'a [Region]) -> Option<&'a Region> {
    let code = p.sender.clone().or_else(|| crate::ingest::header::find_region(&p.file, regions))?;
    regions.iter().find(|r| r.code == code)
}

/// The notes: (path under the output folder, Markdown), one per county and frozen period.
pub fn notes(pending: &[PendingRevision], regions: &[Region]) -> Vec<(PathBuf, String)> {
    let mut by: BTreeMap<(Period, &str), (&Region, Vec<&PendingRevision>)> = BTreeMap::new();
    for p in pending {
        let Ok(period) = p.period.parse::<Period>() else { continue };
        match county_of(p, regions) {
            Some(r) => by.entry((period, r.code.as_str())).or_insert((r, Vec::new())).1.push(p),
            None => tracing::warn!(file = %p.file, period = %p.period, "a held return names no known county; no note"),
        }
    }
    let mut out = Vec::new();
    for ((period, _), (region, items)) in by {
        let Some(stem) = super::file_stem(region) else { continue };
        let stem = stem.trim_end_matches("审核反馈");
        let label = period.full_label();
        let mut md = format!("# {}{label}报表修订暂存通知\n\n", region.name);
        md.push_str(&format!(
            "{label}数据已作为正式数据发布。以下报表在发布后收到,已暂存,未用于已发布的数据;经市统计局审定后将作为修订发布(修订内容在当期月报附注中列明)。\n\n"
        ));
        for p in items {
            let what = if p.change == "withdrawn" { "发布所用的报表已撤回" } else { "新报送" };
            md.push_str(&format!("- {}({what},SHA-256 {})\n", escape(&p.file), &p.sha256[..p.sha256.len().min(12)]));
        }
        out.push((super::feedback_dir(Path::new(""), period).join(format!("{stem}{NOTE_SUFFIX}")), md));
    }
    out
}

/// The notes already in the output folder `dir`, by path under it.
fn existing(dir: &Path) -> BTreeMap<PathBuf, PathBuf> {
    let mut found = BTreeMap::new();
    let Ok(periods) = std::fs::read_dir(dir.join("feedback")) else { return found };
    for p in periods.flatten() {
        let Ok(files) = std::fs::read_dir(p.path()) else { continue };
        for f in files.flatten() {
            if f.file_name().to_string_lossy().ends_with(NOTE_SUFFIX) {
                let rel = PathBuf::from("feedback").join(p.file_name()).join(f.file_name());
                found.insert(rel, f.path());
            }
        }
    }
    found
}

/// Whether `dir` (a publication) holds exactly these notes.
pub fn are_written(dir: &Path, notes: &[(PathBuf, String)]) -> bool {
    let found = existing(dir);
    found.len() == notes.len()
        && notes.iter().all(|(rel, md)| std::fs::read_to_string(dir.join(rel)).is_ok_and(|t| t == *md))
}

/// Writes the notes into `dir` (a publication being built) and removes notes no longer pending.
pub fn write(dir: &Path, notes: &[(PathBuf, String)]) -> Result<()> {
    for (rel, path) in existing(dir) {
        if !notes.iter().any(|(r, _)| *r == rel) {
            std::fs::remove_file(&path)?;
        }
    }
    for (rel, md) in notes {
        crate::store::write_bytes(&dir.join(rel), md.as_bytes())?;
    }
    Ok(())
}
