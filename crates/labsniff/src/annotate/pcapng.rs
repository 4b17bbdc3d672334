//! The second pass: read the input again with libpcap (nanosecond timestamps, so none
//! is rounded) and write each frame into pcapng as it was, with its comment.

use super::Verdicts;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness};
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Frames written and frames commented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written {
    pub frames: u64,
    pub commented: u64,
}

fn io_error(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Copy every frame of `input` into pcapng on `out`, with `verdicts` as packet comments
/// and `summary` as the section header's comment.
/// The same `filter` and `count` as the first pass, so that frame numbers agree.
pub fn write<W: Write>(
    input: &Path,
    filter: Option<&str>,
    count: Option<u64>,
    out: W,
    verdicts: &Verdicts,
    summary: &str,
) -> std::io::Result<Written> {
    let mut cap = pcaprt::Capture::from_file_with_precision(input, pcaprt::Precision::Nano)
        .map_err(io_error)?;
    if let Some(f) = filter {
        cap.filter(f, true).map_err(io_error)?;
    }
    let section = SectionHeaderBlock {
        endianness: Endianness::native(),
        major_version: 1,
        minor_version: 0,
        section_length: -1,
        options: vec![
            SectionHeaderOption::Comment(Cow::Owned(summary.to_string())),
            SectionHeaderOption::UserApplication(Cow::Borrowed(concat!(
                "labsniff ",
                env!("CARGO_PKG_VERSION")
            ))),
        ],
    };
    let mut writer = PcapNgWriter::with_section_header(out, section).map_err(io_error)?;
    let link = cap.get_datalink().0;
    writer
        .write_pcapng_block(InterfaceDescriptionBlock {
            linktype: DataLink::from(link as u32),
            // 0: no limit stated (libpcap does not tell the input's snaplen).
            snaplen: 0,
            // Timestamps are written in nanoseconds (pcap-file's unit).
            options: vec![InterfaceDescriptionOption::IfTsResol(9)],
        })
        .map_err(io_error)?;
    let mut written = Written::default();
    while count.is_none_or(|n| written.frames < n) {
        let packet = match cap.next_packet() {
            Ok(p) => p,
            Err(pcaprt::Error::NoMorePackets) => break,
            // A file cut inside a record: what came before is written, as read.
            Err(_) => break,
        };
        written.frames += 1;
        let h = packet.header;
        // With nanosecond precision libpcap puts nanoseconds in tv_usec.
        let secs = u64::try_from(h.ts.tv_sec).unwrap_or(0);
        let nanos = u32::try_from(h.ts.tv_usec).unwrap_or(0).min(999_999_999);
        let options = match verdicts.get(written.frames) {
            Some(c) => {
                written.commented += 1;
                vec![EnhancedPacketOption::Comment(Cow::Borrowed(c))]
            }
            None => Vec::new(),
        };
        writer
            .write_pcapng_block(EnhancedPacketBlock {
                interface_id: 0,
                timestamp: Duration::new(secs, nanos),
                original_len: h.len,
                data: Cow::Borrowed(packet.data),
                options,
            })
            .map_err(io_error)?;
    }
    writer.into_inner().flush()?;
    Ok(written)
}
