//! libpcap, loaded at run time: the subset of the `pcap` crate's API that labsniff and
//! labnet use (live capture, BPF filters, savefiles, injection), with the same names, so
//! that a program linked with this crate starts, reads capture files and grades on a
//! machine without libpcap, and says what to install when it is asked to capture.
//!
//! The `pcap` crate links libpcap when the program is built, so the dynamic loader
//! refuses to start the program where libpcap is missing (a Python wheel installed
//! with pip, issue 25). Here the library is opened with `dlopen` on first use
//! ([`ffi::lib`], trying the names Linux distributions use), and every call that needs
//! it returns [`Error::Unavailable`] when it cannot be loaded.
//!
//! Panic contract: nothing here panics on what libpcap returns; every pointer libpcap
//! hands back is checked for null before use.
#![allow(unsafe_code)]

mod ffi;

use ffi::{BpfProgramC, DumperT, PcapT, PktHdr};
use libc::{c_char, c_int};
use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::{Arc, Weak};

/// The names tried, in order, when libpcap is loaded.
pub use ffi::NAMES as LIBRARY_NAMES;

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// libpcap's own words.
    PcapError(String),
    /// The read timeout expired with no packet (live).
    TimeoutExpired,
    /// End of a file, or `pcap_breakloop()`.
    NoMorePackets,
    /// libpcap could not be loaded (the reason names what was tried).
    Unavailable(String),
    /// A string given to libpcap holds a NUL byte.
    InvalidString,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::PcapError(s) => write!(f, "libpcap error: {s}"),
            Error::TimeoutExpired => f.write_str("timeout expired while reading"),
            Error::NoMorePackets => f.write_str("no more packets to read"),
            Error::Unavailable(why) => f.write_str(why),
            Error::InvalidString => f.write_str("a string given to libpcap holds a NUL byte"),
        }
    }
}

impl std::error::Error for Error {}

/// Whether libpcap can be loaded here (and the reason when not).
pub fn available() -> Result<&'static str, Error> {
    lib().map(|l| l.name)
}

fn lib() -> Result<&'static ffi::Lib, Error> {
    ffi::lib().map_err(Error::Unavailable)
}

fn c_string(s: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| Error::InvalidString)
}

fn path_string(path: &Path) -> Result<CString, Error> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::InvalidString)
}

/// A link-layer header type (DLT_ value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Linktype(pub i32);

impl Linktype {
    /// libpcap's name for the type (`EN10MB`, `LINUX_SLL`, ...); without libpcap, the
    /// names of the common types from a table.
    pub fn get_name(&self) -> Result<String, Error> {
        if let Ok(l) = lib() {
            // SAFETY: pcap_datalink_val_to_name takes any int and returns either NULL
            // or a pointer to a static NUL-terminated string of libpcap's table.
            let name = unsafe { (l.datalink_val_to_name)(self.0) };
            if !name.is_null() {
                // SAFETY: non-null, static, NUL-terminated (see above).
                let s = unsafe { CStr::from_ptr(name) };
                return Ok(s.to_string_lossy().into_owned());
            }
            return Err(Error::PcapError(format!(
                "no name for link type {}",
                self.0
            )));
        }
        known_name(self.0)
            .map(str::to_string)
            .ok_or_else(|| Error::PcapError(format!("no name for link type {}", self.0)))
    }
}

/// Names of common link types, as libpcap gives them (pcap/dlt.h).
fn known_name(dlt: i32) -> Option<&'static str> {
    Some(match dlt {
        0 => "NULL",
        1 => "EN10MB",
        7 => "ARCNET",
        9 => "PPP",
        10 => "FDDI",
        12 | 14 => "RAW",
        50 => "PPP_SERIAL",
        101 => "RAW",
        105 => "IEEE802_11",
        108 => "LOOP",
        113 => "LINUX_SLL",
        119 => "PRISM_HEADER",
        127 => "IEEE802_11_RADIO",
        228 => "IPV4",
        229 => "IPV6",
        239 => "NFLOG",
        276 => "LINUX_SLL2",
        _ => return None,
    })
}

/// A packet's header, laid out as libpcap's `struct pcap_pkthdr`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PacketHeader {
    pub ts: libc::timeval,
    pub caplen: u32,
    pub len: u32,
}

