//! A period's rows on disk while it is built: each sheet's data rows are appended to a Parquet
//! file of the run's staging folder (a row group of a spill file its thread holds for the form)
//! as soon as its workbook is read, so that memory holds one workbook's rows at a time, never the
//! period's. (A file per sheet cost a file created and deleted per county and form, 11,200 at
//! national scale, and ext4 creates files slower the more were deleted lately.) A sheet's rows
//! are read back alone from there (its row groups) to be stored, quarantined or shown in its
//! county's feedback. Once every workbook is read, the rows of the sheets the period uses are
//! also written, in a fixed order, into one file per form in large row groups
//! ([`Staging::combine`]): the audit's SQL scans that file (DataFusion's own Parquet scan, one
//! file to open per query however many counties, a few row groups however many sheets).
//!
//! The files are a scratch copy: not fsynced (a killed run discards its staging folder), not
//! compressed (written once, read a few times, deleted when the period is built).
//!
//! A small period's sheets are not written at all: they are *held* in memory, as read, while the
//! rows held come to at most the staging's budget (`held_sheet_bytes` of `config/memory.toml`,
//! [`crate::memory::Budgets`]: a province's month),
//! and the audit's queries scan them there. Writing each sheet and reading it back (to combine
//! it, to store it) cost a province a tenth of its run's CPU time; past the budget, the rest of a
//! period's sheets (the country's) are staged on disk as above, so memory stays bounded.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use arrow::array::{Array, AsArray, BooleanArray, RecordBatch, RecordBatchReader};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;

use crate::ingest::rows::{SheetRows, parse_row_key};
use rayon::prelude::*;

/// Where a sheet's data rows are (held in memory, or in a spill file of the staging folder), and
/// how many there are.
#[derive(Debug, Clone)]
pub struct Staged {
    place: Place,
    pub rows: usize,
    /// Where the audit's queries read this sheet's rows among the other sheets' of its form (set by
    /// [`Staging::combine`]; none for a sheet refused, or not combined yet).
    pub scan: Option<Scan>,
}

#[derive(Debug, Clone)]
enum Place {
    /// In memory, as read (within the staging's budget).
    Held(RecordBatch),
    /// Some row groups of a spill file.
    Spilled {
        path: PathBuf,
        row_groups: std::ops::Range<usize>,
        /// The file's footer, parsed once for all the sheets of a shared file (a spill file has a
        /// row group per sheet: parsing it for each sheet read back would cost more than the rows).
        footer: Arc<Mutex<Option<ArrowReaderMetadata>>>,
    },
}

/// Where the audit's queries read a form's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// The form's file of the staging folder ([`Staging::table_file`]).
    File(PathBuf),
    /// The sheets themselves, every one of the form's held in memory.
    Held,
}

/// What the audit's queries scan of one form: the rows of its sheets audited, in order.
pub enum ScanRows {
    /// No sheet.
    Empty,
    /// The form's file, which holds those rows and no others.
    File(PathBuf),
    /// The sheets' rows, held, each in the form's schema.
    Batches(Vec<RecordBatch>),
}

/// Rows in a row group of the file the audit scans: large, since a query's scan costs by row
/// group as well as by row.
const SCAN_ROW_GROUP: usize = 64 * 1024;

/// A sheet whose data rows are staged on disk.
pub type StagedSheet = SheetRows<Staged>;

/// The staging folder of one period: `<dir>/sheets/<table>/` holds the sheets' rows as read (in
/// spill files, a row group or more per sheet), `<dir>/<table>.parquet` the rows the audit reads
/// (every sheet used, see [`Staging::combine`]), `<dir>/refused/<table>.parquet` those of refused
/// sheets.
pub struct Staging {
    dir: PathBuf,
    next: AtomicUsize,
    /// Bytes of rows held in memory, and the most that may be.
    held: AtomicUsize,
    hold_bytes: usize,
    /// Spill files open for writing and not in use, by form table: a thread staging a sheet takes
    /// one (or opens a new one), so there are about as many as threads staging at once.
    spills: Mutex<HashMap<String, Vec<Combined>>>,
}

