//! Capture files read without libpcap: pcap (micro- and nanosecond, either byte
//! order, the "modified" Kuznetzov format) and pcapng (several sections, several
//! interfaces each with its own link type, snapshot length and timestamp resolution;
//! EPB, SPB and the obsolete Packet Block), optionally gzip-compressed.
//!
//! libpcap reads a pcapng only while every interface has the link type and snapshot
//! length of the first one, and cannot read gzip at all; tshark reads both. Parsing
//! is pcap-parser's streaming reader over a fixed-size buffer, so memory stays
//! bounded whatever a block's length field claims (see [`MAX_BLOCK`]).

use crate::packet::Micros;
use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{PcapBlockOwned, PcapError};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Initial size of the parsing buffer: many records per refill.
const BUFFER: usize = 1 << 20;
/// The largest block (pcapng) or record (pcap) accepted. libpcap's own limit for a
/// packet is 256 KiB (its largest snaplen); pcapng blocks that are not packets
/// (name resolution, statistics) may be bigger, but not by this much. A longer length
/// field is damage, and must not make us allocate what it claims.
pub const MAX_BLOCK: usize = 16 << 20;

/// One frame, borrowed from the reader's buffer until the next call.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub data: &'a [u8],
    pub ts: Micros,
    /// Length on the wire.
    pub orig_len: u32,
    /// The frame's link type, as a libpcap DLT/LINKTYPE value.
    pub dlt: i32,
}

/// Something wrong in the file at `offset` (of the decompressed data, for gzip).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Byte offset where the bad record or block starts.
    pub offset: u64,
    pub text: String,
    /// Nothing after it can be read (otherwise only this record is skipped).
    pub fatal: bool,
}

/// What [`CaptureFile::next_frame`] found.
#[derive(Debug)]
pub enum Next<'a> {
    Frame(Frame<'a>),
    /// A record that is not a frame could not be used; reading goes on.
    Skipped(Fault),
    /// Reading stops here.
    Fatal(Fault),
    End,
}

/// One pcapng interface (or the pcap file's single one).
#[derive(Debug, Clone, Copy)]
struct Interface {
    dlt: i32,
    snaplen: u32,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp (pcapng `if_tsoffset`).
    offset: i64,
}

/// A capture file being read.
pub struct CaptureFile {
    reader: Box<dyn PcapReaderIterator + Send>,
    /// Bytes of the current block to consume before parsing the next.
    pending: usize,
    section: Section,
    compressed: bool,
    /// Why the gzip stream stopped early, once it has.
    gzip_failed: Option<std::sync::Arc<std::sync::Mutex<Option<String>>>>,
    done: bool,
}

impl std::fmt::Debug for CaptureFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureFile")
            .field("section", &self.section)
            .field("compressed", &self.compressed)
            .finish_non_exhaustive()
    }
}

/// The gzip magic (RFC 1952): decided by content, not by the file's name.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

