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
use gzip::Latch;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};
use pcapng::Section;
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
    pub kind: FileFault,
    /// Nothing after it can be read (otherwise only this record is skipped).
    pub fatal: bool,
}

/// What is wrong with a record or block of a capture file (the words are labsniff's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileFault {
    /// A pcapng block whose length field says `len`, under the 12 bytes of any block.
    BlockTooShort { len: usize },
    /// A pcap record before the file header.
    RecordBeforeHeader,
    /// The gzip data stopped between records; `reason` is flate2's message (data).
    GzipCut { reason: String },
    /// The gzip data stopped inside a record; `reason` is flate2's message (data).
    GzipCutInsideRecord { reason: String },
    /// The (uncompressed) file ends inside a record.
    EndsInsideRecord,
    /// Reading the gzip data failed.
    GzipUnreadable,
    /// Reading the file failed.
    Unreadable,
    /// pcap-parser refused the record or block (`pcapng`: a block); `parser` is its
    /// error's name (data, e.g. `Verify`).
    Damaged { pcapng: bool, parser: String },
    /// A length field claims `claimed` bytes, more than [`MAX_BLOCK`] (`max`): for
    /// pcapng the block's length, for pcap the frame's.
    TooLong {
        pcapng: bool,
        claimed: usize,
        max: usize,
    },
    /// The parser's buffer could not grow to the record.
    RecordTooLong,
    /// The parsed record lies outside the parser's buffer.
    RecordNotLocated,
    /// A pcapng interface whose `if_tsresol` cannot be used.
    BadTimestampResolution { interface: usize, tsresol: u8 },
    /// An obsolete Packet Block too short for its fields (skipped).
    ObsoletePacketBlockTooShort,
    /// A packet block naming interface `id` of a section that describes `described`
    /// interfaces (skipped).
    UnknownInterface { id: u32, described: usize },
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
    /// Only from [`CaptureFile::open_stream`]: every frame read so far has been handed
    /// out, and the next call reads the input (which may wait for it): a reader of a
    /// pipe that stays open writes out what it has first.
    Pause,
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
    /// Hand out [`Next::Pause`] before each read of the input (a stream).
    pause: bool,
    /// The pause was handed out: the next refill reads.
    paused: bool,
}

impl std::fmt::Debug for CaptureFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureFile")
            .field("section", &self.section)
            .field("compressed", &self.compressed)
            .finish_non_exhaustive()
    }
}

/// Why a capture's header could not be read (the caller names the file or stream).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The operating system's error opening or reading the input.
    #[error("{0}")]
    Io(String),
    /// The input ended before its first byte (an empty file's own words are the
    /// caller's, who knows it is a file).
    #[error("the input ended before its first byte, so it holds no capture header")]
    NothingRead,
    #[error("unknown file format")]
    UnknownFormat,
    #[error("unknown file format (gzip-compressed, but what it holds is neither pcap nor pcapng)")]
    UnknownInsideGzip,
    #[error("the file is too short to hold a capture header")]
    TooShort,
    #[error("the gzip data is damaged, so no capture header could be read")]
    GzipUnreadable,
    /// The gzip decoder's own reason.
    #[error("the gzip data is damaged before any capture header ({0})")]
    GzipDamaged(String),
    /// pcap-parser's error, as it names it.
    #[error("the capture header cannot be read ({0})")]
    HeaderUnreadable(String),
}

/// The gzip magic (RFC 1952): decided by content, not by the file's name.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

impl CaptureFile {
    /// Open `path`; the error is the reason in words (the caller names the file).
    pub fn open(path: &Path) -> Result<CaptureFile, OpenError> {
        let file = File::open(path).map_err(|e| OpenError::Io(e.to_string()))?;
        Self::open_reader(Box::new(file))
    }

    /// Read a capture from a stream (standard input, a pipe, a FIFO, a device) as it
    /// comes: the frames that came with the header are handed out without waiting for
    /// more ([`opening`]), and [`Next::Pause`] comes before each read that may wait.
    pub fn open_stream(input: Box<dyn Read + Send>) -> Result<CaptureFile, OpenError> {
        let mut file = Self::open_reader(input)?;
        file.pause = true;
        Ok(file)
    }

