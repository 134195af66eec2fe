//! The bulletin as PDF: the typst compiler used as a library, with a small in-memory World.
//!
//! The World holds exactly: the layout (`templates/bulletin.typ`) as its main file, the document
//! as `/bulletin.json` (see [`super::document`]), the charts as `/charts/*.svg`, and the fonts.
//! It has no file system and no network: `read("/etc/passwd")` in any source would fail with
//! "file not found", and no text of the bulletin is ever evaluated as code anyway.
//!
//! **Fonts.** The CJK subsets bundled in `fonts/` (Noto Serif CJK SC Regular/Bold, Noto Sans CJK
//! SC Bold, made by `scripts/subset-fonts.sh`) are always available. When the full Noto CJK
//! collections are installed (Debian's `fonts-noto-cjk`), their SC faces are used instead of the
//! subsets (same family names, every glyph); set `GONGBAO_SYSTEM_FONTS=0` to use only the
//! bundled subsets. Text needing a character that no loaded font has is reported by
//! [`missing_glyphs`] (a warning naming the characters), never printed as boxes silently.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result, anyhow};
use typst::diag::{FileError, FileResult, SourceDiagnostic, Warned};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

/// The families the layout asks for.
pub const FAMILIES: [&str; 2] = ["Noto Serif CJK SC", "Noto Sans CJK SC"];

/// Loaded fonts and their book.
pub struct Fonts {
    pub fonts: Vec<Font>,
    book: LazyHash<FontBook>,
    /// Where each font came from (for the logs).
    pub sources: Vec<String>,
}

impl Fonts {
    /// The bundled subsets in `dir`, replaced face by face by the full system Noto CJK SC faces
    /// when those are installed (unless `GONGBAO_SYSTEM_FONTS=0`). Cached per folder.
    pub fn load(dir: &Path) -> Result<Arc<Fonts>> {
        let system = std::env::var("GONGBAO_SYSTEM_FONTS").map(|v| v != "0").unwrap_or(true);
        Self::cached(dir, system)
    }

    /// Only the bundled subsets in `dir`.
    pub fn bundled(dir: &Path) -> Result<Arc<Fonts>> {
        Self::cached(dir, false)
    }

    fn cached(dir: &Path, system: bool) -> Result<Arc<Fonts>> {
        type Cache = Mutex<HashMap<(PathBuf, bool), Arc<Fonts>>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let key = (dir.to_path_buf(), system);
        let cache = CACHE.get_or_init(Default::default);
        if let Some(f) = cache.lock().expect("font cache").get(&key) {
            return Ok(Arc::clone(f));
        }
        let fonts = Arc::new(Self::read(dir, system)?);
        cache.lock().expect("font cache").insert(key, Arc::clone(&fonts));
        Ok(fonts)
    }

    fn read(dir: &Path, system: bool) -> Result<Fonts> {
        let mut fonts: Vec<Font> = Vec::new();
        let mut sources = Vec::new();
        let wanted = |f: &Font| FAMILIES.iter().any(|w| f.info().family.eq_ignore_ascii_case(w));
        if system {
            for path in system_font_files() {
                let Ok(data) = std::fs::read(&path) else { continue };
                for font in Font::iter(Bytes::new(data)).filter(wanted) {
                    sources.push(format!("{} ({} {:?})", path.display(), font.info().family, font.info().variant));
                    fonts.push(font);
                }
            }
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("the bundled fonts folder {} cannot be read", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "otf" || e == "ttf"))
            .collect();
        entries.sort();
        for path in entries {
            let data = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            for font in Font::iter(Bytes::new(data)) {
                // A system face of the same family and variant wins over the subset.
                let have = fonts
                    .iter()
                    .any(|f| f.info().family == font.info().family && f.info().variant == font.info().variant);
                if !have {
                    sources.push(format!("{} ({} {:?})", path.display(), font.info().family, font.info().variant));
                    fonts.push(font);
                }
            }
        }
        if fonts.is_empty() {
            anyhow::bail!("no font found in {} (run scripts/subset-fonts.sh)", dir.display());
        }
        let book = LazyHash::new(FontBook::from_fonts(&fonts));
        Ok(Fonts { fonts, book, sources })
    }

    /// Does any loaded font have a glyph for `c`?
    pub fn covers(&self, c: char) -> bool {
        self.fonts.iter().any(|f| f.info().coverage.contains(c as u32))
    }
}

/// Full Noto CJK collections in the usual system folders (Debian's fonts-noto-cjk and others).
fn system_font_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk", "/usr/share/fonts/google-noto-cjk"] {
        let Ok(rd) = std::fs::read_dir(dir) else { continue };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                (name.starts_with("NotoSerifCJK") || name.starts_with("NotoSansCJK"))
                    && (name.contains("-Regular") || name.contains("-Bold"))
                    && (name.ends_with(".ttc") || name.ends_with(".otf"))
            })
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