impl CaptureFile {
    /// Open `path`; the error is the reason in words (the caller names the file).
    pub fn open(path: &Path) -> Result<CaptureFile, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        let mut buffered = BufReader::with_capacity(64 << 10, file);
        let head = buffered.fill_buf().map_err(|e| e.to_string())?;
        let compressed = head.starts_with(&GZIP_MAGIC);
        if compressed {
            // MultiGzDecoder: `cat a.gz b.gz` is one valid gzip stream, as gzip -d says.
            let latch = Latch::new(flate2::read::MultiGzDecoder::new(buffered));
            let failed = std::sync::Arc::clone(&latch.failed);
            let mut file = Self::from_reader(Box::new(latch), true).map_err(|e| {
                match failed.lock().ok().and_then(|f| f.clone()) {
                    Some(why) => {
                        format!("the gzip data is damaged before any capture header ({why})")
                    }
                    None => e,
                }
            })?;
            file.gzip_failed = Some(failed);
            Ok(file)
        } else {
            Self::from_reader(Box::new(buffered), false)
        }
    }

    /// Read a capture from any byte stream (`compressed`: only for the words of errors).
    pub fn from_reader(
        input: Box<dyn Read + Send>,
        compressed: bool,
    ) -> Result<CaptureFile, String> {
        let reader = pcap_parser::create_reader(BUFFER, input).map_err(|e| match e {
            PcapError::HeaderNotRecognized => {
                if compressed {
                    "unknown file format (gzip-compressed, but what it holds is neither pcap nor pcapng)"
                        .to_string()
                } else {
                    "unknown file format".to_string()
                }
            }
            PcapError::Eof | PcapError::Incomplete(_) | PcapError::UnexpectedEof => {
                "the file is too short to hold a capture header".to_string()
            }
            PcapError::ReadError if compressed => {
                "the gzip data is damaged, so no capture header could be read".to_string()
            }
            other => format!("the capture header cannot be read ({other:?})"),
        })?;
        Ok(CaptureFile {
            reader,
            pending: 0,
            section: Section::default(),
            compressed,
            gzip_failed: None,
            done: false,
        })
    }

    /// The file was gzip-compressed (offsets are then of the decompressed data).
    pub fn compressed(&self) -> bool {
        self.compressed
    }

    /// Bytes of the (decompressed) file read up to the start of the next record.
    pub fn offset(&self) -> u64 {
        (self.reader.consumed() + self.pending) as u64
    }

    fn fault(&self, text: String, fatal: bool) -> Fault {
        Fault {
            offset: self.reader.consumed() as u64,
            text,
            fatal,
        }
    }

    /// The link type of the first interface, reading the blocks before the first
    /// frame if need be (None: the file describes no interface before its first
    /// frame, or ends first). Nothing is lost: the next [`CaptureFile::next_frame`] goes on
    /// from there.
    pub fn first_dlt(&mut self) -> Option<i32> {
        if self.section.interfaces.is_empty() {
            let _ = self.read(true, &mut |_, _| true);
        }
        self.section.interfaces.first().map(|i| i.dlt)
    }

    /// The next frame, or why there is none.
    pub fn next_frame(&mut self) -> Next<'_> {
        self.read(false, &mut |_, _| true)
    }

    /// [`CaptureFile::next_frame`], reading past frames for which `keep` (given the link
    /// type and the bytes) is false.
    pub fn next_kept(&mut self, keep: &mut dyn FnMut(i32, &[u8]) -> bool) -> Next<'_> {
        self.read(false, keep)
    }

    /// `prime`: stop (returning End, having consumed nothing of it) at the first frame,
    /// error or interface, so that `next` reads it again.
    fn read(&mut self, prime: bool, keep: &mut dyn FnMut(i32, &[u8]) -> bool) -> Next<'_> {
        if self.done {
            return Next::End;
        }
        if self.pending > 0 {
            self.reader.consume(self.pending);
            self.pending = 0;
        }
        // Each pass either returns, consumes a non-frame block, or refills/grows the
        // buffer; refills end when the input does, so the loop is bounded by the file.
        loop {
            // Where the buffer starts: a frame's bytes are handed out as a range of it,
            // since the parsed block cannot outlive this match (next() does not move it).
            let base = self.reader.data().as_ptr() as usize;
            let step = match self.reader.next() {
                Ok((len, block)) => match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        self.section.big_endian = h.is_bigendian();
                        self.section.interfaces = vec![Interface {
                            dlt: h.network.0,
                            snaplen: h.snaplen,
                            units: if h.is_nanosecond_precision() {
                                1_000_000_000
                            } else {
                                1_000_000
                            },
                            offset: 0,
                        }];
                        Step::Consume(len)
                    }
                    PcapBlockOwned::Legacy(b) => {
                        match self.section.interfaces.first().copied() {
                            Some(iface) => {
                                let ts = micros(u64::from(b.ts_sec), u64::from(b.ts_usec), &iface);
                                Step::Frame(len, span(base, b.data), ts, b.origlen, iface.dlt)
                            }
                            None => Step::Fatal("a record before the file header".into()),
                        }
                    }
                    PcapBlockOwned::NG(block) => self.section.ng_block(len, base, &block),
                },
                Err(PcapError::Eof) => match self.gzip_error() {
                    Some(why) => Step::Fatal(format!(
                        "the gzip data is damaged or cut here ({why}); frames after it cannot be read"
                    )),
                    None => {
                        self.done = true;
                        return Next::End;
                    }
                },
                Err(PcapError::Incomplete(_)) => Step::Refill,
                Err(PcapError::BufferTooSmall) => Step::Grow,
                Err(PcapError::UnexpectedEof) => Step::Fatal(match self.gzip_error() {
                    Some(why) => format!(
                        "the gzip data is damaged or cut inside this record ({why}); frames after it cannot be read"
                    ),
                    None => "the file ends inside this record".to_string(),
                }),
                Err(PcapError::ReadError) => Step::Fatal(if self.compressed {
                    "the gzip data is damaged or cut here; records after it cannot be read"
                        .to_string()
                } else {
                    "the file could not be read here".to_string()
                }),
                Err(e) => Step::Fatal(format!(
                    "this {} is damaged ({}); records after it cannot be read",
                    if self.section.pcapng { "block" } else { "record" },
                    short_error(&e)
                )),
            };
            if prime {
                match step {
                    Step::Consume(len) => {
                        self.reader.consume(len);
                        if !self.section.interfaces.is_empty() {
                            return Next::End;
                        }
                        continue;
                    }
                    Step::Refill => {}
                    _ => return Next::End,
                }
            }
            match step {
                Step::Consume(len) => self.reader.consume(len),
                Step::Refill => {
                    if self.reader.refill().is_err() {
                        return self.fatal("the file could not be read here".into());
                    }
                }
                Step::Grow => {
                    let claimed = self.claimed_len();
                    if claimed > MAX_BLOCK {
                        let what = if self.section.pcapng {
                            format!("the block says it is {claimed} bytes long")
                        } else {
                            format!("the record says its frame has {claimed} bytes")
                        };
                        return self.fatal(format!(
                            "{what}, more than any capture holds ({} MiB at most): the file is damaged here",
                            MAX_BLOCK >> 20
                        ));
                    }
                    // `claimed` is at most MAX_BLOCK, so the buffer stays bounded.
                    let size = claimed + BUFFER;
                    if !self.reader.grow(size) {
                        return self.fatal("the record is too long to be read".into());
                    }
                }
                Step::Skip(len, text) => {
                    let fault = self.fault(text, false);
                    self.reader.consume(len);
                    return Next::Skipped(fault);
                }
                Step::Fatal(text) => return self.fatal(text),
                Step::Frame(len, (start, size), ts, orig_len, dlt) => {
                    let range = start..start.saturating_add(size);
                    // Asked with a borrow that ends here, so that a frame read past can
                    // be consumed (the frame returned below borrows the buffer again).
                    let kept = match self.reader.data().get(range.clone()) {
                        Some(d) => keep(dlt, d),
                        None => return self.fatal("the record could not be located".into()),
                    };
                    if !kept {
                        self.reader.consume(len);
                        continue;
                    }
                    self.pending = len;
                    // The range was checked just above.
                    let data = self.reader.data().get(range).unwrap_or_default();
                    return Next::Frame(Frame {
                        data,
                        ts,
                        orig_len,
                        dlt,
                    });
                }
            }
        }
    }

    fn gzip_error(&self) -> Option<String> {
        self.gzip_failed
            .as_ref()
            .and_then(|f| f.lock().ok().and_then(|g| g.clone()))
    }

    fn fatal(&mut self, text: String) -> Next<'_> {
        self.done = true;
        Next::Fatal(self.fault(text, true))
    }

    /// The length field of the record at the buffer's start, as the file states it.
    fn claimed_len(&self) -> usize {
        let data = self.reader.data();
        let field = |at: usize| -> Option<u32> {
            let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
            Some(if self.section.big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            })
        };
        // pcapng: total block length at 4; pcap: captured length at 8.
        let len = if self.section.pcapng {
            field(4)
        } else {
            field(8)
        };
        len.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX))
    }
}

