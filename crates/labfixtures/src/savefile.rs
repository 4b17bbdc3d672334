//! pcap and pcapng savefiles, written by hand (no libpcap on the writing side).
//!
//! - pcap: <https://www.tcpdump.org/manpages/pcap-savefile.5.html> — a 24-byte global
//!   header (magic 0xa1b2c3d4 written little-endian: microsecond timestamps), then per
//!   frame a 16-byte record header (ts_sec, ts_usec, incl_len, orig_len) and the data.
//! - pcapng: <https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html> — a
//!   Section Header Block, one Interface Description Block (microsecond resolution,
//!   the default), then one Enhanced Packet Block per frame. Every block repeats its
//!   total length at its end; data is padded to 32 bits.
//!
//! Everything is written little-endian, as an x86 or ARM machine writes it.

use std::io::{self, Write};

/// Which savefile format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// Classic libpcap format, microsecond timestamps.
    Pcap,
    /// pcapng with one interface.
    PcapNg,
}

impl FileFormat {
    /// The usual file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Pcap => "pcap",
            FileFormat::PcapNg => "pcapng",
        }
    }
}

/// pcap magic for microsecond timestamps.
pub const PCAP_MAGIC_MICROS: u32 = 0xa1b2_c3d4;
pub const PCAP_GLOBAL_HEADER_LEN: usize = 24;
pub const PCAP_RECORD_HEADER_LEN: usize = 16;

pub const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
pub const PCAPNG_IDB: u32 = 0x0000_0001;
pub const PCAPNG_EPB: u32 = 0x0000_0006;
pub const PCAPNG_BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// SHB length without options: type, length, magic, versions, section length, length.
pub const PCAPNG_SHB_LEN: usize = 28;
/// IDB length without options: type, length, linktype+reserved, snaplen, length.
pub const PCAPNG_IDB_LEN: usize = 20;
/// EPB length without data: type, length, interface, ts high, ts low, caplen, origlen, length.
pub const PCAPNG_EPB_OVERHEAD: usize = 32;

const MICROS_PER_SEC: u64 = 1_000_000;

/// Streams a savefile to `out`: the file header on creation, then one record per
/// [`SavefileWriter::write_frame`]. Wrap files in a `BufWriter`.
#[derive(Debug)]
pub struct SavefileWriter<W: Write> {
    out: W,
    format: FileFormat,
    snaplen: u32,
}

