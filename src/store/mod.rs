//! Store: Parquet files written atomically into a Hive-partitioned warehouse.
//!
//! Every file is written under a staging folder and renamed into place, so a reader never sees
//! half a file and a killed run leaves the published state as it was. Partitions are flushed to
//! disk with their publication, before it is published (`publish::commit`).

pub mod staged;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

/// Removes the named columns (partition columns live in the folder names, Hive style).
pub fn drop_columns(batch: &RecordBatch, names: &[&str]) -> Result<RecordBatch> {
    let keep: Vec<usize> = batch
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| !names.contains(&f.name().as_str()))
        .map(|(i, _)| i)
        .collect();
    Ok(batch.project(&keep)?)
}

/// Writes batches as one Parquet file: to `path.tmp`, then rename (flushed to disk with the
/// publication it is part of, see [`write_partition`]).
fn write_parquet(path: &Path, schema: SchemaRef, batches: &[RecordBatch]) -> Result<()> {
    crate::faults::before_write(path)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = path.with_extension("parquet.tmp");
    let file = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    let props =
        WriterProperties::builder().set_compression(Compression::SNAPPY).set_created_by("gongbao".to_string()).build();
    let mut writer = ArrowWriter::try_new(file, schema, Some(props))?;
    for b in batches {
        writer.write(b)?;
    }
    writer.close()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", path.display()))?;
    Ok(())
}

/// Writes a table partition: `dir/part-0.parquet`, partition columns dropped. Partitions are
/// written into a publication being built, which is flushed to disk whole before it is published
/// ([`crate::publish::commit`]); flushing each file as well cost a disk round trip per county and
/// form (11,200 at national scale, ~10 s).
pub fn write_partition(dir: &Path, batches: &[RecordBatch], schema: &SchemaRef, partition_cols: &[&str]) -> Result<()> {
    let projected: Vec<RecordBatch> = batches.iter().map(|b| drop_columns(b, partition_cols)).collect::<Result<_>>()?;
    let out_schema: SchemaRef = match projected.first() {
        Some(b) => b.schema(),
        None => {
            let fields: Vec<_> =
                schema.fields().iter().filter(|f| !partition_cols.contains(&f.name().as_str())).cloned().collect();
            Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
        }
    };
    write_parquet(&dir.join("part-0.parquet"), out_schema, &projected)
}

/// Reads every Parquet file below `dir` (sorted by path). Missing folder: no batches.
pub fn read_dir_batches(dir: &Path) -> Result<Vec<RecordBatch>> {
    let mut files = Vec::new();
    collect_parquet(dir, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let file = File::open(&f).with_context(|| format!("cannot open {}", f.display()))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)?.build()?;
        for b in reader {
            out.push(b?);
        }
    }
    Ok(out)
}

/// Whether any Parquet file is below `dir` (without reading it).
pub fn has_parquet(dir: &Path) -> bool {
    let mut files = Vec::new();
    collect_parquet(dir, &mut files).is_ok() && !files.is_empty()
}

fn collect_parquet(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for e in entries {
        let p = e?.path();
        if p.is_dir() {
            collect_parquet(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "parquet") {
            out.push(p);
        }
    }
    Ok(())
}

/// Moves a staged folder into its published place: the old one is moved aside first and removed
/// after, so the published path always holds a complete version.
pub fn publish_dir(staged: &Path, published: &Path) -> Result<()> {
    if let Some(parent) = published.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let old = published.with_file_name(format!(
        ".old-{}-{}",
        published.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(),
        std::process::id()
    ));
    let had_old = published.exists();
    if had_old {
        std::fs::rename(published, &old).with_context(|| format!("cannot move aside {}", published.display()))?;
    }
    std::fs::rename(staged, published).with_context(|| format!("cannot publish {}", published.display()))?;
    if had_old {
        std::fs::remove_dir_all(&old).ok();
    }
    Ok(())
}

/// Writes a text file atomically.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Writes a file atomically: to a hidden temporary file next to it, fsync, then rename.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file(path, bytes, true)
}

/// [`write_bytes`] without the fsync: for a file whose reader checks it whole (a cache entry
/// with its checksum), which a power loss can cost but never make read wrong. The parsed-workbook
/// cache writes one per workbook: flushing each was a disk round trip per workbook of the inbox.
pub fn write_bytes_unflushed(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file(path, bytes, false)
}

fn write_file(path: &Path, bytes: &[u8], flush: bool) -> Result<()> {
    use std::io::Write;
    crate::faults::before_write(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    if flush {
        file.sync_all()?;
    }
    drop(file);
    std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", path.display()))?;
    Ok(())
}
