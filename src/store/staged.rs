//! A period's rows on disk while it is built: each sheet's data rows are written to a Parquet
//! file of the run's staging folder as soon as its workbook is read, so that memory holds one
//! workbook's rows at a time, never the period's. The audit's SQL scans these files (one
//! folder per form, DataFusion's own Parquet scans); the accepted rows are read back one sheet at a
//! time to be stored, and the rows of a sheet with findings to be shown in its county's feedback.
//!
//! The files are a scratch copy: not fsynced (a killed run discards its staging folder), not
//! compressed (written once, read a few times, deleted when the period is built).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use arrow::array::{Array, AsArray, BooleanArray, RecordBatch, RecordBatchReader};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::ingest::rows::{SheetRows, parse_row_key};

/// Where a sheet's data rows are: a Parquet file of the staging folder, and how many there are.
#[derive(Debug, Clone)]
pub struct Staged {
    pub path: PathBuf,
    pub rows: usize,
}

/// A sheet whose data rows are staged on disk.
pub type StagedSheet = SheetRows<Staged>;

/// The staging folder of one period: `<dir>/<table>/` holds the rows the audit reads (one file per
/// sheet), `<dir>/unused/` those of superseded and refused sheets.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    next: AtomicUsize,
}

impl Staging {
    /// A fresh staging folder (an earlier one at `dir` is removed).
    pub fn new(dir: &Path) -> Result<Staging> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Staging { dir: dir.to_path_buf(), next: AtomicUsize::new(0) })
    }

    /// The folder of a form's rows (created, so that a form nobody sent reads as empty).
    pub fn table_dir(&self, table: &str) -> Result<PathBuf> {
        let dir = self.dir.join(table);
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    }

    /// Writes a sheet's data rows to a file of its form's folder (`table`), keeping the rest of
    /// the sheet (合计 rows, findings, column map) in memory. Safe to call from several threads.
    pub fn stage(&self, table: &str, sheet: SheetRows) -> Result<StagedSheet> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.table_dir(table)?.join(format!("{n:06}.parquet"));
        let rows = sheet.rows.num_rows();
        write(&path, &sheet.rows)?;
        Ok(sheet.with_rows(Staged { path, rows }))
    }

    /// Moves the rows of sheets the audit must not see (superseded or refused returns) out of
    /// their form's folder; they stay readable where they are moved to.
    pub fn set_aside(&self, sheet: &mut StagedSheet) -> Result<()> {
        let dir = self.dir.join("unused");
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let to = dir.join(sheet.rows.path.file_name().unwrap_or_default());
        std::fs::rename(&sheet.rows.path, &to)
            .with_context(|| format!("cannot move {} to {}", sheet.rows.path.display(), to.display()))?;
        sheet.rows.path = to;
        Ok(())
    }

    /// Removes the folder (once the period is built).
    pub fn remove(&self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn write(path: &Path, batch: &RecordBatch) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let props = WriterProperties::builder().set_compression(Compression::UNCOMPRESSED).build();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props))?;
    writer.write(batch)?;
    writer.close().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

impl Staged {
    /// The sheet's data rows (one sheet: the memory of one return).
    pub fn load(&self) -> Result<RecordBatch> {
        self.read(None)
    }

    /// The named columns of the sheet's data rows (those of them the file has).
    pub fn load_columns(&self, names: &[&str]) -> Result<RecordBatch> {
        self.read(Some(names))
    }

    fn read(&self, names: Option<&[&str]>) -> Result<RecordBatch> {
        let file = File::open(&self.path).with_context(|| format!("cannot open {}", self.path.display()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        let builder = match names {
            Some(names) => {
                let mask = ProjectionMask::columns(builder.parquet_schema(), names.iter().copied());
                builder.with_projection(mask)
            }
            None => builder,
        };
        let reader = builder.with_batch_size(self.rows.max(1)).build()?;
        let schema = reader.schema();
        let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(arrow::compute::concat_batches(&schema, &batches)?)
    }
}

/// The 备注 of the rows named by `keys`, read from the sheets holding them only (two columns of
/// each): by row key, trimmed, blank ones left out.
pub fn notes_of(sheets: &[StagedSheet], keys: &BTreeSet<&str>) -> Result<HashMap<String, String>> {
    let wanted: HashSet<(&str, &str)> =
        keys.iter().filter_map(|k| parse_row_key(k)).map(|(sha, sheet, _)| (sha, sheet)).collect();
    let mut out = HashMap::new();
    for s in sheets {
        if wanted.contains(&(s.sha256.get(..16).unwrap_or(&s.sha256), s.sheet.as_str())) {
            for batch in [s.rows.load_columns(&["_row_key", "note"])?, s.totals.clone()] {
                collect_notes(&batch, keys, &mut out);
            }
        }
    }
    Ok(out)
}

fn collect_notes(batch: &RecordBatch, keys: &BTreeSet<&str>, out: &mut HashMap<String, String>) {
    let (Some(k), Some(n)) = (batch.column_by_name("_row_key"), batch.column_by_name("note")) else { return };
    let (Some(k), Some(n)) = (k.as_string_opt::<i32>(), n.as_string_opt::<i32>()) else { return };
    for i in 0..batch.num_rows() {
        if !n.is_null(i) && !n.value(i).trim().is_empty() && keys.contains(k.value(i)) {
            out.insert(k.value(i).to_string(), n.value(i).trim().to_string());
        }
    }
}

/// Which rows of a staged sheet are kept: all of them, or those the mask marks.
#[derive(Debug, Clone)]
pub struct Kept {
    pub table: String,
    /// The sheet's county (`unknown` when not known).
    pub region: String,
    pub rows: Staged,
    pub mask: Option<BooleanArray>,
    /// Rows kept.
    pub kept: usize,
}

impl Kept {
    /// The kept rows (one sheet's).
    pub fn load(&self) -> Result<RecordBatch> {
        let batch = self.rows.load()?;
        match &self.mask {
            None => Ok(batch),
            Some(mask) => Ok(arrow::compute::filter_record_batch(&batch, mask)?),
        }
    }
}
