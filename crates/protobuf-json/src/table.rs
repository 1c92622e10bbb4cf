//! The shape of the generated message table (`schema.rs`).

/// A field's element type on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Str,
    I32,
    I64,
    Bool,
    F64,
    Bytes,
    /// A message, by index into [`crate::schema::MESSAGES`].
    Msg(u16),
}

/// How often a field occurs and where its value goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Card {
    /// One value under the JSON name.
    One,
    /// A JSON array (packed or not on the wire).
    Rep,
    /// `map<string, T>`: entries with key 1 and value 2, a JSON object.
    Map,
    /// An embedded Go struct (`json:",inline"`): its fields go into the parent object.
    Inline,
}

/// A message with its own JSON form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// meta/v1 Time {1 seconds, 2 nanos}: RFC 3339 in seconds, `null` when zero.
    Time,
    /// meta/v1 MicroTime: RFC 3339 with 6 fractional digits.
    MicroTime,
    /// meta/v1 Duration {1 nanoseconds}: a Go duration string.
    Duration,
    /// meta/v1 FieldsV1 {1 raw}: the raw JSON.
    FieldsV1,
    /// IntOrString {1 type, 2 intVal, 3 strVal}: a number or a string.
    IntOrString,
    /// resource.Quantity {1 string}: the string.
    Quantity,
    /// runtime.RawExtension {1 raw}: the raw JSON.
    RawExtension,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Plain,
    Special(Special),
}

#[derive(Debug)]
pub struct Field {
    pub number: u32,
    /// The JSON property name (empty for [`Card::Inline`]).
    pub json: &'static str,
    pub ty: Ty,
    pub card: Card,
    /// Keep a zero scalar (`0`, `""`, `false`) instead of dropping it like Go's `omitempty`:
    /// set for required properties and Go pointer fields.
    pub keep_zero: bool,
}

#[derive(Debug)]
pub struct Message {
    /// The k8s-pb path, e.g. `api.apps.v1.Deployment`.
    pub name: &'static str,
    pub kind: Kind,
    /// Sorted by field number.
    pub fields: &'static [Field],
}

impl Message {
    pub fn field(&self, number: u32) -> Option<&'static Field> {
        self.fields
            .binary_search_by_key(&number, |f| f.number)
            .ok()
            .map(|i| &self.fields[i])
    }
}

/// Table row constructor, keeping the generated file compact.
pub(crate) const fn f(
    number: u32,
    json: &'static str,
    ty: Ty,
    card: Card,
    keep_zero: bool,
) -> Field {
    Field {
        number,
        json,
        ty,
        card,
        keep_zero,
    }
}
