//! What a legacy .xls would expand to, counted before calamine opens it.
//!
//! calamine reads every sheet of an .xls when it opens the file, each into a rectangle from its
//! first to its last cell, after reserving room for the cells its DIMENSIONS record declares.
//! Two cells at A1 and IV65536 make a 16-million-cell rectangle; a DIMENSIONS record claiming
//! 4 billion rows makes a reservation no machine has. So the `Workbook` stream is found in the
//! compound file here (a small reader of the CFB format, [MS-CFB]) and its BIFF records are
//! walked once: the bounding box of each sheet's cell records and the declared dimensions are
//! checked against the caps before anything is expanded.

use super::guard::{Limits, Refusal};
use super::message;

/// The signature of a compound file (an .xls, or an encrypted .xlsx).
pub const CFB_MAGIC: [u8; 4] = [0xD0, 0xCF, 0x11, 0xE0];

const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
/// BIFF8 sheets have at most 65,536 rows and 256 columns.
const XLS_ROWS: u64 = 65_536;
const XLS_COLS: u64 = 256;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A compound file's sectors and allocation table.
struct Cfb<'a> {
    bytes: &'a [u8],
    shift: u32,
    fat: Vec<u32>,
}

impl<'a> Cfb<'a> {
    fn parse(bytes: &'a [u8]) -> Option<Cfb<'a>> {
        let shift = u32::from(u16_at(bytes, 0x1E)?);
        if !(7..=16).contains(&shift) {
            return None;
        }
        let mut cfb = Cfb { bytes, shift, fat: Vec::new() };
        let sectors = cfb.sector_count();
        // The FAT's sectors: 109 in the header, the rest in the DIFAT chain.
        let mut fat_sectors: Vec<u32> = (0..109).filter_map(|i| u32_at(bytes, 0x4C + 4 * i)).collect();
        let mut difat = u32_at(bytes, 0x44)?;
        let mut hops = 0;
        while difat < END_OF_CHAIN - 4 && hops <= sectors {
            let s = cfb.sector(difat)?;
            let n = s.len() / 4 - 1;
            fat_sectors.extend((0..n).filter_map(|i| u32_at(s, 4 * i)));
            difat = u32_at(s, 4 * n)?;
            hops += 1;
        }
        let declared = u32_at(bytes, 0x2C)? as usize;
        for &fs in fat_sectors.iter().filter(|&&s| s < END_OF_CHAIN - 4).take(declared) {
            let s = cfb.sector(fs)?;
            cfb.fat.extend((0..s.len() / 4).filter_map(|i| u32_at(s, 4 * i)));
        }
        Some(cfb)
    }

    fn sector_size(&self) -> usize {
        1 << self.shift
    }

    fn sector_count(&self) -> usize {
        self.bytes.len() / self.sector_size()
    }

    fn sector(&self, i: u32) -> Option<&'a [u8]> {
        let size = self.sector_size();
        let start = (i as usize).checked_add(1)?.checked_mul(size)?;
        self.bytes.get(start..start.checked_add(size)?)
    }

    /// The sectors of a chain, in order; `None` if it loops or leaves the file.
    fn chain(&self, start: u32, table: &[u32]) -> Option<Vec<u32>> {
        let mut out = Vec::new();
        let mut s = start;
        while s != END_OF_CHAIN {
            if out.len() > table.len() {
                return None; // a loop
            }
            out.push(s);
            s = *table.get(s as usize)?;
        }
        Some(out)
    }