impl std::fmt::Debug for Staging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staging").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl Staging {
    /// A fresh staging folder (an earlier one at `dir` is removed), which holds sheets in memory
    /// while their rows come to at most `hold_bytes` (0: every sheet is written to disk).
    pub fn new(dir: &Path, hold_bytes: usize) -> Result<Staging> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Staging {
            dir: dir.to_path_buf(),
            next: AtomicUsize::new(0),
            held: AtomicUsize::new(0),
            hold_bytes,
            spills: Mutex::default(),
        })
    }

    fn sheet_dir(&self, table: &str) -> Result<PathBuf> {
        let dir = self.dir.join("sheets").join(table);
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    }

    /// Holds a sheet's data rows in memory while the budget allows, or else appends them to a spill
    /// file of its form's folder (`table`); the rest of the sheet (合计 rows, findings, column
    /// map) stays in memory. Safe to call from several threads (which sheets are held then
    /// depends on their timing, what is read back never does).
    pub fn stage(&self, table: &str, sheet: SheetRows) -> Result<StagedSheet> {
        let bytes = sheet.rows.get_array_memory_size();
        let budget = self.hold_bytes;
        if budget > 0
            && self
                .held
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |h| (h + bytes <= budget).then_some(h + bytes))
                .is_ok()
        {
            let rows = Staged { rows: sheet.rows.num_rows(), place: Place::Held(sheet.rows.clone()), scan: None };
            return Ok(sheet.with_rows(rows));
        }
        let schema = sheet.rows.schema();
        let taken = {
            let mut spills = self.spills.lock().unwrap_or_else(|e| e.into_inner());
            let free = spills.entry(table.to_string()).or_default();
            free.iter().position(|s| s.schema == schema).map(|i| free.swap_remove(i))
        };
        let mut spill = match taken {
            Some(spill) => spill,
            None => {
                let n = self.next.fetch_add(1, Ordering::Relaxed);
                Combined::create(self.sheet_dir(table)?.join(format!("{n:06}.parquet")), schema)?
            }
        };
        let staged = spill.append(&sheet.rows);
        // Given back even after a failed write (which fails the period): the sheets written to it
        // before are closed with it.
        self.spills.lock().unwrap_or_else(|e| e.into_inner()).entry(table.to_string()).or_default().push(spill);
        Ok(sheet.with_rows(staged?))
    }

    /// Closes every spill file (their footers written), so that their sheets can be read.
    fn close_spills(&self) -> Result<()> {
        let spills = std::mem::take(&mut *self.spills.lock().unwrap_or_else(|e| e.into_inner()));
        for spill in spills.into_values().flatten() {
            spill.close()?;
        }
        Ok(())
    }

    /// Writes the rows of the sheets the period uses and does not refuse (`sheets`, in their
    /// order) into one file per form of `forms` (`<dir>/<table>.parquet`), which the audit's
    /// queries scan; each sheet is told where (`Staged::scan`). A form whose sheets are all held
    /// in memory (or that has none) gets no file: the queries scan the sheets there. The
    /// sheets' rows stay where they were staged, a row group per sheet, to be read back one sheet
    /// at a time; the form's file has large row groups instead: a query's scan costs by row group
    /// as much as by row, and a national form's 2,800 sheets were 2,800 row groups read one by
    /// one by every rule. Chunks of sheets are encoded in parallel, each into a file of its own,
    /// and their row groups spliced into the form's file in order.
    pub fn combine(&self, forms: &crate::forms::Forms, mut sheets: Vec<StagedSheet>) -> Result<Vec<StagedSheet>> {
        self.close_spills()?;
        if let Some(s) = sheets.iter().find(|s| forms.get(&s.form).is_none()) {
            anyhow::bail!("a staged sheet of form {}, which has no definition", s.form);
        }
        // Each form's sheets in chunks: consecutive sheets of at least SCAN_ROW_GROUP rows together.
        let mut jobs: Vec<(usize, Vec<&Staged>)> = Vec::new();
        fn used<'a>(sheets: &'a [StagedSheet], form: &'a str) -> impl Iterator<Item = &'a StagedSheet> {
            sheets.iter().filter(move |s| s.form == form && s.refusal.is_none())
        }
        // A form whose sheets are all held is scanned where they are.
        let in_file: Vec<bool> =
            forms.forms.iter().map(|f| used(&sheets, &f.code).any(|s| !s.rows.is_held())).collect();
        for (f, form) in forms.forms.iter().enumerate().filter(|(f, _)| in_file[*f]) {
            let mut rows = 0;
            let mut chunk: Vec<&Staged> = Vec::new();
            for s in used(&sheets, &form.code) {
                if rows >= SCAN_ROW_GROUP {
                    jobs.push((f, std::mem::take(&mut chunk)));
                    rows = 0;
                }
                chunk.push(&s.rows);
                rows += s.rows.rows;
            }
            jobs.push((f, chunk));
        }
        // Every form's chunks encoded at once, each into an unnamed temporary file (gone when
        // closed): memory holds a chunk's rows per thread (the files, on disk, the period's rows
        // once more until they are spliced), and no form waits for another's (a province's
        // JN101 is one chunk, the other forms' beside it).
        let schemas: Vec<_> = forms.forms.iter().map(crate::ingest::rows::form_schema).collect();
        let encoded: Vec<(File, ArrowReaderMetadata)> =
            jobs.par_iter().map(|(f, chunk)| self.encode(&schemas[*f], chunk)).collect::<Result<_>>()?;
        // Then each form's file, its chunks' row groups in order.
        (0..forms.forms.len()).into_par_iter().filter(|f| in_file[*f]).try_for_each(|f| -> Result<()> {
            let mut scan = Spliced::create(self.table_file(&forms.forms[f].table), &schemas[f])?;
            for ((file, metadata), _) in encoded.iter().zip(&jobs).filter(|(_, (g, _))| *g == f) {
                for group in metadata.metadata().row_groups() {
                    scan.copy_row_group(file, group)?;
                }
            }
            scan.close()
        })?;
        for (form, in_file) in forms.forms.iter().zip(in_file) {
            let scan = if in_file { Scan::File(self.table_file(&form.table)) } else { Scan::Held };
            for s in sheets.iter_mut().filter(|s| s.form == form.code && s.refusal.is_none()) {
                s.rows.scan = Some(scan.clone());
            }
        }
        Ok(sheets)
    }

    /// `sheets`' rows, in order, as a Parquet file of its own (deleted when closed) in `schema`.
    fn encode(&self, schema: &arrow::datatypes::SchemaRef, sheets: &[&Staged]) -> Result<(File, ArrowReaderMetadata)> {
        let mut file = tempfile::tempfile_in(&self.dir)
            .with_context(|| format!("cannot create a temporary file in {}", self.dir.display()))?;
        let mut writer = ArrowWriter::try_new(file.try_clone()?, schema.clone(), Some(properties()))?;
        for s in sheets {
            let rows = s.load()?;
            let rows = if rows.schema() == *schema { rows } else { in_schema(&rows, schema)? };
            writer.write(&rows)?;
        }
        writer.close()?;
        use std::io::Seek;
        file.rewind()?;
        let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())?;
        Ok((file, metadata))
    }

    /// Bytes of rows held in memory rather than written to disk.
    pub fn held_bytes(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// The file of a form's rows that the audit reads (after [`Staging::combine`], unless its
    /// sheets are held).
    pub fn table_file(&self, table: &str) -> PathBuf {
        self.dir.join(format!("{table}.parquet"))
    }

    /// The file of a form's accepted rows that the models read (written by the store stage
    /// through [`AcceptedRows`]).
    pub fn accepted_file(&self, table: &str) -> PathBuf {
        self.dir.join("accepted").join(format!("{table}.parquet"))
    }

    /// Removes the folder (once the period is built).
    pub fn remove(&self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// The period's accepted rows of one form, in one file (or in memory instead, where its sheets
/// are held there): the columns of the warehouse's files then its partition columns `period` and
/// `region`, as a query of the warehouse sees them. The models read these rows rather than the
/// warehouse's folder of the period, which holds one file per county (2,800 at national scale),
/// every one of them opened by each scan of the form.
pub struct AcceptedRows {
    out: AcceptedOut,
    schema: arrow::datatypes::SchemaRef,
    period: String,
}

enum AcceptedOut {
    File(Box<ArrowWriter<File>>, PathBuf),
    Held(Vec<RecordBatch>),
}

/// Where a form's accepted rows of the period are ([`AcceptedRows::close`]).
#[derive(Debug, Clone)]
pub enum Accepted {
    File(PathBuf),
    /// In memory, in the schema of [`with_partitions`].
    Held(arrow::datatypes::SchemaRef, Vec<RecordBatch>),
}

/// A form's table as a query of the warehouse sees it: the form's columns (`form_schema`) less
/// `period`, as its files hold them, followed by the partition columns `period` and `region`.
pub fn with_partitions(form_schema: &arrow::datatypes::Schema) -> arrow::datatypes::SchemaRef {
    use arrow::datatypes::{DataType, Field};
    let mut fields: Vec<Field> =
        form_schema.fields().iter().filter(|f| f.name() != "period").map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new("period", DataType::Utf8, false));
    fields.push(Field::new("region", DataType::Utf8, false));
    Arc::new(arrow::datatypes::Schema::new(fields))
}

impl AcceptedRows {
    /// Rows in groups of this many, so that a scan of the file runs in parallel.
    const ROW_GROUP: usize = 64 * 1024;

    /// `form_schema`: the form's columns ([`crate::ingest::rows::form_schema`]).
    pub fn create(path: &Path, form_schema: &arrow::datatypes::Schema, period: &str) -> Result<AcceptedRows> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let schema = with_partitions(form_schema);
        let file = File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
        // Without statistics, like the staging's other files: the models scan every row (nothing
        // to prune), and computing each page's minimum and maximum of every column was a fifth
        // of the file's encoding, on the one thread that writes it.
        let properties = WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_statistics_enabled(EnabledStatistics::None)
            .set_max_row_group_row_count(Some(Self::ROW_GROUP))
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(properties))?;
        Ok(AcceptedRows {
            out: AcceptedOut::File(Box::new(writer), path.to_path_buf()),
            schema,
            period: period.to_string(),
        })
    }

    /// Rows kept in memory instead of a file: those of sheets held in memory ([`Staged::is_held`]),
    /// whose arrays they share (a sheet's rows kept whole are not copied).
    pub fn held(form_schema: &arrow::datatypes::Schema, period: &str) -> AcceptedRows {
        AcceptedRows {
            out: AcceptedOut::Held(Vec::new()),
            schema: with_partitions(form_schema),
            period: period.to_string(),
        }
    }

    /// Appends one county's rows (`batch`: the form's columns).
    pub fn write(&mut self, region: &str, batch: &RecordBatch) -> Result<()> {
        let n = batch.num_rows();
        let mut columns = crate::store::drop_columns(batch, &["period"])?.columns().to_vec();
        columns.push(Arc::new(arrow::array::StringArray::from_iter_values(std::iter::repeat_n(&self.period, n))));
        columns.push(Arc::new(arrow::array::StringArray::from_iter_values(std::iter::repeat_n(region, n))));
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        match &mut self.out {
            AcceptedOut::File(writer, _) => writer.write(&batch)?,
            AcceptedOut::Held(batches) => batches.push(batch),
        }
        Ok(())
    }

    pub fn close(self) -> Result<Accepted> {
        Ok(match self.out {
            AcceptedOut::File(writer, path) => {
                writer.close()?;
                Accepted::File(path)
            }
            AcceptedOut::Held(batches) => Accepted::Held(self.schema, batches),
        })
    }
}

