//! `-w`: a copy of every frame read, as a pcap file. A pcap file has one link type, so
//! frames of another (from a pcapng whose interfaces differ) are not copied, and the
//! first such frame of each link type says so once.

use super::frames::{Frames, RawFrame};
use super::{reason, SourceError};
use crate::event::DiagnosticKind;
use std::path::{Path, PathBuf};

pub(super) struct Copy {
    file: pcaprt::Savefile,
    path: PathBuf,
    dlt: i32,
    /// Link types already reported as not copied (few).
    refused: Vec<i32>,
}

impl std::fmt::Debug for Copy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Copy").field("path", &self.path).finish()
    }
}

impl Copy {
    pub fn open<F: Frames>(path: &Path, frames: &mut F) -> Result<Copy, SourceError> {
        let shown = path.display().to_string();
        if path.to_str().is_none() {
            return Err(SourceError::WriteFile {
                path: shown,
                reason: "the path is not valid UTF-8".to_string(),
            });
        }
        let dlt = frames.first_dlt();
        let file = frames.savefile(path).map_err(|e| {
            super::or_no_libpcap(
                e,
                || format!("writing '{shown}' (-w)"),
                |e| SourceError::WriteFile {
                    path: shown.clone(),
                    reason: reason(&e),
                },
            )
        })?;
        Ok(Copy {
            file,
            path: path.to_path_buf(),
            dlt,
            refused: Vec::new(),
        })
    }

    /// Copy one frame; a diagnostic the first time a link type is refused.
    pub fn write(&mut self, frame: &RawFrame<'_>) -> Option<DiagnosticKind> {
        if frame.dlt != self.dlt {
            if self.refused.contains(&frame.dlt) || self.refused.len() >= 64 {
                return None;
            }
            self.refused.push(frame.dlt);
            return Some(DiagnosticKind::FramesNotCopied {
                dlt: frame.dlt,
                first_dlt: self.dlt,
                path: self.path.clone(),
            });
        }
        let secs = frame.ts / 1_000_000;
        let header = pcaprt::PacketHeader {
            ts: libc::timeval {
                tv_sec: libc::time_t::try_from(secs).unwrap_or(libc::time_t::MAX),
                tv_usec: libc::suseconds_t::try_from(frame.ts % 1_000_000).unwrap_or(0),
            },
            caplen: u32::try_from(frame.data.len()).unwrap_or(u32::MAX),
            len: frame.orig_len,
        };
        self.file.write(&pcaprt::Packet::new(&header, frame.data));
        None
    }

    pub fn flush(&mut self) -> Result<(), SourceError> {
        self.file.flush().map_err(|e| SourceError::WriteFile {
            path: self.path.display().to_string(),
            reason: reason(&e),
        })
    }
}
