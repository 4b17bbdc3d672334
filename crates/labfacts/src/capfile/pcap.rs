//! pcap records: the file header as the file's one interface, and each record as a
//! frame of it.

use super::pcapng::Section;
use super::{micros, span, FileFault, Interface, Step};
use pcap_parser::{LegacyPcapBlock, PcapHeader};

impl Section {
    /// The pcap file header: the byte order, and the single interface it describes.
    pub fn pcap_header(&mut self, h: &PcapHeader) {
        self.big_endian = h.is_bigendian();
        let iface = Interface {
            dlt: h.network.0,
            snaplen: h.snaplen,
            units: if h.is_nanosecond_precision() {
                1_000_000_000
            } else {
                1_000_000
            },
            offset: 0,
        };
        self.interfaces = vec![iface];
        self.pcap_records = (!h.is_modified_format()).then_some(iface);
    }

    /// One pcap record (`len` bytes, in the buffer starting at address `base`) as a
    /// frame of the file's interface.
    pub fn pcap_record(&self, len: usize, base: usize, b: &LegacyPcapBlock<'_>) -> Step {
        match self.interfaces.first().copied() {
            Some(iface) => {
                let ts = micros(u64::from(b.ts_sec), u64::from(b.ts_usec), &iface);
                Step::Frame(len, span(base, b.data), ts, b.origlen, iface.dlt)
            }
            None => Step::Fatal(FileFault::RecordBeforeHeader),
        }
    }
}