/// Uncompressed, and without statistics: the audit's queries scan every row (no row group or page
/// to skip), and a spill file's footer has a row group per sheet, which statistics only make
/// larger.
fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::UNCOMPRESSED)
        .set_statistics_enabled(EnabledStatistics::None)
        .build()
}

/// A spill file: sheets written one after another as they are read, a row group or more each.
struct Combined {
    path: PathBuf,
    schema: arrow::datatypes::SchemaRef,
    writer: ArrowWriter<File>,
    footer: Arc<Mutex<Option<ArrowReaderMetadata>>>,
}

impl Combined {
    fn create(path: PathBuf, schema: arrow::datatypes::SchemaRef) -> Result<Combined> {
        let file = File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(properties()))?;
        Ok(Combined { path, schema, writer, footer: Arc::default() })
    }

    /// Appends a sheet's rows; where they are now.
    fn append(&mut self, rows: &RecordBatch) -> Result<Staged> {
        let first = self.writer.flushed_row_groups().len();
        self.writer.write(rows).with_context(|| format!("cannot write {}", self.path.display()))?;
        self.writer.flush().with_context(|| format!("cannot write {}", self.path.display()))?;
        let groups = first..self.writer.flushed_row_groups().len();
        Ok(Staged {
            place: Place::Spilled { path: self.path.clone(), row_groups: groups, footer: self.footer.clone() },
            rows: rows.num_rows(),
            scan: None,
        })
    }

    fn close(self) -> Result<()> {
        self.writer.close().with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(())
    }
}