/// The characters of `text` that no loaded font can draw (whitespace and controls aside).
pub fn missing_glyphs(fonts: &Fonts, text: &str) -> BTreeSet<char> {
    text.chars().filter(|c| !c.is_whitespace() && !c.is_control() && !fonts.covers(*c)).collect()
}

struct BulletinWorld<'a> {
    library: LazyHash<Library>,
    fonts: &'a Fonts,
    main: FileId,
    source: Source,
    files: HashMap<FileId, Bytes>,
    today: Option<Datetime>,
}

fn file_id(path: &str) -> Result<FileId> {
    let vpath = VirtualPath::new(path).map_err(|e| anyhow!("bad virtual path {path}: {e:?}"))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

impl World for BulletinWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }
    fn main(&self) -> FileId {
        self.main
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main {
            Ok(self.source.clone())
        } else {
            Err(FileError::NotFound(PathBuf::from(id.vpath().get_with_slash())))
        }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files.get(&id).cloned().ok_or_else(|| FileError::NotFound(PathBuf::from(id.vpath().get_with_slash())))
    }
    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.fonts.get(index).cloned()
    }
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        self.today
    }
}

/// Compiles `layout` (typst source) with `/bulletin.json` = `data` and the given extra files
/// (virtual path → bytes, e.g. `charts/trend.svg`) to PDF bytes. Returns the PDF, its page
/// count and typst's warnings.
pub fn compile_pdf(
    layout: &str,
    data: &[u8],
    files: &BTreeMap<String, Vec<u8>>,
    fonts: &Fonts,
    today: chrono::NaiveDate,
    ident: &str,
) -> Result<(Vec<u8>, usize, Vec<String>)> {
    use chrono::Datelike;
    let main = file_id("/bulletin.typ")?;
    let mut map = HashMap::new();
    map.insert(file_id("/bulletin.json")?, Bytes::new(data.to_vec()));
    for (path, bytes) in files {
        map.insert(file_id(&format!("/{}", path.trim_start_matches('/')))?, Bytes::new(bytes.clone()));
    }
    let world = BulletinWorld {
        library: LazyHash::new(Library::builder().build()),
        fonts,
        main,
        source: Source::new(main, layout.to_string()),
        files: map,
        today: Datetime::from_ymd(today.year(), today.month() as u8, today.day() as u8),
    };
    let Warned { output, warnings } = typst::compile::<PagedDocument>(&world);
    let warnings: Vec<String> = warnings.iter().map(|w| describe(&world, w)).collect();
    let document = output.map_err(|errs| {
        anyhow!(
            "typst could not lay out the bulletin: {}",
            errs.iter().map(|e| describe(&world, e)).collect::<Vec<_>>().join("; ")
        )
    })?;
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(ident.to_string()),
        creator: Smart::Custom(Some("gongbao".to_string())),
        ..Default::default()
    };
    let pdf = typst_pdf::pdf(&document, &options).map_err(|errs| {
        anyhow!(
            "typst could not write the PDF: {}",
            errs.iter().map(|e| describe(&world, e)).collect::<Vec<_>>().join("; ")
        )
    })?;
    Ok((pdf, document.pages().len(), warnings))
}

/// A typst diagnostic with its source location (line of the layout file) when it has one.
fn describe(world: &BulletinWorld, d: &SourceDiagnostic) -> String {
    let mut s = d.message.to_string();
    if let Some(range) = world.range(d.span) {
        let line = world.source.text()[..range.start.min(world.source.text().len())].lines().count();
        s.push_str(&format!(" (bulletin.typ line {line})"));
    }
    for h in &d.hints {
        s.push_str(&format!("; hint: {}", h.v));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Arc<Fonts> {
        Fonts::bundled(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts")).unwrap()
    }

    #[test]
    fn the_bundled_fonts_are_the_three_faces_the_layout_asks_for() {
        let f = bundled();
        let mut faces: Vec<String> =
            f.fonts.iter().map(|f| format!("{} {}", f.info().family, f.info().variant.weight.to_number())).collect();
        faces.sort();
        assert_eq!(faces, ["Noto Sans CJK SC 700", "Noto Serif CJK SC 400", "Noto Serif CJK SC 700"]);
    }

    #[test]
    fn characters_the_subsets_lack_are_named() {
        let f = bundled();
        // GB 2312, the bulletin's symbols and ASCII are covered …
        assert!(missing_glyphs(&f, "济宁市工业经济倍增监测月报（2025年1—9月）…—＃％ #*<>$[]\\ abc").is_empty());
        // … a GBK-only character and one beyond the BMP are not.
        assert_eq!(missing_glyphs(&f, "山东堃𠀀机械"), BTreeSet::from(['堃', '𠀀']));
    }

    #[test]
    fn the_world_reads_no_file_system() {
        let f = bundled();
        let layout = r#"#read("/etc/passwd")"#;
        let err = compile_pdf(
            layout,
            b"{}",
            &BTreeMap::new(),
            &f,
            chrono::NaiveDate::from_ymd_opt(2025, 10, 15).unwrap(),
            "t",
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("not found"), "{err:#}");
    }
}
