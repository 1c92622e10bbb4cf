//! SPDY/3.1 frames on the wire (draft-mbelshe-httpbis-spdy, §2.2–§2.6): decoding them from a
//! connection's bytes and encoding them back, with each direction's header blocks
//! zlib-compressed against the spec's dictionary in one stream per connection. Pure: a `Codec`
//! holds the two zlib streams and nothing else.

use super::dictionary::DICTIONARY;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The protocol version in every control frame.
pub const VERSION: u16 = 3;
/// `FLAG_FIN` on data, SYN_STREAM, SYN_REPLY and HEADERS frames: the sender's last frame.
pub const FLAG_FIN: u8 = 0x01;
/// `FLAG_UNIDIRECTIONAL` on SYN_STREAM: the receiver will not send on this stream.
pub const FLAG_UNIDIRECTIONAL: u8 = 0x02;
/// RST_STREAM status codes (§2.4.2) this server sends.
pub const PROTOCOL_ERROR: u32 = 1;
pub const REFUSED_STREAM: u32 = 3;
pub const CANCEL: u32 = 5;

/// A frame's length field has 24 bits; bigger frames are refused rather than buffered.
const MAX_FRAME: usize = (1 << 24) - 1;
/// A decompressed header block bigger than this is refused (a zip bomb, not headers).
const MAX_HEADER_BLOCK: usize = 1 << 20;

/// A header block: lower-case names, each with one or more values (NUL-separated on the wire).
pub type Headers = Vec<(String, Vec<String>)>;

/// The value of header `name` (the first one), if present.
pub fn header<'h>(headers: &'h Headers, name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.first())
        .map(String::as_str)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    Data {
        stream: u32,
        fin: bool,
        data: Bytes,
    },
    SynStream {
        stream: u32,
        associated: u32,
        priority: u8,
        fin: bool,
        unidirectional: bool,
        headers: Headers,
    },
    SynReply {
        stream: u32,
        fin: bool,
        headers: Headers,
    },
    RstStream {
        stream: u32,
        status: u32,
    },
    Settings {
        /// `(flags, id, value)` entries.
        entries: Vec<(u8, u32, u32)>,
    },
    Ping {
        id: u32,
    },
    GoAway {
        last_good: u32,
        status: u32,
    },
    Headers {
        stream: u32,
        fin: bool,
        headers: Headers,
    },
    WindowUpdate {
        stream: u32,
        delta: u32,
    },
    /// A control frame of a type this codec does not know; the spec says to ignore it.
    Unknown {
        kind: u16,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("unsupported SPDY version {0}")]
    Version(u16),
    #[error("{0} frame of {1} bytes is malformed")]
    Malformed(&'static str, usize),
    #[error("frame of {0} bytes is too large")]
    TooLarge(usize),
    #[error("header block: {0}")]
    HeaderBlock(String),
}

/// Both directions' header compression state of one connection.
pub struct Codec {
    inflate: Decompress,
    deflate: Compress,
}

impl Default for Codec {
    fn default() -> Self {
        let mut deflate = Compress::new(Compression::default(), true);
        // Fails only on a stream already started; this one is new.
        let _ = deflate.set_dictionary(&DICTIONARY);
        Codec {
            inflate: Decompress::new(true),
            deflate,
        }
    }
}