/// A form's file the audit scans, whose row groups are copied byte for byte from files encoded
/// in parallel (column chunks spliced, not decoded and encoded again).
struct Spliced {
    path: PathBuf,
    writer: SerializedFileWriter<File>,
}

impl Spliced {
    fn create(path: PathBuf, schema: &arrow::datatypes::SchemaRef) -> Result<Spliced> {
        let mut props = properties();
        // What an ArrowWriter would record, so that the file reads back with the form's Arrow types.
        parquet::arrow::add_encoded_arrow_schema_to_metadata(schema, &mut props);
        let descr = parquet::arrow::ArrowSchemaConverter::new().convert(schema)?;
        let file = File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
        let writer = SerializedFileWriter::new(file, descr.root_schema_ptr(), Arc::new(props))?;
        Ok(Spliced { path, writer })
    }

    fn copy_row_group(&mut self, from: &File, group: &parquet::file::metadata::RowGroupMetaData) -> Result<()> {
        let mut out = self.writer.next_row_group()?;
        for column in group.columns() {
            let chunk = parquet::column::writer::ColumnCloseResult {
                bytes_written: column.compressed_size() as u64,
                rows_written: group.num_rows() as u64,
                metadata: column.clone(),
                bloom_filter: None,
                column_index: None,
                offset_index: None,
            };
            out.append_column(from, chunk).with_context(|| format!("cannot write {}", self.path.display()))?;
        }
        out.close().with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(())
    }

    fn close(self) -> Result<()> {
        self.writer.close().with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(())
    }
}