impl std::fmt::Debug for PacketHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketHeader")
            .field("ts", &(self.ts.tv_sec, self.ts.tv_usec))
            .field("caplen", &self.caplen)
            .field("len", &self.len)
            .finish()
    }
}

/// A packet: its header and the captured bytes.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    pub header: &'a PacketHeader,
    pub data: &'a [u8],
}

impl<'a> Packet<'a> {
    pub fn new(header: &'a PacketHeader, data: &'a [u8]) -> Packet<'a> {
        Packet { header, data }
    }
}

/// `pcap_stats()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stat {
    pub received: u32,
    pub dropped: u32,
    pub if_dropped: u32,
}

/// `pcap_setdirection()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    InOut,
    In,
    Out,
}

/// Timestamp precision of a file opened for reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Micro,
    Nano,
}

/// Capture states, as in the `pcap` crate.
#[derive(Debug)]
pub enum Inactive {}
#[derive(Debug)]
pub enum Active {}
#[derive(Debug)]
pub enum Dead {}
#[derive(Debug)]
pub enum Offline {}

/// The states that can read packets or hold filters.
pub trait Activated {}
impl Activated for Active {}
impl Activated for Offline {}
impl Activated for Dead {}

/// An open `pcap_t`, closed when the last owner goes.
#[derive(Debug)]
struct Handle {
    ptr: NonNull<PcapT>,
}

// SAFETY: a pcap_t may be used from any thread, one at a time. Every use but
// pcap_breakloop goes through `&mut Capture` (or `&Capture` for reads of fixed fields,
// with `Capture` not `Sync`), so one thread at a time; pcap_breakloop is documented as
// callable from another thread while the owner reads (it sets a flag and wakes the
// read), which is the only thing `BreakLoop` does with its reference.
unsafe impl Send for Handle {}
// SAFETY: see `Send` above: the only access through a shared `Handle` from a second
// thread is pcap_breakloop.
unsafe impl Sync for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Ok(l) = lib() {
            // SAFETY: the pointer came from a successful pcap_create/open_* and is
            // closed exactly once, here, when the last Arc (capture, savefile or an
            // upgraded BreakLoop) goes.
            unsafe { (l.close)(self.ptr.as_ptr()) }
        }
    }
}

/// A libpcap capture (live, a file, or "dead" for compiling filters and writing files).
#[derive(Debug)]
pub struct Capture<T> {
    handle: Arc<Handle>,
    /// The state; `Cell` makes the capture `Send` but not `Sync`.
    _state: PhantomData<(T, std::cell::Cell<()>)>,
}

impl<T> Capture<T> {
    fn from_ptr(ptr: *mut PcapT) -> Option<Capture<T>> {
        NonNull::new(ptr).map(|ptr| Capture {
            handle: Arc::new(Handle { ptr }),
            _state: PhantomData,
        })
    }

    fn ptr(&self) -> *mut PcapT {
        self.handle.ptr.as_ptr()
    }

