//! libpcap's C interface as this crate calls it: the types (`pcap.h`, `bpf.h`) and
//! one table of function pointers, resolved once from the first library that loads.

use libc::{c_char, c_int, c_uchar, c_uint, timeval};
use std::sync::OnceLock;

/// `PCAP_ERRBUF_SIZE`.
pub const ERRBUF_SIZE: usize = 256;
/// `PCAP_NETMASK_UNKNOWN`.
pub const NETMASK_UNKNOWN: c_uint = 0xffff_ffff;
/// `PCAP_TSTAMP_PRECISION_NANO`.
pub const TSTAMP_PRECISION_NANO: c_uint = 1;
/// `PCAP_ERROR_BREAK`: pcap_next_ex's "no more packets" (end of file, or breakloop).
pub const ERROR_BREAK: c_int = -2;

/// `pcap_t`, opaque.
#[repr(C)]
pub struct PcapT {
    _private: [u8; 0],
}

/// `pcap_dumper_t`, opaque.
#[repr(C)]
pub struct DumperT {
    _private: [u8; 0],
}

/// `struct bpf_insn`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct BpfInsn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `struct bpf_program`.
#[repr(C)]
#[derive(Debug)]
pub struct BpfProgramC {
    pub bf_len: c_uint,
    pub bf_insns: *mut BpfInsn,
}

/// `struct pcap_pkthdr`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct PktHdr {
    pub ts: timeval,
    pub caplen: u32,
    pub len: u32,
}

/// `struct pcap_stat` (the fields every platform has).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct StatC {
    pub ps_recv: c_uint,
    pub ps_drop: c_uint,
    pub ps_ifdrop: c_uint,
}

/// The functions used, as loaded from the library.
#[allow(clippy::type_complexity)]
#[derive(Debug)]
pub struct Lib {
    /// Keeps the library mapped for the life of the process (the table is static).
    _lib: libloading::Library,
    pub name: &'static str,
    pub create: unsafe extern "C" fn(*const c_char, *mut c_char) -> *mut PcapT,
    pub set_snaplen: unsafe extern "C" fn(*mut PcapT, c_int) -> c_int,
    pub set_promisc: unsafe extern "C" fn(*mut PcapT, c_int) -> c_int,
    pub set_timeout: unsafe extern "C" fn(*mut PcapT, c_int) -> c_int,
    pub set_buffer_size: unsafe extern "C" fn(*mut PcapT, c_int) -> c_int,
    pub set_immediate_mode: unsafe extern "C" fn(*mut PcapT, c_int) -> c_int,
    pub activate: unsafe extern "C" fn(*mut PcapT) -> c_int,
    pub open_dead: unsafe extern "C" fn(c_int, c_int) -> *mut PcapT,
    pub open_offline_with_tstamp_precision:
        unsafe extern "C" fn(*const c_char, c_uint, *mut c_char) -> *mut PcapT,
    pub compile:
        unsafe extern "C" fn(*mut PcapT, *mut BpfProgramC, *const c_char, c_int, c_uint) -> c_int,
    pub setfilter: unsafe extern "C" fn(*mut PcapT, *mut BpfProgramC) -> c_int,
    pub freecode: unsafe extern "C" fn(*mut BpfProgramC),
    pub offline_filter:
        unsafe extern "C" fn(*const BpfProgramC, *const PktHdr, *const c_uchar) -> c_int,
    pub setdirection: unsafe extern "C" fn(*mut PcapT, c_int) -> c_int,
    pub next_ex: unsafe extern "C" fn(*mut PcapT, *mut *mut PktHdr, *mut *const c_uchar) -> c_int,
    pub stats: unsafe extern "C" fn(*mut PcapT, *mut StatC) -> c_int,
    pub breakloop: unsafe extern "C" fn(*mut PcapT),
    pub datalink: unsafe extern "C" fn(*mut PcapT) -> c_int,
    pub datalink_val_to_name: unsafe extern "C" fn(c_int) -> *const c_char,
    pub geterr: unsafe extern "C" fn(*mut PcapT) -> *mut c_char,
    pub statustostr: unsafe extern "C" fn(c_int) -> *const c_char,
    pub close: unsafe extern "C" fn(*mut PcapT),
    pub sendpacket: unsafe extern "C" fn(*mut PcapT, *const c_uchar, c_int) -> c_int,
    pub dump_open: unsafe extern "C" fn(*mut PcapT, *const c_char) -> *mut DumperT,
    pub dump: unsafe extern "C" fn(*mut c_uchar, *const PktHdr, *const c_uchar),
    pub dump_flush: unsafe extern "C" fn(*mut DumperT) -> c_int,
    pub dump_close: unsafe extern "C" fn(*mut DumperT),
}