/// `rows` in `schema`: its columns by name, cast to the schema's types (nulls for a column it
/// lacks).
fn in_schema(rows: &RecordBatch, schema: &arrow::datatypes::SchemaRef) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| match rows.column_by_name(f.name()) {
            Some(c) => Ok(arrow::compute::cast(c, f.data_type())?),
            None => Ok(arrow::array::new_null_array(f.data_type(), rows.num_rows())),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// What the audit's queries scan of a form whose sheets audited are `sheets` (its sheets not
/// refused, in order, combined by [`Staging::combine`]): its file, checked to hold exactly their
/// rows (rows of a sheet not audited would be audited too), or the sheets held, in `schema`.
pub fn scan_rows(sheets: &[&StagedSheet], schema: &arrow::datatypes::SchemaRef) -> Result<ScanRows> {
    let Some(first) = sheets.first() else { return Ok(ScanRows::Empty) };
    let not_combined = || anyhow::anyhow!("the rows of {} were not combined for the audit", first.file);
    match first.rows.scan.as_ref().ok_or_else(not_combined)? {
        Scan::Held => sheets
            .iter()
            .map(|s| match (&s.rows.scan, &s.rows.place) {
                (Some(Scan::Held), Place::Held(rows)) if rows.schema() == *schema => Ok(rows.clone()),
                (Some(Scan::Held), Place::Held(rows)) => in_schema(rows, schema),
                _ => anyhow::bail!("the rows of {} are not held with the other sheets of its form", s.file),
            })
            .collect::<Result<_>>()
            .map(ScanRows::Batches),
        Scan::File(path) => {
            let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            let footer = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
                .with_context(|| format!("cannot read {}", path.display()))?;
            let in_file = footer.metadata().file_metadata().num_rows() as usize;
            let rows: usize = sheets.iter().map(|s| s.rows.rows).sum();
            if sheets.iter().any(|s| s.rows.scan.as_ref() != Some(&Scan::File(path.clone()))) || in_file != rows {
                anyhow::bail!("{} holds other rows than those of the sheets audited", path.display());
            }
            Ok(ScanRows::File(path.clone()))
        }
    }
}

impl Staged {
    /// The sheet's data rows (one sheet: the memory of one return).
    pub fn load(&self) -> Result<RecordBatch> {
        self.read(None)
    }

    /// The named columns of the sheet's data rows (those of them the sheet has).
    pub fn load_columns(&self, names: &[&str]) -> Result<RecordBatch> {
        self.read(Some(names))
    }

    /// Whether the rows are held in memory rather than in a spill file.
    pub fn is_held(&self) -> bool {
        matches!(self.place, Place::Held(_))
    }

    /// The spill file's footer, parsed on first use and shared by the sheets of the file.
    fn footer(path: &Path, footer: &Mutex<Option<ArrowReaderMetadata>>) -> Result<ArrowReaderMetadata> {
        // Held while parsing: the audit's queries ask for it at once, and one parse serves all.
        let mut footer = footer.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = footer.as_ref() {
            return Ok(f.clone());
        }
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let f = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
            .with_context(|| format!("cannot read {}", path.display()))?;
        *footer = Some(f.clone());
        Ok(f)
    }

    /// Drops the parsed footer of a spill file (for every sheet of the file), parsed again if a
    /// sheet is read later. At national scale a form's spill files have 2,800 row groups; the
    /// footers ~70 MB.
    pub fn forget_footer(&self) {
        if let Place::Spilled { footer, .. } = &self.place {
            *footer.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    fn read(&self, names: Option<&[&str]>) -> Result<RecordBatch> {
        let (path, row_groups, footer) = match &self.place {
            Place::Held(rows) => {
                return Ok(match names {
                    None => rows.clone(),
                    Some(names) => {
                        let schema = rows.schema();
                        let wanted: Vec<usize> = (0..schema.fields().len())
                            .filter(|i| names.contains(&schema.field(*i).name().as_str()))
                            .collect();
                        rows.project(&wanted)?
                    }
                });
            }
            Place::Spilled { path, row_groups, footer } => (path, row_groups, footer),
        };
        let footer = Self::footer(path, footer)?;
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let window = Window::of_row_groups(&file, footer.metadata(), row_groups.clone())
            .with_context(|| format!("cannot read {}", path.display()))?;
        let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(window, footer);
        let builder = match names {
            Some(names) => {
                let mask = ProjectionMask::columns(builder.parquet_schema(), names.iter().copied());
                builder.with_projection(mask)
            }
            None => builder,
        };
        let reader = builder.with_row_groups(row_groups.clone().collect()).with_batch_size(self.rows.max(1)).build()?;
        let schema = reader.schema();
        let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(arrow::compute::concat_batches(&schema, &batches)?)
    }
}

/// The bytes of some row groups of a Parquet file, read with one system call, as the reader's
/// source: reading a sheet straight from the file cost a seek and a read (and a duplicated file
/// handle) per page of each of its ~50 columns, more than decoding them.
struct Window {
    /// Where the bytes start in the file, and the file's length.
    start: u64,
    file_len: u64,
    bytes: bytes::Bytes,
}

impl Window {
    /// The span of `groups`' column chunks (contiguous: the row groups of one sheet).
    fn of_row_groups(
        file: &File,
        metadata: &parquet::file::metadata::ParquetMetaData,
        groups: std::ops::Range<usize>,
    ) -> Result<Window> {
        use std::os::unix::fs::FileExt;
        let file_len = file.metadata()?.len();
        let chunks = || groups.clone().flat_map(|g| metadata.row_group(g).columns().iter().map(|c| c.byte_range()));
        let start = chunks().map(|(at, _)| at).min().unwrap_or(0);
        let end = chunks().map(|(at, len)| at + len).max().unwrap_or(0).max(start);
        anyhow::ensure!(end <= file_len, "row groups end at byte {end}, past the file's {file_len}");
        let mut bytes = vec![0u8; (end - start) as usize];
        file.read_exact_at(&mut bytes, start)?;
        Ok(Window { start, file_len, bytes: bytes.into() })
    }

    fn slice(&self, at: u64, len: usize) -> parquet::errors::Result<bytes::Bytes> {
        let from = at.checked_sub(self.start).map(|o| o as usize);
        match from {
            Some(from) if from + len <= self.bytes.len() => Ok(self.bytes.slice(from..from + len)),
            _ => Err(parquet::errors::ParquetError::General(format!(
                "bytes {at}..{} are outside the row groups read ({}..{})",
                at + len as u64,
                self.start,
                self.start + self.bytes.len() as u64
            ))),
        }
    }
}

impl parquet::file::reader::Length for Window {
    fn len(&self) -> u64 {
        self.file_len
    }
}

impl parquet::file::reader::ChunkReader for Window {
    type T = bytes::buf::Reader<bytes::Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        use bytes::Buf;
        let end = self.start + self.bytes.len() as u64;
        Ok(self.slice(start, end.saturating_sub(start) as usize)?.reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        self.slice(start, length)
    }
}

/// The 备注 of the rows named by `keys`, read from the sheets holding them only (two columns of
/// each): by row key, trimmed, blank ones left out.
pub fn notes_of(sheets: &[StagedSheet], keys: &BTreeSet<&str>) -> Result<HashMap<String, String>> {
    let wanted: HashSet<(&str, &str)> =
        keys.iter().filter_map(|k| parse_row_key(k)).map(|(sha, sheet, _)| (sha, sheet)).collect();
    let mut out = HashMap::new();
    for s in sheets {
        if wanted.contains(&s.key_prefix()) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::Forms;
    use arrow::array::{ArrayRef, Int64Array, StringArray, new_null_array};
    use arrow::datatypes::DataType;

    fn forms() -> Forms {
        Forms::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("forms")).unwrap()
    }

    /// Every row of a Parquet file.
    fn whole(path: &Path) -> RecordBatch {
        let rows = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap().build().unwrap();
        let schema = rows.schema();
        arrow::compute::concat_batches(&schema, &rows.collect::<std::result::Result<Vec<_>, _>>().unwrap()).unwrap()
    }

    /// The file the audit scans holds the sheets' rows in order, in large row groups (not one per
    /// sheet), whatever the sheets' sizes.
    #[test]
    fn the_file_the_audit_scans_has_large_row_groups() {
        let forms = forms();
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::new(&dir.path().join("p"), 0).unwrap();
        let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(7);
        let originals: Vec<SheetRows> = (0..300)
            .map(|i| sheet(&forms, &format!("s{i:03}"), rand::Rng::random_range(&mut rng, 0..900), false))
            .collect();
        let staged: Vec<StagedSheet> = originals.iter().map(|o| staging.stage("jn101", o.clone()).unwrap()).collect();
        let combined = staging.combine(&forms, staged).unwrap();
        let path = staging.table_file("jn101");
        let rows: usize = originals.iter().map(|o| o.rows.num_rows()).sum();
        let groups = ArrowReaderMetadata::load(&File::open(&path).unwrap(), ArrowReaderOptions::default())
            .unwrap()
            .metadata()
            .num_row_groups();
        assert_eq!(groups, rows.div_ceil(SCAN_ROW_GROUP).max(1), "{rows} rows in {groups} row groups");
        let all = whole(&path);
        let each: Vec<&RecordBatch> = originals.iter().map(|o| &o.rows).collect();
        assert_eq!(all, arrow::compute::concat_batches(&all.schema(), each).unwrap());
        for (s, original) in combined.iter().zip(&originals) {
            assert_eq!(s.rows.load().unwrap(), original.rows);
        }
    }

    /// A JN101 sheet of `n` rows from the file `sha`: keys `<sha>:表1:<row>`, a 备注 on row 1.
    fn sheet(forms: &Forms, sha: &str, n: usize, refused: bool) -> SheetRows {
        let form = forms.get("JN101").unwrap();
        let schema = crate::ingest::rows::form_schema(form);
        let text = |v: &dyn Fn(usize) -> Option<String>| -> ArrayRef {
            Arc::new(StringArray::from((0..n).map(v).collect::<Vec<_>>()))
        };
        let columns: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                "_row_key" => text(&|i| Some(crate::ingest::rows::row_key(sha, "表1", i as u32 + 5))),
                "note" => text(&|i| (i == 0).then(|| format!("备注 {sha}"))),
                "_source_row" => {
                    Arc::new(Int64Array::from((0..n as i64).map(|i| i + 5).collect::<Vec<_>>())) as ArrayRef
                }
                _ if !f.is_nullable() && f.data_type() == &DataType::Utf8 => text(&|_| Some(sha.to_string())),
                _ => new_null_array(f.data_type(), n),
            })
            .collect();
        SheetRows {
            form: "JN101".into(),
            period: None,
            region_code: Some(format!("region-{sha}")),
            file: format!("{sha}.xlsx"),
            sha256: sha.to_string(),
            sheet: "表1".into(),
            rows: RecordBatch::try_new(schema.clone(), columns).unwrap(),
            totals: RecordBatch::new_empty(schema),
            findings: Vec::new(),
            refusal: refused.then(|| ("X".to_string(), "refused".to_string())),
            column_map: String::new(),
        }
    }

    /// Many sheets staged by a few threads go to as many spill files as threads, and each reads
    /// back its own rows, before and after they are combined (every third one refused).
    #[test]
    fn sheets_staged_by_a_few_threads_share_their_files() {
        let forms = forms();
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::new(&dir.path().join("p"), 0).unwrap();
        let threads = 3;
        let originals: Vec<SheetRows> =
            (0..30).map(|i| sheet(&forms, &format!("s{i:03}"), (i * 7) % 11, i % 3 == 0)).collect();
        let staged: Vec<StagedSheet> = std::thread::scope(|s| {
            let handles: Vec<_> = originals
                .chunks(originals.len() / threads)
                .map(|chunk| {
                    let staging = &staging;
                    s.spawn(move || {
                        chunk.iter().map(|o| staging.stage("jn101", o.clone()).unwrap()).collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let spills = std::fs::read_dir(dir.path().join("p").join("sheets").join("jn101")).unwrap().count();
        assert!((1..=threads).contains(&spills), "{spills} spill files for {threads} threads");
        let combined = staging.combine(&forms, staged).unwrap();
        assert_eq!(combined.len(), originals.len());
        for (s, original) in combined.iter().zip(&originals) {
            assert_eq!(s.sha256, original.sha256);
            assert_eq!(s.rows.load().unwrap(), original.rows, "{}", s.sha256);
            // Only the sheets not refused are in the file the audit scans.
            let scan = s.refusal.is_none().then(|| Scan::File(staging.table_file("jn101")));
            assert_eq!(s.rows.scan, scan, "{}", s.sha256);
        }
        let used: Vec<&RecordBatch> = originals.iter().filter(|o| o.refusal.is_none()).map(|o| &o.rows).collect();
        let all = whole(&staging.table_file("jn101"));
        assert_eq!(all, arrow::compute::concat_batches(&all.schema(), used).unwrap());
        staging.remove();
        assert!(!dir.path().join("p").exists(), "staged files left behind");
    }

    /// A sheet staged in another schema than its form's (a column of another type, one missing)
    /// goes into the file the audit scans all the same, in the form's schema; held in memory, it
    /// is scanned in the form's schema too.
    #[test]
    fn a_sheet_staged_in_another_schema_is_combined_in_the_forms() {
        for hold_bytes in [0, usize::MAX] {
            a_sheet_in_another_schema(hold_bytes);
        }
    }

    fn a_sheet_in_another_schema(hold_bytes: usize) {
        let forms = forms();
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::new(&dir.path().join("p"), hold_bytes).unwrap();
        let odd = {
            let mut s = sheet(&forms, "bbbb", 3, false);
            let (schema, columns, _) = s.rows.clone().into_parts();
            let (mut fields, mut columns): (Vec<_>, Vec<_>) = schema
                .fields()
                .iter()
                .cloned()
                .zip(columns)
                .filter(|(f, _)| f.name() != "note")
                .map(|(f, c)| match f.name().as_str() {
                    "_source_row" => (
                        Arc::new(arrow::datatypes::Field::new("_source_row", DataType::Int32, false)),
                        arrow::compute::cast(&c, &DataType::Int32).unwrap(),
                    ),
                    _ => (f, c),
                })
                .unzip();
            fields.reverse();
            columns.reverse();
            s.rows = RecordBatch::try_new(Arc::new(arrow::datatypes::Schema::new(fields)), columns).unwrap();
            s
        };
        let originals = [sheet(&forms, "aaaa", 2, false), odd, sheet(&forms, "cccc", 4, false)];
        let staged: Vec<StagedSheet> = originals.iter().map(|o| staging.stage("jn101", o.clone()).unwrap()).collect();
        let combined = staging.combine(&forms, staged).unwrap();
        // Each sheet reads back as it was staged.
        for (s, original) in combined.iter().zip(&originals) {
            assert_eq!(s.rows.load().unwrap(), original.rows, "{}", s.sha256);
        }
        // The file the audit scans has them all in the form's schema, the odd sheet's 备注 NULL.
        let schema = crate::ingest::rows::form_schema(forms.get("JN101").unwrap());
        let odd = sheet(&forms, "bbbb", 3, false).rows;
        let note = schema.index_of("note").unwrap();
        let mut columns = odd.columns().to_vec();
        columns[note] = new_null_array(&DataType::Utf8, 3);
        let odd = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let expected = [sheet(&forms, "aaaa", 2, false).rows, odd, sheet(&forms, "cccc", 4, false).rows];
        let expected = arrow::compute::concat_batches(&schema, &expected).unwrap();
        let audited: Vec<&StagedSheet> = combined.iter().collect();
        match scan_rows(&audited, &schema).unwrap() {
            ScanRows::File(path) => {
                assert_eq!(hold_bytes, 0);
                assert_eq!(whole(&path), expected);
            }
            ScanRows::Batches(rows) => {
                assert_eq!(hold_bytes, usize::MAX);
                assert_eq!(arrow::compute::concat_batches(&schema, &rows).unwrap(), expected);
            }
            ScanRows::Empty => panic!("three sheets scanned as none"),
        }
    }

    /// Within the budget, sheets are held in memory: nothing is written (no spill file, no form's
    /// file), each reads back its own rows (all, some columns, a kept mask's, its 备注), and the
    /// audit scans them as they were staged. Past the budget, the rest go to disk, and the form's
    /// file holds every used sheet's rows in order, the held ones' among them.
    #[test]
    fn sheets_within_the_budget_are_held_and_the_rest_staged_on_disk() {
        let forms = forms();
        let schema = crate::ingest::rows::form_schema(forms.get("JN101").unwrap());
        let specs = [("aaaa", 3, false), ("bbbb", 1, false), ("cccc", 2, true), ("dddd", 4, false), ("eeee", 5, false)];
        let originals: Vec<SheetRows> = specs.iter().map(|(sha, n, r)| sheet(&forms, sha, *n, *r)).collect();
        let used: Vec<&RecordBatch> = originals.iter().filter(|o| o.refusal.is_none()).map(|o| &o.rows).collect();
        let bytes: Vec<usize> = originals.iter().map(|o| o.rows.get_array_memory_size()).collect();
        let stage = |staging: &Staging| -> Vec<StagedSheet> {
            originals.iter().map(|o| staging.stage("jn101", o.clone()).unwrap()).collect()
        };

        // Every sheet held.
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::new(&dir.path().join("p"), bytes.iter().sum()).unwrap();
        let staged = stage(&staging);
        assert!(staged.iter().all(|s| s.rows.is_held()));
        let combined = staging.combine(&forms, staged).unwrap();
        assert!(!dir.path().join("p").join("sheets").exists(), "a held sheet was written");
        assert!(!staging.table_file("jn101").exists(), "held sheets were combined into a file");
        for (s, original) in combined.iter().zip(&originals) {
            assert_eq!(s.rows.load().unwrap(), original.rows, "{}", s.sha256);
            assert_eq!(s.rows.scan, original.refusal.is_none().then_some(Scan::Held), "{}", s.sha256);
            // The columns asked for that the sheet has, in its order.
            let some = s.rows.load_columns(&["note", "_row_key", "no such column"]).unwrap();
            let names: Vec<&str> = some.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
            let order = |n: &str| original.rows.schema().index_of(n).unwrap();
            let mut expected = ["note", "_row_key"];
            expected.sort_by_key(|n| order(n));
            assert_eq!(names, expected);
            assert_eq!(some.num_rows(), original.rows.num_rows());
        }
        let audited: Vec<&StagedSheet> = combined.iter().filter(|s| s.refusal.is_none()).collect();
        let ScanRows::Batches(rows) = scan_rows(&audited, &schema).unwrap() else {
            panic!("held rows scanned from a file")
        };
        assert_eq!(rows.iter().collect::<Vec<_>>(), used);
        assert!(matches!(scan_rows(&[], &schema).unwrap(), ScanRows::Empty));
        let keys: BTreeSet<&str> = ["dddd:表1:5", "aaaa:表1:6"].into_iter().collect();
        assert_eq!(
            notes_of(&combined, &keys).unwrap(),
            HashMap::from([("dddd:表1:5".to_string(), "备注 dddd".to_string())])
        );
        let d = &combined[3];
        let kept = Kept {
            region: "x".into(),
            rows: d.rows.clone(),
            mask: Some(BooleanArray::from(vec![false, true, true, false])),
            kept: 2,
        };
        let keys = kept.load().unwrap().column_by_name("_row_key").unwrap().as_string::<i32>().clone();
        assert_eq!(keys.iter().flatten().collect::<Vec<_>>(), ["dddd:表1:6", "dddd:表1:7"]);

        // A budget for the first two sheets: the rest on disk, each reading back its own rows.
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::new(&dir.path().join("p"), bytes[0] + bytes[1]).unwrap();
        let staged = stage(&staging);
        assert_eq!(staged.iter().map(|s| s.rows.is_held()).collect::<Vec<_>>(), [true, true, false, false, false]);
        let combined = staging.combine(&forms, staged).unwrap();
        for (s, original) in combined.iter().zip(&originals) {
            assert_eq!(s.rows.load().unwrap(), original.rows, "{}", s.sha256);
            let scan = original.refusal.is_none().then(|| Scan::File(staging.table_file("jn101")));
            assert_eq!(s.rows.scan, scan, "{}", s.sha256);
        }
        let audited: Vec<&StagedSheet> = combined.iter().filter(|s| s.refusal.is_none()).collect();
        let ScanRows::File(path) = scan_rows(&audited, &schema).unwrap() else {
            panic!("rows on disk scanned from memory")
        };
        assert_eq!(whole(&path), arrow::compute::concat_batches(&schema, used).unwrap());

        // No budget: nothing held, not even an empty sheet.
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::new(&dir.path().join("p"), 0).unwrap();
        assert!(!staging.stage("jn101", sheet(&forms, "ffff", 0, false)).unwrap().rows.is_held());
    }

    /// Sheets staged in parallel, combined (one refused, one empty, one superseded and dropped)
    /// and read back: each sheet gets exactly its own rows, the form's file holds only the sheets
    /// used, and nothing of the per-sheet files is left.
    #[test]
    fn combined_sheets_read_back_exactly_their_rows() {
        let forms = forms();
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::new(&dir.path().join("p"), 0).unwrap();
        let specs = [("aaaa", 3, false), ("bbbb", 0, false), ("cccc", 2, true), ("dddd", 4, false), ("eeee", 5, false)];
        let originals: Vec<SheetRows> = specs.iter().map(|(sha, n, r)| sheet(&forms, sha, *n, *r)).collect();
        let staged: Vec<StagedSheet> = std::thread::scope(|s| {
            let handles: Vec<_> =
                originals.iter().map(|o| s.spawn(|| staging.stage("jn101", o.clone()).unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // As many spill files as sheets staged at once, at most.
        let spills = std::fs::read_dir(dir.path().join("p").join("sheets").join("jn101")).unwrap().count();
        assert!((1..=specs.len()).contains(&spills), "{spills} spill files");
        // "eeee" is superseded: not handed on.
        let used: Vec<StagedSheet> = staged.into_iter().filter(|s| s.sha256 != "eeee").collect();
        let combined = staging.combine(&forms, used).unwrap();
        assert_eq!(combined.iter().map(|s| s.sha256.as_str()).collect::<Vec<_>>(), ["aaaa", "bbbb", "cccc", "dddd"]);
        for s in &combined {
            let original = originals.iter().find(|o| o.sha256 == s.sha256).unwrap();
            assert_eq!(s.rows.load().unwrap(), original.rows, "{}", s.sha256);
            assert_eq!(s.rows.rows, original.rows.num_rows());
        }
        // The form's file holds the used, unrefused sheets' rows (3 + 0 + 4), nothing else.
        let all = whole(&staging.table_file("jn101"));
        assert_eq!(all.num_rows(), 7);
        let audited: Vec<&StagedSheet> = combined.iter().filter(|s| s.refusal.is_none()).collect();
        let schema = crate::ingest::rows::form_schema(forms.get("JN101").unwrap());
        assert!(matches!(scan_rows(&audited, &schema).unwrap(), ScanRows::File(p) if p == staging.table_file("jn101")));
        // Not with a sheet left out: the file would have rows no sheet audited has.
        assert!(scan_rows(&audited[1..], &schema).is_err());
        // Spliced, it reads back in the form's Arrow schema (its columns' descriptions included).
        assert_eq!(all.schema(), crate::ingest::rows::form_schema(forms.get("JN101").unwrap()));
        // 备注 are found for the keys asked, in whichever sheet holds them.
        let keys: BTreeSet<&str> = ["dddd:表1:5", "aaaa:表1:6", "zzzz:表1:5"].into_iter().collect();
        let notes = notes_of(&combined, &keys).unwrap();
        assert_eq!(notes, HashMap::from([("dddd:表1:5".to_string(), "备注 dddd".to_string())]));
        // A kept mask reads back only the kept rows.
        let d = combined.iter().find(|s| s.sha256 == "dddd").unwrap();
        let kept = Kept {
            region: "x".into(),
            rows: d.rows.clone(),
            mask: Some(BooleanArray::from(vec![true, false, false, true])),
            kept: 2,
        };
        let rows = kept.load().unwrap();
        let keys = rows.column_by_name("_row_key").unwrap().as_string::<i32>();
        assert_eq!(keys.iter().flatten().collect::<Vec<_>>(), ["dddd:表1:5", "dddd:表1:8"]);
        staging.remove();
        assert!(!dir.path().join("p").exists());
    }
}
