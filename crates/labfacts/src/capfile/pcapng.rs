//! pcapng blocks: what a section's header and interface descriptions say, and each
//! packet block (Enhanced, Simple, the obsolete Packet Block) as a frame of its
//! interface.

use super::{micros, span, ts_units, FileFault, Interface, Step};
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapNGPacketBlock;

/// What the blocks read so far say about the rest of the file.
#[derive(Debug, Default)]
pub(super) struct Section {
    /// Interfaces of the current section (pcap: one, from the file header).
    pub interfaces: Vec<Interface>,
    /// Per-section byte order, for the blocks pcap-parser does not decode (obsolete PB).
    pub big_endian: bool,
    pub pcapng: bool,
    /// A pcap file with 16-byte record headers (not the "modified" format): its one
    /// interface, for [`super::CaptureFile::pcap_record_at_front`].
    pub pcap_records: Option<Interface>,
}

impl Section {
    pub fn ng_block(&mut self, len: usize, base: usize, block: &Block<'_>) -> Step {
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
                    return Step::Fatal(FileFault::BadTimestampResolution {
                        interface: self.interfaces.len(),
                        tsresol: idb.if_tsresol,
                    });
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
                    return Step::Skip(len, FileFault::ObsoletePacketBlockTooShort);
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
        match usize::try_from(id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
        {
            Some(iface) => Ok(*iface),
            None => Err(Step::Skip(
                len,
                FileFault::UnknownInterface {
                    id,
                    described: self.interfaces.len(),
                },
            )),
        }
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
