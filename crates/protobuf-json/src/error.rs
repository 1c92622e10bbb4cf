use std::fmt;

/// What went wrong decoding a protobuf body, and where (a JSON path like
/// `spec.template.spec.containers[0].image`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// Path segments, innermost last.
    path: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The body does not start with `k8s\0`.
    MissingMagic,
    /// A length or value runs past the end of its message.
    Truncated,
    /// A varint longer than 10 bytes.
    VarintTooLong,
    /// Field number 0 or above 2^29-1.
    InvalidFieldNumber(u64),
    /// A wire type that the field's type cannot have.
    BadWireType {
        wire_type: u8,
        expected: &'static str,
    },
    /// Wire types 3/4 (groups) or 6/7.
    UnsupportedWireType(u8),
    /// A string field that is not UTF-8.
    InvalidUtf8,
    /// A RawExtension/FieldsV1 whose bytes are not JSON.
    InvalidJson(String),
    /// The envelope's TypeMeta names a kind the table does not have.
    UnknownKind { api_version: String, kind: String },
    /// [`crate::decode_message`] with a name the table does not have.
    UnknownMessage(String),
    /// The envelope has a contentEncoding (e.g. gzip) other than none.
    UnsupportedEncoding(String),
    /// Messages nested deeper than the decoder allows.
    TooDeep,
}

impl Error {
    pub fn new(kind: ErrorKind) -> Self {
        Error {
            kind,
            path: Vec::new(),
        }
    }

    /// Add an enclosing path segment (called while unwinding, so outermost last).
    pub(crate) fn within(mut self, segment: impl Into<String>) -> Self {
        let s = segment.into();
        if !s.is_empty() {
            self.path.push(s);
        }
        self
    }

    /// The JSON path of the offending field (empty for envelope errors).
    pub fn path(&self) -> String {
        let mut out = String::new();
        for seg in self.path.iter().rev() {
            if !out.is_empty() && !seg.starts_with('[') {
                out.push('.');
            }
            out.push_str(seg);
        }
        out
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::MissingMagic => {
                write!(f, "the body does not start with the \"k8s\\x00\" prefix")
            }
            ErrorKind::Truncated => write!(f, "truncated message"),
            ErrorKind::VarintTooLong => write!(f, "malformed varint"),
            ErrorKind::InvalidFieldNumber(n) => write!(f, "invalid field number {n}"),
            ErrorKind::BadWireType {
                wire_type,
                expected,
            } => write!(f, "bad wire type {wire_type} (expected {expected})"),
            ErrorKind::UnsupportedWireType(w) => write!(f, "unsupported wire type {w}"),
            ErrorKind::InvalidUtf8 => write!(f, "string is not valid UTF-8"),
            ErrorKind::InvalidJson(e) => write!(f, "embedded raw JSON is invalid: {e}"),
            ErrorKind::UnknownKind { api_version, kind } => {
                write!(
                    f,
                    "no protobuf decoding for kind {kind:?} in apiVersion {api_version:?}"
                )
            }
            ErrorKind::UnknownMessage(m) => write!(f, "unknown message type {m:?}"),
            ErrorKind::UnsupportedEncoding(e) => {
                write!(f, "unsupported protobuf contentEncoding {e:?}")
            }
            ErrorKind::TooDeep => write!(f, "messages nested too deeply"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "protobuf: {}", self.kind)?;
        let path = self.path();
        if !path.is_empty() {
            write!(f, " at {path}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}
