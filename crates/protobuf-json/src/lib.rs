//! Decode Kubernetes protobuf request bodies into the JSON form the API stores.
//!
//! The typed Go clients (kubectl `create deployment|job|...`) send
//! `Content-Type: application/vnd.kubernetes.protobuf`: the bytes `k8s\0` followed by a
//! `runtime.Unknown` message (1: TypeMeta {1: apiVersion, 2: kind}, 2: raw object message,
//! 3: contentEncoding, 4: contentType). The object message uses the field numbers of k8s.io/api
//! `generated.proto`. Decoding is driven by a generated table of message types
//! ([`schema`], made by `scripts/gen-protobuf-schema`); the result has the shape Go's JSON
//! encoder gives the same object: exact property names, Go's `omitempty` for zero scalars,
//! RFC 3339 times, int-or-string, quantities, base64 bytes, embedded (inline) structs.

mod decode;
mod error;
#[rustfmt::skip]
mod schema;
pub mod table;
mod wire;

pub use error::{Error, ErrorKind};

use serde_json::{Map, Value};
use table::Message;

/// The magic prefix of a Kubernetes protobuf body.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// The media type of Kubernetes protobuf bodies.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Decode a whole request body (`k8s\0` + `runtime.Unknown`) into a JSON object with
/// `apiVersion` and `kind` from the envelope's TypeMeta.
pub fn decode_request(body: &[u8]) -> Result<Value, Error> {
    let rest = body
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| Error::new(ErrorKind::MissingMagic))?;
    let unknown = decode::unknown(rest)?;
    if !unknown.content_encoding.is_empty() {
        return Err(Error::new(ErrorKind::UnsupportedEncoding(
            unknown.content_encoding,
        )));
    }
    let msg = message_for(&unknown.api_version, &unknown.kind)?;
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), Value::String(unknown.api_version));
    obj.insert("kind".into(), Value::String(unknown.kind));
    decode::message_into(unknown.raw, msg, &mut obj, 0)?;
    Ok(Value::Object(obj))
}

/// Decode one object message (no envelope) of the given top-level kind. The result has no
/// `apiVersion`/`kind` (the object messages do not carry them).
pub fn decode_object(api_version: &str, kind: &str, bytes: &[u8]) -> Result<Value, Error> {
    decode::message_value(bytes, message_for(api_version, kind)?, 0)
}

/// Decode a message by its k8s-pb name (`api.core.v1.PodSpec`), if the table has it.
pub fn decode_message(name: &str, bytes: &[u8]) -> Result<Value, Error> {
    let msg = schema::MESSAGES
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| Error::new(ErrorKind::UnknownMessage(name.to_string())))?;
    decode::message_value(bytes, msg, 0)
}

/// The (apiVersion, kind) pairs a body may carry. `DeleteOptions` is accepted with any
/// apiVersion (clients send it in the version of the resource being deleted).
pub fn kinds() -> impl Iterator<Item = (&'static str, &'static str)> {
    schema::KINDS.iter().map(|(v, k, _)| (*v, *k))
}

/// The message table: every message reachable from [`kinds`].
pub fn messages() -> &'static [Message] {
    schema::MESSAGES
}

fn message_for(api_version: &str, kind: &str) -> Result<&'static Message, Error> {
    schema::KINDS
        .iter()
        .find(|(v, k, _)| *k == kind && (*v == api_version || kind == "DeleteOptions"))
        .map(|(_, _, i)| &schema::MESSAGES[*i as usize])
        .ok_or_else(|| {
            Error::new(ErrorKind::UnknownKind {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
            })
        })
}
