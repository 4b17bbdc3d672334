//! The first read of a stream, cut after the file header. The capture parser reads twice
//! while it opens (the header, then once more to fill its buffer): on a pipe that has
//! sent the header and some frames and then goes quiet, the second read would wait for
//! more, and the frames already sent would not be shown until then. Handing the parser
//! the header alone first, and the rest of what came with it on the second read, keeps
//! the second read from waiting while data is there.

use std::io::Read;

/// Bytes a classic pcap file header takes.
const PCAP_HEADER: usize = 24;
/// pcapng's Section Header Block type, and its byte-order magic.
const PCAPNG_SHB: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const PCAPNG_MAGIC_LE: [u8; 4] = [0x4d, 0x3c, 0x2b, 0x1a];
const PCAPNG_MAGIC_BE: [u8; 4] = [0x1a, 0x2b, 0x3c, 0x4d];
/// pcap magics, both byte orders: micro-, nanosecond and Kuznetzov's modified format.
const PCAP_MAGICS: [[u8; 4]; 6] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x34, 0xcd, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xcd, 0x34],
];

/// The length of the file header at the start of `head`, when `head` shows it.
pub(super) fn header_len(head: &[u8]) -> Option<usize> {
    let magic: [u8; 4] = head.get(..4)?.try_into().ok()?;
    if PCAP_MAGICS.contains(&magic) {
        return Some(PCAP_HEADER);
    }
    if magic != PCAPNG_SHB {
        return None;
    }
    let len: [u8; 4] = head.get(4..8)?.try_into().ok()?;
    let order: [u8; 4] = head.get(8..12)?.try_into().ok()?;
    let len = match order {
        PCAPNG_MAGIC_LE => u32::from_le_bytes(len),
        PCAPNG_MAGIC_BE => u32::from_be_bytes(len),
        _ => return None,
    };
    usize::try_from(len).ok()
}

/// A reader whose first read ends after the file header; the rest of that read is
/// handed out by the next one, without reading the input again.
pub(super) struct Opening<R> {
    inner: R,
    first: bool,
    /// What the first read got past the header: `held[at..]` is still to hand out.
    held: Vec<u8>,
    at: usize,
}

impl<R: Read> Opening<R> {
    pub fn new(inner: R) -> Opening<R> {
        Opening {
            inner,
            first: true,
            held: Vec::new(),
            at: 0,
        }
    }
}

impl<R: Read> Read for Opening<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at < self.held.len() {
            let n = buf.len().min(self.held.len() - self.at);
            buf[..n].copy_from_slice(&self.held[self.at..self.at + n]);
            self.at += n;
            if self.at == self.held.len() {
                self.held = Vec::new();
                self.at = 0;
            }
            return Ok(n);
        }
        let n = self.inner.read(buf)?;
        if std::mem::take(&mut self.first) {
            // Only a header shorter than what came is cut after; `held` is at most one
            // read's worth (the parser's buffer), never a length the input states.
            if let Some(h) = header_len(&buf[..n]).filter(|&h| h > 0 && h < n) {
                self.held = buf[h..n].to_vec();
                return Ok(h);
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap_header() -> Vec<u8> {
        let mut h = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        h.extend([0; 8]);
        h.extend(65535u32.to_le_bytes());
        h.extend(1u32.to_le_bytes());
        h
    }

    #[test]
    fn the_first_read_ends_after_the_header_and_nothing_is_lost() {
        let mut data = pcap_header();
        data.extend((0..200u8).collect::<Vec<u8>>());
        let mut r = Opening::new(std::io::Cursor::new(data.clone()));
        let mut buf = vec![0; 4096];
        let first = r.read(&mut buf).expect("read");
        assert_eq!(first, 24);
        let mut got = buf[..first].to_vec();
        // Small reads: the held part comes out in pieces.
        let mut small = [0u8; 7];
        loop {
            let n = r.read(&mut small).expect("read");
            if n == 0 {
                break;
            }
            got.extend(&small[..n]);
        }
        assert_eq!(got, data);
    }

    #[test]
    fn pcapng_header_length_in_either_byte_order() {
        let mut le = PCAPNG_SHB.to_vec();
        le.extend(28u32.to_le_bytes());
        le.extend(PCAPNG_MAGIC_LE);
        assert_eq!(header_len(&le), Some(28));
        let mut be = PCAPNG_SHB.to_vec();
        be.extend(32u32.to_be_bytes());
        be.extend(PCAPNG_MAGIC_BE);
        assert_eq!(header_len(&be), Some(32));
        assert_eq!(header_len(b"GET / HTTP/1.1"), None);
        assert_eq!(header_len(&[0x0a, 0x0d]), None);
    }

    #[test]
    fn a_header_alone_or_unknown_bytes_pass_through() {
        let header = pcap_header();
        let mut r = Opening::new(std::io::Cursor::new(header.clone()));
        let mut buf = vec![0; 100];
        assert_eq!(r.read(&mut buf).expect("read"), 24);
        assert_eq!(r.read(&mut buf).expect("read"), 0);
        let mut r = Opening::new(std::io::Cursor::new(vec![7u8; 50]));
        assert_eq!(r.read(&mut buf).expect("read"), 50);
    }
}