impl<W: Write> SavefileWriter<W> {
    /// Write the file header (pcap global header, or pcapng SHB + IDB).
    pub fn new(mut out: W, format: FileFormat, linktype: u32, snaplen: u32) -> io::Result<Self> {
        match format {
            FileFormat::Pcap => {
                let mut h = [0u8; PCAP_GLOBAL_HEADER_LEN];
                put_u32(&mut h[0..], PCAP_MAGIC_MICROS);
                put_u16(&mut h[4..], 2); // version major
                put_u16(&mut h[6..], 4); // version minor
                                         // thiszone (4 bytes) and sigfigs (4 bytes) stay 0.
                put_u32(&mut h[16..], snaplen);
                put_u32(&mut h[20..], linktype);
                out.write_all(&h)?;
            }
            FileFormat::PcapNg => {
                let mut shb = [0u8; PCAPNG_SHB_LEN];
                put_u32(&mut shb[0..], PCAPNG_SHB);
                put_u32(&mut shb[4..], PCAPNG_SHB_LEN as u32);
                put_u32(&mut shb[8..], PCAPNG_BYTE_ORDER_MAGIC);
                put_u16(&mut shb[12..], 1); // major version
                put_u16(&mut shb[14..], 0); // minor version
                                            // Section length unknown: -1.
                shb[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
                put_u32(&mut shb[24..], PCAPNG_SHB_LEN as u32);
                out.write_all(&shb)?;

                let mut idb = [0u8; PCAPNG_IDB_LEN];
                put_u32(&mut idb[0..], PCAPNG_IDB);
                put_u32(&mut idb[4..], PCAPNG_IDB_LEN as u32);
                // The IDB's link type field is 16 bits; every LINKTYPE used here fits.
                put_u16(&mut idb[8..], linktype as u16);
                put_u16(&mut idb[10..], 0); // reserved
                put_u32(&mut idb[12..], snaplen);
                // No options: if_tsresol defaults to 6 (microseconds).
                put_u32(&mut idb[16..], PCAPNG_IDB_LEN as u32);
                out.write_all(&idb)?;
            }
        }
        Ok(SavefileWriter {
            out,
            format,
            snaplen,
        })
    }

    /// Write one frame captured at `ts_micros` (microseconds since the Unix epoch).
    /// `data` longer than the snaplen is cut, as a capturing kernel would; `orig_len`
    /// stays the length on the wire. Returns the bytes written to the file.
    pub fn write_frame(&mut self, ts_micros: u64, data: &[u8], orig_len: u32) -> io::Result<usize> {
        let incl = data.len().min(self.snaplen as usize);
        let data = &data[..incl];
        // incl ≤ snaplen, a u32.
        let incl_len = incl as u32;
        match self.format {
            FileFormat::Pcap => {
                let mut h = [0u8; PCAP_RECORD_HEADER_LEN];
                let secs = ts_micros / MICROS_PER_SEC;
                // pcap timestamps are 32-bit seconds (good until 2106).
                put_u32(&mut h[0..], secs as u32);
                put_u32(&mut h[4..], (ts_micros % MICROS_PER_SEC) as u32);
                put_u32(&mut h[8..], incl_len);
                put_u32(&mut h[12..], orig_len);
                self.out.write_all(&h)?;
                self.out.write_all(data)?;
                Ok(PCAP_RECORD_HEADER_LEN + incl)
            }
            FileFormat::PcapNg => {
                let padding = (4 - incl % 4) % 4;
                let total = PCAPNG_EPB_OVERHEAD + incl + padding;
                let total_u32 = u32::try_from(total).map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("a frame of {incl} bytes does not fit a pcapng block"),
                    )
                })?;
                let mut h = [0u8; 28];
                put_u32(&mut h[0..], PCAPNG_EPB);
                put_u32(&mut h[4..], total_u32);
                put_u32(&mut h[8..], 0); // interface 0
                put_u32(&mut h[12..], (ts_micros >> 32) as u32);
                put_u32(&mut h[16..], ts_micros as u32);
                put_u32(&mut h[20..], incl_len);
                put_u32(&mut h[24..], orig_len);
                self.out.write_all(&h)?;
                self.out.write_all(data)?;
                self.out.write_all(&[0u8; 3][..padding])?;
                self.out.write_all(&total_u32.to_le_bytes())?;
                Ok(total)
            }
        }
    }

    /// Flush and hand back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

fn put_u32(buf: &mut [u8], v: u32) {
    buf[..4].copy_from_slice(&v.to_le_bytes());
}

fn put_u16(buf: &mut [u8], v: u16) {
    buf[..2].copy_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcap_layout() {
        let mut w = SavefileWriter::new(Vec::new(), FileFormat::Pcap, 1, 4).unwrap();
        assert_eq!(
            w.write_frame(1_700_000_000_000_123, &[1, 2, 3, 4, 5, 6], 6)
                .unwrap(),
            20
        );
        let bytes = w.finish().unwrap();
        assert_eq!(
            &bytes[..24],
            &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0]
        );
        // ts_sec 1_700_000_000 = 0x6553f100, ts_usec 123, incl 4 (cut), orig 6.
        assert_eq!(
            &bytes[24..],
            &[0x00, 0xf1, 0x53, 0x65, 123, 0, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn pcapng_layout() {
        let mut w = SavefileWriter::new(Vec::new(), FileFormat::PcapNg, 113, 65535).unwrap();
        assert_eq!(
            w.write_frame(0x1_0000_0002, &[9, 8, 7, 6, 5], 5).unwrap(),
            40
        );
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len(), 28 + 20 + 40);
        assert_eq!(&bytes[0..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
        assert_eq!(&bytes[8..12], &[0x4d, 0x3c, 0x2b, 0x1a]);
        assert_eq!(&bytes[24..28], &[28, 0, 0, 0]);
        let idb = &bytes[28..48];
        assert_eq!(
            idb,
            &[1, 0, 0, 0, 20, 0, 0, 0, 113, 0, 0, 0, 0xff, 0xff, 0, 0, 20, 0, 0, 0]
        );
        let epb = &bytes[48..];
        assert_eq!(
            epb,
            &[
                6, 0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0,
                0, 9, 8, 7, 6, 5, 0, 0, 0, 40, 0, 0, 0
            ]
        );
    }
}