/// The names Linux distributions give libpcap's shared object: Fedora, Arch and
/// Alpine `libpcap.so.1`; Debian and Ubuntu `libpcap.so.0.8`; the development link
/// `libpcap.so` last.
pub const NAMES: [&str; 3] = ["libpcap.so.1", "libpcap.so.0.8", "libpcap.so"];

static LIB: OnceLock<Result<Lib, String>> = OnceLock::new();

/// The library, loaded on first use; the error says which names were tried.
pub fn lib() -> Result<&'static Lib, String> {
    LIB.get_or_init(load).as_ref().map_err(Clone::clone)
}

fn load() -> Result<Lib, String> {
    // Why a library that exists would not load (a missing one says nothing useful).
    let mut odd = Vec::new();
    for name in NAMES {
        // SAFETY: loading libpcap runs its initialisers, which only set up its own
        // state (no other library of the process is touched); a library by that name
        // that is not libpcap fails at the first missing symbol below.
        #[allow(unsafe_code)]
        match unsafe { libloading::Library::new(name) } {
            Ok(lib) => return resolve(lib, name),
            Err(e) => {
                let e = e.to_string();
                if !e.contains("No such file") {
                    odd.push(e);
                }
            }
        }
    }
    let mut why = format!("no {} could be loaded", NAMES.join(", "));
    if !odd.is_empty() {
        why.push_str(&format!(" ({})", odd.join("; ")));
    }
    Err(why)
}

/// Every function of the table from `lib`.
fn resolve(lib: libloading::Library, name: &'static str) -> Result<Lib, String> {
    macro_rules! f {
        ($sym:literal) => {{
            // SAFETY: the symbol is libpcap's function of that name, whose C prototype
            // (pcap/pcap.h, stable since libpcap 1.5) is the type of the field it is
            // stored in; the pointer is copied out and stays valid because `_lib` is
            // kept in the same static table and never unloaded.
            #[allow(unsafe_code)]
            let s = unsafe { lib.get(concat!($sym, "\0").as_bytes()) }
                .map_err(|e| format!("{name} lacks {}: {e}", $sym))?;
            *s
        }};
    }
    Ok(Lib {
        name,
        create: f!("pcap_create"),
        set_snaplen: f!("pcap_set_snaplen"),
        set_promisc: f!("pcap_set_promisc"),
        set_timeout: f!("pcap_set_timeout"),
        set_buffer_size: f!("pcap_set_buffer_size"),
        set_immediate_mode: f!("pcap_set_immediate_mode"),
        activate: f!("pcap_activate"),
        open_dead: f!("pcap_open_dead"),
        open_offline_with_tstamp_precision: f!("pcap_open_offline_with_tstamp_precision"),
        compile: f!("pcap_compile"),
        setfilter: f!("pcap_setfilter"),
        freecode: f!("pcap_freecode"),
        offline_filter: f!("pcap_offline_filter"),
        setdirection: f!("pcap_setdirection"),
        next_ex: f!("pcap_next_ex"),
        stats: f!("pcap_stats"),
        breakloop: f!("pcap_breakloop"),
        datalink: f!("pcap_datalink"),
        datalink_val_to_name: f!("pcap_datalink_val_to_name"),
        geterr: f!("pcap_geterr"),
        statustostr: f!("pcap_statustostr"),
        close: f!("pcap_close"),
        sendpacket: f!("pcap_sendpacket"),
        dump_open: f!("pcap_dump_open"),
        dump: f!("pcap_dump"),
        dump_flush: f!("pcap_dump_flush"),
        dump_close: f!("pcap_dump_close"),
        _lib: lib,
    })
}