/// What the blocks read so far say about the rest of the file.
#[derive(Debug, Default)]
struct Section {
    /// Interfaces of the current section (pcap: one, from the file header).
    interfaces: Vec<Interface>,
    /// Per-section byte order, for the blocks pcap-parser does not decode (obsolete PB).
    big_endian: bool,
    pcapng: bool,
}

impl Section {
    fn ng_block(&mut self, len: usize, base: usize, block: &Block<'_>) -> Step {
        self.pcapng = true;
        match block {
            Block::SectionHeader(shb) => {
                // A new section: its interfaces are numbered from 0 again.
                self.interfaces.clear();
                self.big_endian = shb.big_endian();
                Step::Consume(len)
            }
            Block::InterfaceDescription(idb) => {
                let units = ts_units(idb.if_tsresol);
                let Some(units) = units else {
                    return Step::Fatal(format!(
                        "interface {} has a timestamp resolution (if_tsresol {}) that cannot be used",
                        self.interfaces.len(),
                        idb.if_tsresol
                    ));
                };
                self.interfaces.push(Interface {
                    dlt: idb.linktype.0,
                    snaplen: idb.snaplen,
                    units,
                    offset: idb.ts_offset(),
                });
                Step::Consume(len)
            }
            Block::EnhancedPacket(epb) => {
                match self.interface(epb.if_id, len) {
                    Ok(iface) => {
                        let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                        let ts = micros(raw / iface.units, raw % iface.units, &iface);
                        // pcap-parser cuts `data` at caplen; caplen past the block is damage
                        // it has already refused.
                        Step::Frame(
                            len,
                            span(base, epb.packet_data()),
                            ts,
                            epb.origlen,
                            iface.dlt,
                        )
                    }
                    Err(skip) => skip,
                }
            }
            Block::SimplePacket(spb) => match self.interface(0, len) {
                Ok(iface) => {
                    // The SPB has no timestamp nor captured length: the interface's
                    // snaplen cuts it.
                    let d = spb.packet_data();
                    let d = match usize::try_from(iface.snaplen) {
                        Ok(s) if s > 0 && s < d.len() => &d[..s],
                        _ => d,
                    };
                    Step::Frame(len, span(base, d), 0, spb.origlen, iface.dlt)
                }
                Err(skip) => skip,
            },
            // pcap-parser reads an unknown block's type little-endian, whatever the section.
            Block::Unknown(b)
                if (if self.big_endian {
                    b.block_type.swap_bytes()
                } else {
                    b.block_type
                }) == OBSOLETE_PB =>
            {
                let Some(pb) = obsolete_packet(b.data, self.big_endian) else {
                    return Step::Skip(len, "this obsolete Packet Block is too short".into());
                };
                match self.interface(u32::from(pb.if_id), len) {
                    Ok(iface) => {
                        let raw = (u64::from(pb.ts_high) << 32) | u64::from(pb.ts_low);
                        let ts = micros(raw / iface.units, raw % iface.units, &iface);
                        Step::Frame(len, span(base, pb.data), ts, pb.orig_len, iface.dlt)
                    }
                    Err(skip) => skip,
                }
            }
            // Name resolution, statistics, secrets, custom and unknown blocks carry no frame.
            _ => Step::Consume(len),
        }
    }