    /// libpcap's last error for this capture.
    fn last_error(&self, l: &ffi::Lib) -> String {
        // SAFETY: the handle is open; pcap_geterr returns a pointer into the pcap_t's
        // own NUL-terminated error buffer, read at once, before any other call.
        let p = unsafe { (l.geterr)(self.ptr()) };
        if p.is_null() {
            return String::new();
        }
        // SAFETY: non-null, NUL-terminated (see above).
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    /// `Ok` for a non-negative status, else the error's words (pcap_geterr, or the
    /// status's text when the buffer is empty).
    fn check(&self, l: &ffi::Lib, status: c_int) -> Result<(), Error> {
        if status >= 0 {
            return Ok(());
        }
        let mut text = self.last_error(l);
        if text.is_empty() {
            // SAFETY: pcap_statustostr takes any int and returns a static or
            // thread-local NUL-terminated string.
            let s = unsafe { (l.statustostr)(status) };
            if !s.is_null() {
                // SAFETY: non-null, NUL-terminated (see above).
                text = unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned();
            }
        }
        Err(Error::PcapError(text))
    }
}

/// An error buffer for the calls that take one.
fn errbuf() -> [c_char; ffi::ERRBUF_SIZE] {
    [0; ffi::ERRBUF_SIZE]
}

fn errbuf_text(buf: &[c_char; ffi::ERRBUF_SIZE]) -> String {
    // The buffer is zeroed first and libpcap writes a NUL-terminated string of at
    // most ERRBUF_SIZE bytes into it; reading stops at the first NUL or the end.
    let bytes: Vec<u8> = buf
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Capture<Inactive> {
    /// `pcap_create()` on `device` (activated by [`Capture::open`]).
    pub fn from_device(device: &str) -> Result<Capture<Inactive>, Error> {
        let l = lib()?;
        let name = c_string(device)?;
        let mut buf = errbuf();
        // SAFETY: `name` is NUL-terminated and outlives the call; `buf` has
        // ERRBUF_SIZE bytes as pcap_create requires.
        let ptr = unsafe { (l.create)(name.as_ptr(), buf.as_mut_ptr()) };
        Capture::from_ptr(ptr).ok_or_else(|| Error::PcapError(errbuf_text(&buf)))
    }

    /// Settings before activation; libpcap refuses them only on an active handle, which
    /// this state rules out, so their status is not looked at.
    fn set(self, f: unsafe extern "C" fn(*mut PcapT, c_int) -> c_int, value: c_int) -> Self {
        // SAFETY: the handle is open and not yet activated; the setter only stores
        // the value in the pcap_t.
        unsafe { f(self.ptr(), value) };
        self
    }

    pub fn snaplen(self, n: i32) -> Self {
        match lib() {
            Ok(l) => self.set(l.set_snaplen, n),
            Err(_) => self,
        }
    }

    pub fn promisc(self, on: bool) -> Self {
        match lib() {
            Ok(l) => self.set(l.set_promisc, c_int::from(on)),
            Err(_) => self,
        }
    }

    pub fn timeout(self, ms: i32) -> Self {
        match lib() {
            Ok(l) => self.set(l.set_timeout, ms),
            Err(_) => self,
        }
    }

    pub fn buffer_size(self, bytes: i32) -> Self {
        match lib() {
            Ok(l) => self.set(l.set_buffer_size, bytes),
            Err(_) => self,
        }
    }

    pub fn immediate_mode(self, on: bool) -> Self {
        match lib() {
            Ok(l) => self.set(l.set_immediate_mode, c_int::from(on)),
            Err(_) => self,
        }
    }

    /// `pcap_activate()`: warnings (a positive status) are not errors.
    pub fn open(self) -> Result<Capture<Active>, Error> {
        let l = lib()?;
        // SAFETY: the handle is open and not yet activated.
        let status = unsafe { (l.activate)(self.ptr()) };
        self.check(l, status)?;
        Ok(Capture {
            handle: self.handle,
            _state: PhantomData,
        })
    }
}

impl Capture<Dead> {
    /// `pcap_open_dead()`: for compiling filters and writing files of `linktype`.
    pub fn dead(linktype: Linktype) -> Result<Capture<Dead>, Error> {
        let l = lib()?;
        // SAFETY: pcap_open_dead takes any link type and snapshot length.
        let ptr = unsafe { (l.open_dead)(linktype.0, 65_535) };
        Capture::from_ptr(ptr).ok_or_else(|| Error::PcapError("pcap_open_dead failed".to_string()))
    }
}

impl Capture<Offline> {
    /// A capture file, read by libpcap with timestamps of `precision`.
    pub fn from_file_with_precision(
        path: impl AsRef<Path>,
        precision: Precision,
    ) -> Result<Capture<Offline>, Error> {
        let l = lib()?;
        let name = path_string(path.as_ref())?;
        let p = match precision {
            Precision::Micro => 0,
            Precision::Nano => ffi::TSTAMP_PRECISION_NANO,
        };
        let mut buf = errbuf();
        // SAFETY: `name` is NUL-terminated and outlives the call; `buf` has
        // ERRBUF_SIZE bytes.
        let ptr =
            unsafe { (l.open_offline_with_tstamp_precision)(name.as_ptr(), p, buf.as_mut_ptr()) };
        Capture::from_ptr(ptr).ok_or_else(|| Error::PcapError(errbuf_text(&buf)))
    }

    pub fn from_file(path: impl AsRef<Path>) -> Result<Capture<Offline>, Error> {
        Self::from_file_with_precision(path, Precision::Micro)
    }
}

impl<T: Activated> Capture<T> {
    /// The next packet (valid until the next call).
    pub fn next_packet(&mut self) -> Result<Packet<'_>, Error> {
        let l = lib()?;
        let mut header: *mut PktHdr = std::ptr::null_mut();
        let mut data: *const u8 = std::ptr::null();
        // SAFETY: the handle is open and used by this thread only (`&mut self`); the
        // two out-pointers are valid for writes.
        let status = unsafe { (l.next_ex)(self.ptr(), &mut header, &mut data) };
        match status {
            1 => {}
            0 => return Err(Error::TimeoutExpired),
            ffi::ERROR_BREAK => return Err(Error::NoMorePackets),
            other => {
                self.check(l, other.min(-1))?;
                return Err(Error::PcapError(format!("pcap_next_ex returned {other}")));
            }
        }
        if header.is_null() || data.is_null() {
            return Err(Error::PcapError("pcap_next_ex gave no packet".to_string()));
        }
        // SAFETY: on status 1 libpcap sets both pointers to its buffers, valid until
        // the next call on this handle, which `&mut self` (borrowed by the returned
        // packet) rules out; PacketHeader has PktHdr's layout (both repr(C), same
        // fields); `data` holds `caplen` bytes.
        let header: &PacketHeader = unsafe { &*(header as *const PacketHeader) };
        // SAFETY: see above.
        let data = unsafe { std::slice::from_raw_parts(data, header.caplen as usize) };
        Ok(Packet { header, data })
    }

    /// Compile `program` and make it this capture's filter.
    pub fn filter(&mut self, program: &str, optimize: bool) -> Result<(), Error> {
        let mut compiled = self.compile(program, optimize)?;
        let l = lib()?;
        // SAFETY: the handle is open; the program was compiled for it and outlives the
        // call (libpcap copies it).
        let status = unsafe { (l.setfilter)(self.ptr(), &mut compiled.prog) };
        self.check(l, status)
    }

    /// `pcap_compile()` for this capture's link type.
    pub fn compile(&self, program: &str, optimize: bool) -> Result<BpfProgram, Error> {
        let l = lib()?;
        let text = c_string(program)?;
        let mut prog = BpfProgramC {
            bf_len: 0,
            bf_insns: std::ptr::null_mut(),
        };
        // SAFETY: the handle is open; `text` is NUL-terminated and outlives the call;
        // `prog` is valid for writes.
        let status = unsafe {
            (l.compile)(
                self.ptr(),
                &mut prog,
                text.as_ptr(),
                c_int::from(optimize),
                ffi::NETMASK_UNKNOWN,
            )
        };
        self.check(l, status)?;
        Ok(BpfProgram { prog })
    }

    pub fn get_datalink(&self) -> Linktype {
        match lib() {
            // SAFETY: the handle is open; pcap_datalink reads a field.
            Ok(l) => Linktype(unsafe { (l.datalink)(self.ptr()) }),
            Err(_) => Linktype(-1),
        }
    }

    /// A savefile of this capture's link type at `path`.
    pub fn savefile(&self, path: impl AsRef<Path>) -> Result<Savefile, Error> {
        let l = lib()?;
        let name = path_string(path.as_ref())?;
        // SAFETY: the handle is open; `name` is NUL-terminated and outlives the call.
        let dumper = unsafe { (l.dump_open)(self.ptr(), name.as_ptr()) };
        match NonNull::new(dumper) {
            Some(dumper) => Ok(Savefile {
                dumper,
                _handle: Arc::clone(&self.handle),
            }),
            None => Err(Error::PcapError(self.last_error(l))),
        }
    }
}

impl Capture<Active> {
    pub fn stats(&mut self) -> Result<Stat, Error> {
        let l = lib()?;
        let mut s = ffi::StatC::default();
        // SAFETY: the handle is open; `s` is valid for writes of struct pcap_stat's
        // first three fields, which is all Linux's libpcap writes.
        let status = unsafe { (l.stats)(self.ptr(), &mut s) };
        self.check(l, status)?;
        Ok(Stat {
            received: s.ps_recv,
            dropped: s.ps_drop,
            if_dropped: s.ps_ifdrop,
        })
    }

