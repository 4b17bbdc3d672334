//! Byte-exact capture files with what [`crate::savefile`] never writes: pcapng with
//! several sections and interfaces (each with its own link type, snaplen and
//! `if_tsresol`), big-endian sections, Simple Packet Blocks and the obsolete Packet
//! Block; pcap with nanosecond timestamps or big-endian. For readers' tests.
//!
//! Layouts: draft-ietf-opsawg-pcapng (SHB 0x0A0D0D0A, IDB 1, PB 2, SPB 3, EPB 6) and
//! pcap-savefile(5).

/// A pcapng file being built, block by block.
#[derive(Debug, Clone, Default)]
pub struct PcapNg {
    out: Vec<u8>,
    big_endian: bool,
}

impl PcapNg {
    pub fn new() -> PcapNg {
        PcapNg::default()
    }

    fn u32(&mut self, v: u32) {
        let b = if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.out.extend_from_slice(&b);
    }

    /// A block: type, total length, `body` padded to 32 bits, total length again.
    pub fn block(&mut self, kind: u32, body: &[u8]) -> &mut Self {
        let padded = body.len().div_ceil(4) * 4;
        let total = u32::try_from(12 + padded).unwrap_or(u32::MAX);
        self.u32(kind);
        self.u32(total);
        self.out.extend_from_slice(body);
        self.out.resize(self.out.len() + padded - body.len(), 0);
        self.u32(total);
        self
    }

    fn bytes16(&self, v: u16) -> [u8; 2] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn bytes32(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// A Section Header Block: a new section, in the given byte order.
    pub fn section(&mut self, big_endian: bool) -> &mut Self {
        self.big_endian = big_endian;
        let mut body = Vec::new();
        body.extend_from_slice(&self.bytes32(0x1A2B_3C4D));
        body.extend_from_slice(&self.bytes16(1));
        body.extend_from_slice(&self.bytes16(0));
        body.extend_from_slice(&[0xff; 8]); // section length: unspecified
        self.block(0x0A0D_0D0A, &body)
    }

    /// An Interface Description Block; `tsresol`: the `if_tsresol` option (absent:
    /// microseconds).
    pub fn interface(&mut self, linktype: u16, snaplen: u32, tsresol: Option<u8>) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.bytes16(linktype));
        body.extend_from_slice(&self.bytes16(0));
        body.extend_from_slice(&self.bytes32(snaplen));
        if let Some(r) = tsresol {
            body.extend_from_slice(&self.bytes16(9)); // if_tsresol
            body.extend_from_slice(&self.bytes16(1));
            body.extend_from_slice(&[r, 0, 0, 0]);
            body.extend_from_slice(&[0; 4]); // opt_endofopt
        }
        self.block(1, &body)
    }

    /// An Enhanced Packet Block; `ts` in the interface's units.
    pub fn enhanced(&mut self, interface: u32, ts: u64, data: &[u8], orig_len: u32) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.bytes32(interface));
        body.extend_from_slice(&self.bytes32((ts >> 32) as u32));
        body.extend_from_slice(&self.bytes32(ts as u32));
        body.extend_from_slice(&self.bytes32(u32::try_from(data.len()).unwrap_or(u32::MAX)));
        body.extend_from_slice(&self.bytes32(orig_len));
        body.extend_from_slice(data);
        self.block(6, &body)
    }

    /// A Simple Packet Block (interface 0, no timestamp).
    pub fn simple(&mut self, data: &[u8], orig_len: u32) -> &mut Self {
        let mut body = self.bytes32(orig_len).to_vec();
        body.extend_from_slice(data);
        self.block(3, &body)
    }

    /// The obsolete Packet Block (type 2): 16-bit interface id and drop count.
    pub fn obsolete(&mut self, interface: u16, ts: u64, data: &[u8], orig_len: u32) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.bytes16(interface));
        body.extend_from_slice(&self.bytes16(0));
        body.extend_from_slice(&self.bytes32((ts >> 32) as u32));
        body.extend_from_slice(&self.bytes32(ts as u32));
        body.extend_from_slice(&self.bytes32(u32::try_from(data.len()).unwrap_or(u32::MAX)));
        body.extend_from_slice(&self.bytes32(orig_len));
        body.extend_from_slice(data);
        self.block(2, &body)
    }

    /// Raw bytes as they are (damage on purpose).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.out.extend_from_slice(bytes);
        self
    }

    /// A 32-bit value in the current section's byte order (for hand-made damage).
    pub fn raw_u32(&mut self, v: u32) -> &mut Self {
        self.u32(v);
        self
    }

    /// Bytes so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.out.clone()
    }
}

/// A pcap file of `frames` (timestamp µs, data, original length) with the given link
/// type; `nanos`: nanosecond magic (timestamps written in ns); `big_endian`: every
/// field big-endian, as a SPARC or PowerPC tcpdump wrote them.
pub fn pcap(
    linktype: u32,
    snaplen: u32,
    nanos: bool,
    big_endian: bool,
    frames: &[(u64, &[u8], u32)],
) -> Vec<u8> {
    let put = |out: &mut Vec<u8>, v: u32| {
        out.extend_from_slice(&if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        })
    };
    let put16 = |out: &mut Vec<u8>, v: u16| {
        out.extend_from_slice(&if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        })
    };
    let mut out = Vec::new();
    put(&mut out, if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
    put16(&mut out, 2);
    put16(&mut out, 4);
    put(&mut out, 0);
    put(&mut out, 0);
    put(&mut out, snaplen);
    put(&mut out, linktype);
    for &(ts, data, orig_len) in frames {
        put(&mut out, (ts / 1_000_000) as u32);
        let frac = ts % 1_000_000;
        put(&mut out, if nanos { frac * 1000 } else { frac } as u32);
        put(&mut out, u32::try_from(data.len()).unwrap_or(u32::MAX));
        put(&mut out, orig_len);
        out.extend_from_slice(data);
    }
    out
}