    fn interface(&self, id: u32, len: usize) -> Result<Interface, Step> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .copied()
            .ok_or_else(|| {
                Step::Skip(
                    len,
                    format!(
                        "this packet block names interface {id}, but its section describes {} interface{}: the frame is skipped",
                        self.interfaces.len(),
                        if self.interfaces.len() == 1 { "" } else { "s" }
                    ),
                )
            })
    }
}

/// libpcap's DLT for a file's LINKTYPE value (its `linktype_to_dlt`): they differ
/// only where BSDs had given old DLT numbers different meanings. libpcap compiles
/// filters and opens `-w` files by DLT.
pub fn dlt_of_linktype(linktype: i32) -> i32 {
    match linktype {
        100 => 11, // ATM_RFC1483
        101 => 12, // RAW (Linux's DLT_RAW)
        102 => 15, // SLIP_BSDOS
        103 => 16, // PPP_BSDOS
        106 => 19, // ATM_CLIP
        other => other,
    }
}

/// pcapng block type 2, the Packet Block of the first drafts (still written by old
/// tools): pcap-parser leaves it as an unknown block, so its body is read here.
const OBSOLETE_PB: u32 = 2;

struct ObsoletePacket<'a> {
    if_id: u16,
    ts_high: u32,
    ts_low: u32,
    orig_len: u32,
    data: &'a [u8],
}