    /// A stream read from regular sectors, `size` bytes long.
    fn read(&self, start: u32, size: usize) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(size.min(self.bytes.len()));
        for s in self.chain(start, &self.fat)? {
            out.extend_from_slice(self.sector(s)?);
            if out.len() >= size {
                break;
            }
        }
        out.truncate(size);
        Some(out)
    }

    /// The `Workbook` (or older `Book`) stream.
    fn workbook_stream(&self) -> Option<Vec<u8>> {
        let dir = self.read(u32_at(self.bytes, 0x30)?, usize::MAX)?;
        let entries: Vec<&[u8]> = dir.chunks_exact(128).collect();
        let name_of = |e: &[u8]| -> String {
            let len = (u16_at(e, 64).unwrap_or(0) as usize).min(64) / 2;
            let units: Vec<u16> = (0..len.saturating_sub(1)).filter_map(|i| u16_at(e, 2 * i)).collect();
            String::from_utf16_lossy(&units)
        };
        let root = entries.first()?;
        let entry = entries.iter().find(|e| e[66] == 2 && matches!(name_of(e).as_str(), "Workbook" | "Book"))?;
        let size = (u32_at(entry, 120)? as usize).min(self.bytes.len());
        let start = u32_at(entry, 116)?;
        let cutoff = u32_at(self.bytes, 0x38)? as usize;
        if size >= cutoff {
            return self.read(start, size);
        }
        // A small stream lives in the mini stream (64-byte sectors) that the root entry holds.
        let mini_shift = u32::from(u16_at(self.bytes, 0x20)?);
        let mini_size = 1usize << mini_shift.min(12);
        let mini_stream = self.read(u32_at(root, 116)?, (u32_at(root, 120)? as usize).min(self.bytes.len()))?;
        let mini_fat_bytes = self.read(u32_at(self.bytes, 0x3C)?, usize::MAX)?;
        let mini_fat: Vec<u32> =
            mini_fat_bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let mut out = Vec::with_capacity(size);
        for s in self.chain(start, &mini_fat)? {
            let at = (s as usize).checked_mul(mini_size)?;
            out.extend_from_slice(mini_stream.get(at..at + mini_size)?);
            if out.len() >= size {
                break;
            }
        }
        out.truncate(size);
        Some(out)
    }
}

/// One sheet's cell records as counted.
#[derive(Default)]
struct SheetBox {
    rows: (u64, u64),
    cols: (u64, u64),
    any: bool,
}

impl SheetBox {
    fn add(&mut self, r: u64, c0: u64, c1: u64) {
        if self.any {
            self.rows = (self.rows.0.min(r), self.rows.1.max(r));
            self.cols = (self.cols.0.min(c0), self.cols.1.max(c1));
        } else {
            (self.rows, self.cols, self.any) = ((r, r), (c0, c1), true);
        }
    }
    fn size(&self) -> (u64, u64) {
        if self.any { (self.rows.1 - self.rows.0 + 1, self.cols.1 - self.cols.0 + 1) } else { (0, 0) }
    }
}

/// Why calamine must not open a compound file: a chain it would follow without end.
#[derive(Debug, PartialEq, Eq)]
enum Unsafe {
    /// Loops before its stream's length is read: calamine's buffer grows until memory runs out.
    Loops,
    /// Points outside its table or the file: calamine indexes there and panics, or reads on in
    /// zeros (and then may loop).
    Outside,
}

