//! The protobuf wire format: varints, tags, length-delimited slices, skipping.

use crate::error::{Error, ErrorKind};

pub const VARINT: u8 = 0;
pub const FIXED64: u8 = 1;
pub const LEN: u8 = 2;
pub const FIXED32: u8 = 5;

pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn varint(&mut self) -> Result<u64, Error> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| Error::new(ErrorKind::Truncated))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Error::new(ErrorKind::VarintTooLong))
    }

    /// A field key: (field number, wire type).
    pub fn key(&mut self) -> Result<(u32, u8), Error> {
        let k = self.varint()?;
        let number = k >> 3;
        if number == 0 || number > (1 << 29) - 1 {
            return Err(Error::new(ErrorKind::InvalidFieldNumber(number)));
        }
        Ok((number as u32, (k & 7) as u8))
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| Error::new(ErrorKind::Truncated))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// A length-delimited payload.
    pub fn len_delimited(&mut self) -> Result<&'a [u8], Error> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| Error::new(ErrorKind::Truncated))?;
        self.bytes(n)
    }

    pub fn fixed64(&mut self) -> Result<u64, Error> {
        let b = self.bytes(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// Skip a value of an unknown field.
    pub fn skip(&mut self, wire_type: u8) -> Result<(), Error> {
        match wire_type {
            VARINT => self.varint().map(|_| ()),
            FIXED64 => self.bytes(8).map(|_| ()),
            LEN => self.len_delimited().map(|_| ()),
            FIXED32 => self.bytes(4).map(|_| ()),
            w => Err(Error::new(ErrorKind::UnsupportedWireType(w))),
        }
    }
}