impl Codec {
    /// Take one whole frame off the front of `buf`; `None` until one has arrived.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if buf.len() < 8 {
            return Ok(None);
        }
        let length = u32::from_be_bytes([0, buf[5], buf[6], buf[7]]) as usize;
        if buf.len() < 8 + length {
            return Ok(None);
        }
        let first = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let flags = buf[4];
        buf.advance(8);
        let mut body = buf.split_to(length).freeze();
        if first & 0x8000_0000 == 0 {
            return Ok(Some(Frame::Data {
                stream: first & 0x7fff_ffff,
                fin: flags & FLAG_FIN != 0,
                data: body,
            }));
        }
        let version = ((first >> 16) & 0x7fff) as u16;
        if version != VERSION {
            return Err(FrameError::Version(version));
        }
        let kind = (first & 0xffff) as u16;
        let fin = flags & FLAG_FIN != 0;
        let need = |name: &'static str, n: usize| {
            if length < n {
                Err(FrameError::Malformed(name, length))
            } else {
                Ok(())
            }
        };
        let frame = match kind {
            1 => {
                need("SYN_STREAM", 10)?;
                let stream = body.get_u32() & 0x7fff_ffff;
                let associated = body.get_u32() & 0x7fff_ffff;
                let priority = body.get_u8() >> 5;
                body.advance(1);
                Frame::SynStream {
                    stream,
                    associated,
                    priority,
                    fin,
                    unidirectional: flags & FLAG_UNIDIRECTIONAL != 0,
                    headers: self.inflate_headers(&body)?,
                }
            }
            2 | 8 => {
                need(if kind == 2 { "SYN_REPLY" } else { "HEADERS" }, 4)?;
                let stream = body.get_u32() & 0x7fff_ffff;
                let headers = self.inflate_headers(&body)?;
                if kind == 2 {
                    Frame::SynReply {
                        stream,
                        fin,
                        headers,
                    }
                } else {
                    Frame::Headers {
                        stream,
                        fin,
                        headers,
                    }
                }
            }
            3 => {
                need("RST_STREAM", 8)?;
                Frame::RstStream {
                    stream: body.get_u32() & 0x7fff_ffff,
                    status: body.get_u32(),
                }
            }
            4 => {
                need("SETTINGS", 4)?;
                let n = body.get_u32() as usize;
                if body.len() < n.saturating_mul(8) {
                    return Err(FrameError::Malformed("SETTINGS", length));
                }
                let entries = (0..n)
                    .map(|_| {
                        let word = body.get_u32();
                        ((word >> 24) as u8, word & 0xff_ffff, body.get_u32())
                    })
                    .collect();
                Frame::Settings { entries }
            }
            6 => {
                need("PING", 4)?;
                Frame::Ping { id: body.get_u32() }
            }
            7 => {
                need("GOAWAY", 4)?;
                let last_good = body.get_u32() & 0x7fff_ffff;
                let status = if body.len() >= 4 { body.get_u32() } else { 0 };
                Frame::GoAway { last_good, status }
            }
            9 => {
                need("WINDOW_UPDATE", 8)?;
                Frame::WindowUpdate {
                    stream: body.get_u32() & 0x7fff_ffff,
                    delta: body.get_u32() & 0x7fff_ffff,
                }
            }
            kind => Frame::Unknown { kind },
        };
        Ok(Some(frame))
    }

    /// Append `frame`'s bytes to `out`.
    pub fn encode(&mut self, frame: &Frame, out: &mut BytesMut) -> Result<(), FrameError> {
        let mut body = BytesMut::new();
        let (kind, flags) = match frame {
            Frame::Data { stream, fin, data } => {
                if data.len() > MAX_FRAME {
                    return Err(FrameError::TooLarge(data.len()));
                }
                out.put_u32(stream & 0x7fff_ffff);
                out.put_u32((u32::from(flag(*fin, FLAG_FIN)) << 24) | data.len() as u32);
                out.extend_from_slice(data);
                return Ok(());
            }
            Frame::SynStream {
                stream,
                associated,
                priority,
                fin,
                unidirectional,
                headers,
            } => {
                body.put_u32(*stream);
                body.put_u32(*associated);
                body.put_u8(priority << 5);
                body.put_u8(0);
                self.deflate_headers(headers, &mut body)?;
                (
                    1,
                    flag(*fin, FLAG_FIN) | flag(*unidirectional, FLAG_UNIDIRECTIONAL),
                )
            }
            Frame::SynReply {
                stream,
                fin,
                headers,
            }
            | Frame::Headers {
                stream,
                fin,
                headers,
            } => {
                body.put_u32(*stream);
                self.deflate_headers(headers, &mut body)?;
                let kind = if matches!(frame, Frame::SynReply { .. }) {
                    2
                } else {
                    8
                };
                (kind, flag(*fin, FLAG_FIN))
            }
            Frame::RstStream { stream, status } => {
                body.put_u32(*stream);
                body.put_u32(*status);
                (3, 0)
            }
            Frame::Settings { entries } => {
                body.put_u32(entries.len() as u32);
                for (flags, id, value) in entries {
                    body.put_u32((u32::from(*flags) << 24) | (id & 0xff_ffff));
                    body.put_u32(*value);
                }
                (4, 0)
            }
            Frame::Ping { id } => {
                body.put_u32(*id);
                (6, 0)
            }
            Frame::GoAway { last_good, status } => {
                body.put_u32(*last_good);
                body.put_u32(*status);
                (7, 0)
            }
            Frame::WindowUpdate { stream, delta } => {
                body.put_u32(*stream);
                body.put_u32(*delta);
                (9, 0)
            }
            Frame::Unknown { kind } => (*kind, 0),
        };
        if body.len() > MAX_FRAME {
            return Err(FrameError::TooLarge(body.len()));
        }
        out.put_u16(0x8000 | VERSION);
        out.put_u16(kind);
        out.put_u32((u32::from(flags) << 24) | body.len() as u32);
        out.extend_from_slice(&body);
        Ok(())
    }

    fn inflate_headers(&mut self, compressed: &[u8]) -> Result<Headers, FrameError> {
        let bad = |what: &str| FrameError::HeaderBlock(what.to_string());
        let mut plain = Vec::with_capacity(compressed.len() * 4 + 64);
        let mut input = compressed;
        loop {
            if plain.len() == plain.capacity() {
                if plain.len() >= MAX_HEADER_BLOCK {
                    return Err(bad("too large"));
                }
                plain.reserve(plain.len().max(256));
            }
            let (before, produced) = (self.inflate.total_in(), plain.len());
            let result = self
                .inflate
                .decompress_vec(input, &mut plain, FlushDecompress::Sync);
            let used = (self.inflate.total_in() - before) as usize;
            input = &input[used..];
            match result {
                Ok(Status::StreamEnd) => break,
                Ok(_) if input.is_empty() && plain.len() < plain.capacity() => break,
                Ok(_) if used == 0 && plain.len() == produced && plain.len() < plain.capacity() => {
                    return Err(bad("no progress"))
                }
                Ok(_) => {}
                Err(e) if e.needs_dictionary().is_some() => {
                    self.inflate
                        .set_dictionary(&DICTIONARY)
                        .map_err(|e| bad(&e.to_string()))?;
                }
                Err(e) => return Err(bad(&e.to_string())),
            }
        }
        parse_block(&plain).ok_or_else(|| bad("truncated name/value block"))
    }

    fn deflate_headers(&mut self, headers: &Headers, out: &mut BytesMut) -> Result<(), FrameError> {
        let mut plain = Vec::new();
        plain.put_u32(headers.len() as u32);
        for (name, values) in headers {
            let value = values.join("\0");
            plain.put_u32(name.len() as u32);
            plain.extend_from_slice(name.to_ascii_lowercase().as_bytes());
            plain.put_u32(value.len() as u32);
            plain.extend_from_slice(value.as_bytes());
        }
        let mut compressed = Vec::with_capacity(plain.len() + 64);
        let mut input = &plain[..];
        loop {
            if compressed.len() == compressed.capacity() {
                compressed.reserve(256);
            }
            let before = self.deflate.total_in();
            self.deflate
                .compress_vec(input, &mut compressed, FlushCompress::Sync)
                .map_err(|e| FrameError::HeaderBlock(e.to_string()))?;
            input = &input[(self.deflate.total_in() - before) as usize..];
            // A sync flush is complete once it had room to spare.
            if input.is_empty() && compressed.len() < compressed.capacity() {
                break;
            }
        }
        out.extend_from_slice(&compressed);
        Ok(())
    }
}