/// Whether calamine can open this compound file without following a chain for ever or outside
/// the file (found by fuzzing: a 5 kB .xls whose directory chain loops made calamine allocate
/// gigabytes). Mirrors calamine 0.38's `Cfb::new` and `get_stream`: the FAT from the header's
/// and the DIFAT chain's sector ids, then the directory chain, the mini stream and mini FAT,
/// and the chain of every other entry as far as its length (mini sectors below 4096 bytes).
/// `Ok` also when calamine would stop with an error of its own (it says what is wrong).
fn chains_end(bytes: &[u8]) -> Result<(), Unsafe> {
    const RESERVED: u32 = 0xFFFF_FFFA;
    const DIFSECT: u32 = 0xFFFF_FFFC;
    let size: usize = match u16_at(bytes, 0x1E) {
        Some(9) => 512,
        Some(12) => 4096,
        _ => return Ok(()), // calamine refuses the header
    };
    if bytes.len() < size || u16_at(bytes, 0x20) != Some(6) {
        return Ok(());
    }
    let maxid = (bytes.len() / size) as u64;
    let to_u32 =
        |b: &[u8]| -> Vec<u32> { b.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect() };
    // A regular sector: its bytes (the last may be short); `None` where calamine errors.
    let sector = |id: u32| -> Option<Result<&[u8], Unsafe>> {
        if u64::from(id) > maxid {
            return None;
        }
        let start = (id as usize + 1) * size;
        let end = bytes.len().min(start + size);
        // A short last sector calamine cannot read as table entries (`to_u32` asserts).
        Some(if start >= bytes.len() || !(end - start).is_multiple_of(4) {
            Err(Unsafe::Outside)
        } else {
            Ok(&bytes[start..end])
        })
    };
    // calamine's get_chain: `Ok(None)` where calamine stops with an error.
    let read = |start: u32, table: &[u32], get: &dyn Fn(u32) -> Option<Result<Vec<u8>, Unsafe>>, len: usize| {
        let (mut id, mut out, mut hops) = (start, Vec::new(), 0usize);
        while id != END_OF_CHAIN {
            let Some(s) = get(id) else { return Ok(None) };
            let s = s?;
            out.extend_from_slice(&s[..s.len().min(len - out.len())]);
            if out.len() >= len {
                break;
            }
            hops += 1;
            if hops > table.len() {
                return Err(Unsafe::Loops);
            }
            id = *table.get(id as usize).ok_or(Unsafe::Outside)?;
        }
        Ok(Some(out))
    };
    let regular = |id: u32| sector(id).map(|r| r.map(<[u8]>::to_vec));
    let mut difat = to_u32(bytes.get(0x4C..512).unwrap_or(&[]));
    let (mut id, mut hops) = (u32_at(bytes, 0x44).unwrap_or(END_OF_CHAIN), 0u64);
    while id < RESERVED {
        hops += 1;
        if hops > maxid + 1 {
            return Ok(());
        }
        let Some(s) = sector(id) else { return Ok(()) };
        difat.extend(to_u32(s?));
        let Some(next) = difat.pop() else { return Ok(()) };
        id = next;
    }
    let mut fat = Vec::new();
    for id in difat.into_iter().filter(|id| *id < DIFSECT) {
        let Some(s) = sector(id) else { return Ok(()) };
        fat.extend(to_u32(s?));
    }
    let Some(dir) = read(u32_at(bytes, 0x30).unwrap_or(END_OF_CHAIN), &fat, &regular, usize::MAX)? else {
        return Ok(());
    };
    let entries: Vec<&[u8]> = dir.chunks_exact(128).collect();
    let len_of = |e: &[u8]| -> usize {
        if size == 512 {
            u32_at(e, 120).unwrap_or(0) as usize
        } else {
            u64::from_le_bytes(e[120..128].try_into().unwrap_or_default()) as usize
        }
    };
    let Some(root) = entries.first() else { return Ok(()) };
    let mini_fat_len = u32_at(bytes, 0x40).unwrap_or(0) as usize;
    let (mini_stream, mini_fat) = if mini_fat_len > 0 {
        let Some(stream) = read(u32_at(root, 116).unwrap_or(END_OF_CHAIN), &fat, &regular, len_of(root))? else {
            return Ok(());
        };
        let len = mini_fat_len.saturating_mul(size);
        let Some(table) = read(u32_at(bytes, 0x3C).unwrap_or(END_OF_CHAIN), &fat, &regular, len)? else {
            return Ok(());
        };
        (stream, to_u32(&table))
    } else {
        (Vec::new(), Vec::new())
    };
    // A mini sector past the mini stream: calamine reads on from the file and may slice backwards.
    let mini = |id: u32| -> Option<Result<Vec<u8>, Unsafe>> {
        let start = id as usize * 64;
        Some(mini_stream.get(start..start + 64).map(<[u8]>::to_vec).ok_or(Unsafe::Outside))
    };
    // The streams calamine may ask for: not the root (its chain is the mini stream, read above),
    // nor empty entries (calamine reads no further than their first sector).
    for e in entries.iter().skip(1).filter(|e| len_of(e) > 0) {
        let (start, len) = (u32_at(e, 116).unwrap_or(END_OF_CHAIN), len_of(e));
        if len < 4096 {
            read(start, &mini_fat, &mini, len)?
        } else {
            read(start, &fat, &regular, len)?
        };
    }
    Ok(())
}