    pub fn direction(&self, d: Direction) -> Result<(), Error> {
        let l = lib()?;
        let code = match d {
            Direction::InOut => 0,
            Direction::In => 1,
            Direction::Out => 2,
        };
        // SAFETY: the handle is open and active.
        let status = unsafe { (l.setdirection)(self.ptr(), code) };
        self.check(l, status)
    }

    pub fn sendpacket(&mut self, data: &[u8]) -> Result<(), Error> {
        let l = lib()?;
        let len = c_int::try_from(data.len())
            .map_err(|_| Error::PcapError("packet too long".to_string()))?;
        // SAFETY: the handle is open and active; `data` holds `len` bytes.
        let status = unsafe { (l.sendpacket)(self.ptr(), data.as_ptr(), len) };
        self.check(l, status)
    }

    /// A handle that wakes this capture's blocked read from another thread.
    pub fn breakloop_handle(&self) -> BreakLoop {
        BreakLoop {
            handle: Arc::downgrade(&self.handle),
        }
    }
}

/// Wakes a capture's read from another thread (`pcap_breakloop`); does nothing once
/// the capture is closed.
#[derive(Debug, Clone)]
pub struct BreakLoop {
    handle: Weak<Handle>,
}

impl BreakLoop {
    pub fn breakloop(&self) {
        let (Some(handle), Ok(l)) = (self.handle.upgrade(), lib()) else {
            return;
        };
        // SAFETY: the upgraded Arc keeps the pcap_t open for the call (it is closed
        // only when the last Arc goes); pcap_breakloop may be called from a thread
        // other than the reader's.
        unsafe { (l.breakloop)(handle.ptr.as_ptr()) }
    }
}

/// A compiled BPF program, freed when dropped.
#[derive(Debug)]
pub struct BpfProgram {
    prog: BpfProgramC,
}

// SAFETY: the program is plain memory owned by this value (libpcap allocated the
// instructions and pcap_offline_filter only reads them), freed once in Drop.
unsafe impl Send for BpfProgram {}
// SAFETY: pcap_offline_filter only reads the program: shared use from threads is fine.
unsafe impl Sync for BpfProgram {}

impl BpfProgram {
    /// Whether the program accepts `data` (a whole frame: captured = original length).
    pub fn filter(&self, data: &[u8]) -> bool {
        let Ok(l) = lib() else { return false };
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let header = PktHdr {
            ts: libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
            caplen: len,
            len,
        };
        // SAFETY: the program is a valid compiled program; the header says `len`
        // bytes and `data` holds them; pcap_offline_filter reads only those.
        unsafe { (l.offline_filter)(&self.prog, &header, data.as_ptr()) != 0 }
    }
}

impl Drop for BpfProgram {
    fn drop(&mut self) {
        if let Ok(l) = lib() {
            // SAFETY: the program was filled by pcap_compile and is freed once.
            unsafe { (l.freecode)(&mut self.prog) }
        }
    }
}

/// A capture file being written by libpcap.
#[derive(Debug)]
pub struct Savefile {
    dumper: NonNull<DumperT>,
    /// The capture it was opened from stays open while it is written.
    _handle: Arc<Handle>,
}

// SAFETY: the dumper (a FILE* and a header) is owned by this value alone and used
// through `&mut self`, from one thread at a time.
unsafe impl Send for Savefile {}

impl Savefile {
    pub fn write(&mut self, packet: &Packet<'_>) {
        let Ok(l) = lib() else { return };
        let caplen =
            (packet.data.len() as u32).min(packet.header.caplen.max(packet.data.len() as u32));
        let header = PktHdr {
            ts: packet.header.ts,
            caplen,
            len: packet.header.len,
        };
        // SAFETY: the dumper is open; pcap_dump's first argument is the dumper cast
        // as libpcap documents; the header says `caplen` bytes, which `data` holds.
        unsafe { (l.dump)(self.dumper.as_ptr().cast(), &header, packet.data.as_ptr()) }
    }

    pub fn flush(&mut self) -> Result<(), Error> {
        let l = lib()?;
        // SAFETY: the dumper is open.
        let status = unsafe { (l.dump_flush)(self.dumper.as_ptr()) };
        if status == 0 {
            Ok(())
        } else {
            Err(Error::PcapError(
                std::io::Error::last_os_error().to_string(),
            ))
        }
    }
}

impl Drop for Savefile {
    fn drop(&mut self) {
        if let Ok(l) = lib() {
            // SAFETY: the dumper is closed once, here.
            unsafe { (l.dump_close)(self.dumper.as_ptr()) }
        }
    }
}

#[cfg(test)]
mod tests;