fn flag(on: bool, bit: u8) -> u8 {
    if on {
        bit
    } else {
        0
    }
}

/// The uncompressed name/value block: a count, then length-prefixed names and values.
fn parse_block(mut b: &[u8]) -> Option<Headers> {
    fn take<'a>(b: &mut &'a [u8]) -> Option<&'a [u8]> {
        if b.len() < 4 {
            return None;
        }
        let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let rest = b.get(4..4 + n)?;
        *b = &b[4 + n..];
        Some(rest)
    }
    if b.len() < 4 {
        return None;
    }
    let count = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    b = &b[4..];
    let mut headers = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let name = String::from_utf8_lossy(take(&mut b)?).to_ascii_lowercase();
        let value = String::from_utf8_lossy(take(&mut b)?).into_owned();
        headers.push((name, value.split('\0').map(str::to_string).collect()));
    }
    Some(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Headers {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), vec![v.to_string()]))
            .collect()
    }

    fn round_trip(frames: &[Frame]) -> Vec<Frame> {
        let (mut writer, mut reader) = (Codec::default(), Codec::default());
        let mut wire = BytesMut::new();
        for f in frames {
            writer.encode(f, &mut wire).unwrap();
        }
        let mut out = Vec::new();
        while let Some(f) = reader.decode(&mut wire).unwrap() {
            out.push(f);
        }
        assert!(wire.is_empty());
        out
    }

    #[test]
    fn every_frame_kind_survives_encoding_and_decoding() {
        let frames = vec![
            Frame::SynStream {
                stream: 1,
                associated: 0,
                priority: 2,
                fin: false,
                unidirectional: false,
                headers: h(&[("streamtype", "error"), ("port", "80"), ("requestid", "0")]),
            },
            Frame::SynStream {
                stream: 3,
                associated: 0,
                priority: 0,
                fin: true,
                unidirectional: true,
                headers: h(&[("streamtype", "data"), ("port", "80"), ("requestid", "0")]),
            },
            Frame::SynReply {
                stream: 1,
                fin: false,
                headers: vec![],
            },
            Frame::Headers {
                stream: 1,
                fin: true,
                headers: vec![("multi".into(), vec!["a".into(), "b".into()])],
            },
            Frame::Data {
                stream: 3,
                fin: false,
                data: Bytes::from_static(b"GET / HTTP/1.1\r\n\r\n"),
            },
            Frame::Data {
                stream: 3,
                fin: true,
                data: Bytes::new(),
            },
            Frame::RstStream {
                stream: 3,
                status: CANCEL,
            },
            Frame::Settings {
                entries: vec![(0, 4, 100), (1, 7, 65536)],
            },
            Frame::Ping { id: 1 },
            Frame::GoAway {
                last_good: 3,
                status: 0,
            },
            Frame::WindowUpdate {
                stream: 3,
                delta: 1024,
            },
        ];
        assert_eq!(round_trip(&frames), frames);
    }

    #[test]
    fn a_frame_is_decoded_only_once_all_of_it_arrived() {
        let mut wire = BytesMut::new();
        Codec::default()
            .encode(
                &Frame::Data {
                    stream: 1,
                    fin: false,
                    data: Bytes::from_static(b"hello"),
                },
                &mut wire,
            )
            .unwrap();
        let mut reader = Codec::default();
        let mut partial = BytesMut::from(&wire[..wire.len() - 1]);
        assert_eq!(reader.decode(&mut partial).unwrap(), None);
        partial.extend_from_slice(&wire[wire.len() - 1..]);
        assert!(reader.decode(&mut partial).unwrap().is_some());
    }

    #[test]
    fn header_blocks_use_the_spec_dictionary_as_go_spdy_compresses_them() {
        // Compressed as Go's framer does: zlib with the dictionary, a sync flush per block;
        // the stream's header names the dictionary (FDICT) by its Adler-32.
        let mut codec = Codec::default();
        let mut wire = BytesMut::new();
        codec
            .encode(
                &Frame::SynReply {
                    stream: 1,
                    fin: false,
                    headers: vec![],
                },
                &mut wire,
            )
            .unwrap();
        let zlib = &wire[12..];
        assert_eq!(zlib[1] & 0x20, 0x20, "FDICT set");
        assert_eq!(&zlib[2..6], &0xe3c6_a7c2u32.to_be_bytes());
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        let cases: Vec<(&[u8], FrameError)> = vec![
            (
                &[0x80, 0x02, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1],
                FrameError::Version(2),
            ),
            (
                &[0x80, 0x03, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1],
                FrameError::Malformed("RST_STREAM", 4),
            ),
            (
                &[
                    0x80, 0x03, 0, 1, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 2,
                ],
                FrameError::HeaderBlock(String::new()),
            ),
        ];
        for (bytes, want) in cases {
            let got = Codec::default()
                .decode(&mut BytesMut::from(bytes))
                .unwrap_err();
            match (&got, &want) {
                (FrameError::HeaderBlock(_), FrameError::HeaderBlock(_)) => {}
                _ => assert_eq!(got, want),
            }
        }
    }
}