/// Body: interface id (u16), drops (u16), timestamp high and low, captured length,
/// original length, data.
fn obsolete_packet(body: &[u8], big_endian: bool) -> Option<ObsoletePacket<'_>> {
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = body.get(at..at + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let id: [u8; 2] = body.get(0..2)?.try_into().ok()?;
    let if_id = if big_endian {
        u16::from_be_bytes(id)
    } else {
        u16::from_le_bytes(id)
    };
    let caplen = usize::try_from(u32_at(12)?).ok()?;
    let rest = body.get(20..)?;
    Some(ObsoletePacket {
        if_id,
        ts_high: u32_at(4)?,
        ts_low: u32_at(8)?,
        orig_len: u32_at(16)?,
        data: rest.get(..caplen).unwrap_or(rest),
    })
}

/// Turns a read error into the end of the stream, keeping its words: pcap-parser maps
/// every read error to one opaque `ReadError` and drops what it had buffered, while a
/// cut gzip file still holds frames before the cut.
struct Latch<R> {
    inner: R,
    failed: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl<R> Latch<R> {
    fn new(inner: R) -> Latch<R> {
        Latch {
            inner,
            failed: std::sync::Arc::default(),
        }
    }
}

impl<R: Read> Read for Latch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.failed.lock().map(|f| f.is_some()).unwrap_or(true) {
            return Ok(0);
        }
        // Interrupted reads are retried by the decoder's callers; a bounded retry here.
        for _ in 0..16 {
            match self.inner.read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if let Ok(mut f) = self.failed.lock() {
                        *f = Some(e.to_string());
                    }
                    return Ok(0);
                }
                ok => return ok,
            }
        }
        Ok(0)
    }
}

/// What to do after one parse.
enum Step {
    Consume(usize),
    Refill,
    Grow,
    Skip(usize, String),
    Fatal(String),
    /// Block length, the frame's bytes (start and length in the buffer), timestamp,
    /// original length, link type.
    Frame(usize, (usize, usize), Micros, u32, i32),
}

/// `if_tsresol` as units per second: 10^v, or 2^v with the top bit set. Decoded here:
/// pcap-parser 0.17 refuses every power-of-two resolution (it compares the byte with
/// its flag bit still set against 63).
fn ts_units(tsresol: u8) -> Option<u64> {
    let exponent = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(exponent)
    } else {
        1u64.checked_shl(exponent).filter(|_| exponent < 64)
    }
}

/// Where `part`, a slice of the buffer starting at address `base`, lies in it.
fn span(base: usize, part: &[u8]) -> (usize, usize) {
    ((part.as_ptr() as usize).wrapping_sub(base), part.len())
}

/// Seconds plus a fraction in the interface's units, as microseconds since the epoch;
/// saturating, so that a damaged timestamp cannot overflow.
fn micros(secs: u64, fraction: u64, iface: &Interface) -> Micros {
    let secs = secs.saturating_add_signed(iface.offset);
    let frac = u128::from(fraction) * 1_000_000 / u128::from(iface.units.max(1));
    secs.saturating_mul(1_000_000)
        .saturating_add(u64::try_from(frac).unwrap_or(u64::MAX))
}

/// pcap-parser's error without the bytes it carries.
fn short_error(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            format!("{kind:?}")
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests;