/// Checks an .xls before calamine opens it: its compound file's chains end (calamine follows
/// them unbounded), and its sheets are within the caps. A compound file without a readable
/// `Workbook` stream otherwise passes (calamine says what is wrong with it).
pub fn check(bytes: &[u8], limits: &Limits) -> Result<(), Refusal> {
    if let Err(why) = chains_end(bytes) {
        return Err(Refusal {
            message: message::DAMAGED.to_string(),
            detail: format!("compound file: a chain {why:?}"),
        });
    }
    let Some(stream) = Cfb::parse(bytes).and_then(|c| c.workbook_stream()) else { return Ok(()) };
    let mut at = 0usize;
    let (mut depth, mut sheets, mut total) = (0usize, 0usize, 0u64);
    let mut sheet = SheetBox::default();
    let refuse = |h: u64, w: u64, i: usize, detail: &str| Refusal {
        message: format!("第{i}个工作表过大({h} 行 × {w} 列),已拒收"),
        detail: detail.to_string(),
    };
    while let (Some(typ), Some(len)) = (u16_at(&stream, at), u16_at(&stream, at + 2)) {
        let data = stream.get(at + 4..at + 4 + len as usize).unwrap_or(&[]);
        at += 4 + len as usize;
        match typ {
            0x0809 => depth += 1,
            0x000A => {
                depth = depth.saturating_sub(1);
                if depth == 0 && sheet.any {
                    let (h, w) = sheet.size();
                    total = total.saturating_add(h * w);
                    sheet = SheetBox::default();
                }
            }
            // NAME (a defined name): calamine reads its fixed 14-byte header and a flags byte
            // without checking the length (found by fuzzing: a panic).
            0x0018 if data.len() < 15 => {
                return Err(Refusal {
                    message: message::DAMAGED.to_string(),
                    detail: format!("NAME record of {} bytes", data.len()),
                });
            }
            // MULRK: calamine takes its width as `last column - first column + 1` in 16 bits,
            // unchecked (found by fuzzing: a panic where overflow checks are on).
            0x00BD if data.len() >= 6 => {
                let (c0, c1) = (u16_at(data, 2).unwrap_or(0), u16_at(data, data.len() - 2).unwrap_or(0));
                if c1 < c0 || c1 - c0 == u16::MAX {
                    return Err(Refusal {
                        message: message::DAMAGED.to_string(),
                        detail: format!("MULRK record from column {c0} to column {c1}"),
                    });
                }
                if depth >= 1
                    && let Some(r) = u16_at(data, 0)
                {
                    sheet.add(u64::from(r), u64::from(c0), u64::from(c1));
                }
            }
            _ if depth < 1 => {}
            // DIMENSIONS: calamine reserves room for what it declares.
            0x0200 => {
                let (rows, cols) = match data.len() {
                    10 => (u64::from(u16_at(data, 2).unwrap_or(0)), u64::from(u16_at(data, 6).unwrap_or(0))),
                    14 | 16 => (u64::from(u32_at(data, 4).unwrap_or(0)), u64::from(u16_at(data, 10).unwrap_or(0))),
                    _ => (0, 0),
                };
                if rows > XLS_ROWS || cols > XLS_COLS {
                    return Err(Refusal {
                        message: message::DAMAGED.to_string(),
                        detail: format!("DIMENSIONS record declares {rows} rows × {cols} columns"),
                    });
                }
            }
            // Number, Label, RString, BoolErr, RK, LabelSst, Formula: row, column.
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                if let (Some(r), Some(c)) = (u16_at(data, 0), u16_at(data, 2)) {
                    sheet.add(u64::from(r), u64::from(c), u64::from(c));
                }
            }
            _ => {}
        }
        if depth >= 1 && sheet.any {
            let (h, w) = sheet.size();
            if h * w > limits.max_sheet_cells {
                return Err(refuse(h, w, sheets, "xls cell records"));
            }
            if total.saturating_add(h * w) > limits.max_workbook_cells {
                return Err(Refusal {
                    message: workbook_too_large(limits),
                    detail: format!("xls sheets hold more than {} cells", limits.max_workbook_cells),
                });
            }
        }
        if typ == 0x000A && depth == 0 {
            sheets += 1;
        }
    }
    Ok(())
}

/// The refusal of a workbook whose sheets together exceed the cap.
pub fn workbook_too_large(limits: &Limits) -> String {
    format!("文件各工作表合计单元格过多(超过 {} 个),已拒收", limits.max_workbook_cells)
}