    /// Read a capture from any input, gzip or not, deciding by its first bytes.
    fn open_reader(input: Box<dyn Read + Send>) -> Result<CaptureFile, OpenError> {
        let mut buffered = BufReader::with_capacity(64 << 10, input);
        let head = buffered
            .fill_buf()
            .map_err(|e| OpenError::Io(e.to_string()))?;
        if head.is_empty() {
            return Err(OpenError::NothingRead);
        }
        let compressed = head.starts_with(&GZIP_MAGIC);
        if compressed {
            // MultiGzDecoder: `cat a.gz b.gz` is one valid gzip stream, as gzip -d says.
            let latch = Latch::new(flate2::read::MultiGzDecoder::new(buffered));
            let failed = std::sync::Arc::clone(&latch.failed);
            let mut file = Self::from_reader(Box::new(opening::Opening::new(latch)), true)
                .map_err(|e| match failed.lock().ok().and_then(|f| f.clone()) {
                    Some(why) => OpenError::GzipDamaged(why),
                    None => e,
                })?;
            file.gzip_failed = Some(failed);
            Ok(file)
        } else {
            Self::from_reader(Box::new(opening::Opening::new(buffered)), false)
        }
    }

    /// Read a capture from any byte stream (`compressed`: only for the words of errors).
    pub fn from_reader(
        input: Box<dyn Read + Send>,
        compressed: bool,
    ) -> Result<CaptureFile, OpenError> {
        let reader = pcap_parser::create_reader(BUFFER, input).map_err(|e| match e {
            PcapError::HeaderNotRecognized if compressed => OpenError::UnknownInsideGzip,
            PcapError::HeaderNotRecognized => OpenError::UnknownFormat,
            PcapError::Eof | PcapError::Incomplete(_) | PcapError::UnexpectedEof => {
                OpenError::TooShort
            }
            PcapError::ReadError if compressed => OpenError::GzipUnreadable,
            other => OpenError::HeaderUnreadable(format!("{other:?}")),
        })?;
        Ok(CaptureFile {
            reader,
            pending: 0,
            section: Section::default(),
            compressed,
            gzip_failed: None,
            done: false,
            pause: false,
            paused: false,
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

    fn fault(&self, kind: FileFault, fatal: bool) -> Fault {
        Fault {
            offset: self.reader.consumed() as u64,
            kind,
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

    /// Past `len` bytes of the buffer, without moving what follows: the parser's
    /// `consume` moves the unread rest of its 1 MiB buffer to the front each time half
    /// of it has been read, which copied the whole file once more (memmove: half of
    /// labsniff's L1 write misses on a big capture). [`PcapReaderIterator::refill`]
    /// moves the rest to the front anyway, and then it is only the part of one record.
    fn consume(&mut self, len: usize) {
        self.reader.consume_noshift(len);
    }

    /// `prime`: stop (returning End, having consumed nothing of it) at the first frame,
    /// error or interface, so that `next` reads it again.
    fn read(&mut self, prime: bool, keep: &mut dyn FnMut(i32, &[u8]) -> bool) -> Next<'_> {
        if self.done {
            return Next::End;
        }
        if self.pending > 0 {
            self.consume(self.pending);
            self.pending = 0;
        }
        if !prime {
            if let Some(frame) = self.pcap_record_at_front(keep) {
                return self.hand_out(Found::Frame(frame));
            }
        }
        let found = self.find(prime, keep);
        self.hand_out(found)
    }

    /// The common case of a pcap file, read without pcap-parser: after the file header,
    /// a whole record at the front of the buffer (16-byte header, then the captured
    /// bytes), past those `keep` refuses. `None` for anything else (pcapng, the
    /// "modified" format, a record not wholly in the buffer, the end), which
    /// [`Self::find`] then reads the one way it always did. The fields are read as
    /// pcap-parser's `parse_pcap_frame` reads them, in the header's byte order.
    fn pcap_record_at_front(
        &mut self,
        keep: &mut dyn FnMut(i32, &[u8]) -> bool,
    ) -> Option<Located> {
        const HEADER: usize = 16;
        let iface = self.section.pcap_records?;
        let big_endian = self.section.big_endian;
        // Bounded by the buffer: each pass consumes one whole record.
        loop {
            let data = self.reader.data();
            let header: &[u8; HEADER] = data.get(..HEADER)?.try_into().ok()?;
            let field = |at: usize| {
                let b = [header[at], header[at + 1], header[at + 2], header[at + 3]];
                if big_endian {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                }
            };
            let len = HEADER.checked_add(usize::try_from(field(8)).ok()?)?;
            let bytes = data.get(HEADER..len)?;
            if !keep(iface.dlt, bytes) {
                self.consume(len);
                continue;
            }
            return Some(Located {
                len,
                range: HEADER..len,
                ts: micros(u64::from(field(0)), u64::from(field(4)), &iface),
                orig_len: field(12),
                dlt: iface.dlt,
            });
        }
    }

    /// Parse and act until there is something to hand out (see [`Self::read`]).
    fn find(&mut self, prime: bool, keep: &mut dyn FnMut(i32, &[u8]) -> bool) -> Found {
        // Each pass either returns, consumes a non-frame block, or refills/grows the
        // buffer; refills end when the input does, so the loop is bounded by the file.
        loop {
            if let Some(len) = self.short_block() {
                return Found::Fatal(FileFault::BlockTooShort { len });
            }
            let step = self.parse();
            let found = if prime {
                self.prime_step(step)
            } else {
                self.take(step, keep)
            };
            if let Some(found) = found {
                return found;
            }
        }
    }

    /// Parse the record or block at the front of the buffer: what to do about it.
    fn parse(&mut self) -> Step {
        // Where the buffer starts: a frame's bytes are handed out as a range of it,
        // since the parsed block cannot outlive this match (next() does not move it).
        let base = self.reader.data().as_ptr() as usize;
        match self.reader.next() {
            Ok((len, block)) => match block {
                PcapBlockOwned::LegacyHeader(h) => {
                    self.section.pcap_header(&h);
                    Step::Consume(len)
                }
                PcapBlockOwned::Legacy(b) => self.section.pcap_record(len, base, &b),
                PcapBlockOwned::NG(block) => self.section.ng_block(len, base, &block),
            },
            Err(PcapError::Eof) => match self.gzip_error() {
                Some(reason) => Step::Fatal(FileFault::GzipCut { reason }),
                None => {
                    self.done = true;
                    Step::End
                }
            },
            Err(PcapError::Incomplete(_)) => Step::Refill,
            Err(PcapError::BufferTooSmall) => Step::Grow,
            Err(PcapError::UnexpectedEof) => Step::Fatal(match self.gzip_error() {
                Some(reason) => FileFault::GzipCutInsideRecord { reason },
                None => FileFault::EndsInsideRecord,
            }),
            Err(PcapError::ReadError) => Step::Fatal(if self.compressed {
                FileFault::GzipUnreadable
            } else {
                FileFault::Unreadable
            }),
            Err(e) => Step::Fatal(FileFault::Damaged {
                pcapng: self.section.pcapng,
                parser: short_error(&e),
            }),
        }
    }

    /// Priming ([`Self::first_dlt`]): past the blocks before the first interface
    /// description, which is consumed; End there, or at anything else (a frame, an
    /// error), consuming nothing of it. `None`: parse on.
    fn prime_step(&mut self, step: Step) -> Option<Found> {
        match step {
            Step::Consume(len) => {
                self.consume(len);
                (!self.section.interfaces.is_empty()).then_some(Found::End)
            }
            // No pause here: priming must find the interface before it returns.
            Step::Refill => self.refill(),
            _ => Some(Found::End),
        }
    }

    /// Act on one parse: consume, refill or grow (`None`: parse on), or what to hand
    /// out. A frame goes through `keep` first.
    fn take(&mut self, step: Step, keep: &mut dyn FnMut(i32, &[u8]) -> bool) -> Option<Found> {
        match step {
            Step::Consume(len) => {
                self.consume(len);
                None
            }
            Step::Refill => self.refill_or_pause(),
            Step::Grow => self.grow().map(Found::Fatal),
            Step::Skip(len, kind) => {
                let fault = self.fault(kind, false);
                self.consume(len);
                Some(Found::Skipped(fault))
            }
            Step::Fatal(kind) => Some(Found::Fatal(kind)),
            Step::End => Some(Found::End),
            Step::Frame(len, (start, size), ts, orig_len, dlt) => self.offer(
                Located {
                    len,
                    range: start..start.saturating_add(size),
                    ts,
                    orig_len,
                    dlt,
                },
                keep,
            ),
        }
    }

    /// [`Self::refill`], after a pause for a stream (see [`Next::Pause`]).
    fn refill_or_pause(&mut self) -> Option<Found> {
        if self.pause && !self.paused {
            self.paused = true;
            return Some(Found::Pause);
        }
        self.paused = false;
        self.refill()
    }

    /// More of the input into the buffer (`None`: parse on).
    fn refill(&mut self) -> Option<Found> {
        if self.reader.refill().is_err() {
            return Some(Found::Fatal(FileFault::Unreadable));
        }
        None
    }

    /// The buffer grown to the record at its front, which its length field says does
    /// not fit; the fault when that length is past [`MAX_BLOCK`] or the buffer cannot
    /// grow.
    fn grow(&mut self) -> Option<FileFault> {
        let claimed = self.claimed_len();
        if claimed > MAX_BLOCK {
            return Some(FileFault::TooLong {
                pcapng: self.section.pcapng,
                claimed,
                max: MAX_BLOCK,
            });
        }
        // `claimed` is at most MAX_BLOCK, so the buffer stays bounded.
        let size = claimed + BUFFER;
        if !self.reader.grow(size) {
            return Some(FileFault::RecordTooLong);
        }
        None
    }

    /// A frame parsed: asked of `keep`, and consumed when it is read past (`None`:
    /// parse on).
    fn offer(&mut self, frame: Located, keep: &mut dyn FnMut(i32, &[u8]) -> bool) -> Option<Found> {
        // Asked with a borrow that ends here, so that a frame read past can
        // be consumed (the frame returned by hand_out borrows the buffer again).
        let kept = match self.reader.data().get(frame.range.clone()) {
            Some(d) => keep(frame.dlt, d),
            None => return Some(Found::Fatal(FileFault::RecordNotLocated)),
        };
        if !kept {
            self.consume(frame.len);
            return None;
        }
        Some(Found::Frame(frame))
    }

    /// What was found, as [`Next`]: a frame borrows the buffer (and is consumed on the
    /// next read); a fatal fault ends the reading.
    fn hand_out(&mut self, found: Found) -> Next<'_> {
        match found {
            Found::Frame(frame) => {
                self.pending = frame.len;
                // The range was checked in offer().
                let data = self.reader.data().get(frame.range).unwrap_or_default();
                Next::Frame(Frame {
                    data,
                    ts: frame.ts,
                    orig_len: frame.orig_len,
                    dlt: frame.dlt,
                })
            }
            Found::Skipped(fault) => Next::Skipped(fault),
            Found::Fatal(kind) => self.fatal(kind),
            Found::End => Next::End,
            Found::Pause => Next::Pause,
        }
    }

    fn gzip_error(&self) -> Option<String> {
        self.gzip_failed
            .as_ref()
            .and_then(|f| f.lock().ok().and_then(|g| g.clone()))
    }

    fn fatal(&mut self, kind: FileFault) -> Next<'_> {
        self.done = true;
        Next::Fatal(self.fault(kind, true))
    }

    /// The length field of the record at the buffer's start, as the file states it.
    /// The length of the pcapng block at the front of the buffer when it is under 12
    /// bytes. Checked before pcap-parser sees the block: for a block type whose own
    /// header is shorter (a Process Information Block's is 4), pcap-parser 0.17
    /// computes `length - 12` and overflows (a panic with overflow checks on, a
    /// 4 GiB "incomplete" read without them; found by the capfile fuzz target).
    /// A Section Header Block is left to pcap-parser: its byte order comes with it.
    fn short_block(&self) -> Option<usize> {
        const SHB: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
        let data = self.reader.data();
        if !self.section.pcapng || data.len() < 8 || data[..4] == SHB {
            return None;
        }
        Some(self.claimed_len()).filter(|&len| len < 12)
    }

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

/// What to do after one parse.
enum Step {
    Consume(usize),
    Refill,
    Grow,
    Skip(usize, FileFault),
    Fatal(FileFault),
    /// The input ended where a record would start (nothing more to read).
    End,
    /// Block length, the frame's bytes (start and length in the buffer), timestamp,
    /// original length, link type.
    Frame(usize, (usize, usize), Micros, u32, i32),
}

/// What one read found, before it is handed out as [`Next`]: no borrow of the buffer,
/// so that it can leave the reading loop.
enum Found {
    Frame(Located),
    Skipped(Fault),
    Fatal(FileFault),
    End,
    Pause,
}

/// A frame kept, by where it lies in the buffer.
struct Located {
    /// Its block's (or record's) length, consumed on the next read.
    len: usize,
    range: std::ops::Range<usize>,
    ts: Micros,
    orig_len: u32,
    dlt: i32,
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
    // The two usual resolutions without a 128-bit division (one per frame).
    let frac = match iface.units {
        1_000_000 => u128::from(fraction),
        1_000_000_000 => u128::from(fraction / 1000),
        units => u128::from(fraction) * 1_000_000 / u128::from(units.max(1)),
    };
    secs.saturating_mul(1_000_000)
        .saturating_add(u64::try_from(frac).unwrap_or(u64::MAX))
}

/// pcap-parser's error without the bytes it carries: its name (data for the words).
fn short_error(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            format!("{kind:?}")
        }
        other => format!("{other:?}"),
    }
}

mod gzip;
mod opening;
mod pcap;
mod pcapng;

#[cfg(test)]
mod tests;
