//! The Kubernetes remote-command channel protocols over WebSocket (`pods/exec`), pure: which
//! subprotocol to pick from a client's offer, how a channel's bytes become a message and back
//! (binary `<channel><data>`, or base64 text `<'0'+channel><base64>`), the v5 close signal
//! `255 <channel>`, terminal-resize JSON, and the status a finished command reports on the
//! error channel (a `metav1.Status` from v4 on, plain text before).

use base64::Engine;
use serde::Serialize;
use serde_json::Value;

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
/// The error channel: the command's final status.
pub const ERROR: u8 = 3;
/// Terminal resize events (JSON `{"Width":..,"Height":..}`).
pub const RESIZE: u8 = 4;
/// v5's close signal: `[255, channel]` half-closes that channel (the client's stdin EOF).
pub const CLOSE_SIGNAL: u8 = 255;

/// A remote-command subprotocol the server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `v5.channel.k8s.io`: v4 plus the close signal (kubectl 1.35, kube-rs).
    V5,
    /// `v4.channel.k8s.io`: binary frames, a JSON `Status` on the error channel.
    V4,
    /// `v4.base64.channel.k8s.io`: v4 in base64 text frames.
    V4Base64,
    /// `channel.k8s.io` (also what a client offering no subprotocol gets): binary frames,
    /// the error channel carries only a failure's message text.
    V1,
    /// `base64.channel.k8s.io`: v1 in base64 text frames.
    V1Base64,
}

/// The protocols of `pods/portforward` (the kubelet's: no v5).
pub const PORT_FORWARD_PROTOCOLS: [Protocol; 4] = [
    Protocol::V4,
    Protocol::V4Base64,
    Protocol::V1,
    Protocol::V1Base64,
];

/// Every protocol, in the order the error message lists them.
pub const PROTOCOLS: [Protocol; 5] = [
    Protocol::V5,
    Protocol::V4,
    Protocol::V4Base64,
    Protocol::V1,
    Protocol::V1Base64,
];

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::V5 => "v5.channel.k8s.io",
            Protocol::V4 => "v4.channel.k8s.io",
            Protocol::V4Base64 => "v4.base64.channel.k8s.io",
            Protocol::V1 => "channel.k8s.io",
            Protocol::V1Base64 => "base64.channel.k8s.io",
        }
    }

    fn from_name(name: &str) -> Option<Protocol> {
        PROTOCOLS.into_iter().find(|p| p.name() == name)
    }

    /// The first protocol of the client's offer (in its order, as kube-apiserver picks) that
    /// the server speaks. No offer at all means `channel.k8s.io`, answered without a
    /// `Sec-WebSocket-Protocol` header (the `None` of the second field).
    pub fn negotiate(offered: &[String]) -> Result<(Protocol, Option<&'static str>), String> {
        Protocol::negotiate_among(offered, &PROTOCOLS)
    }

    /// [`Protocol::negotiate`] among `supported` only (port forwarding has no v5).
    pub fn negotiate_among(
        offered: &[String],
        supported: &[Protocol],
    ) -> Result<(Protocol, Option<&'static str>), String> {
        if offered.is_empty() {
            return Ok((Protocol::V1, None));
        }
        offered
            .iter()
            .find_map(|o| Protocol::from_name(o).filter(|p| supported.contains(p)))
            .map(|p| (p, Some(p.name())))
            .ok_or_else(|| {
                let supported: Vec<&str> = supported.iter().map(|p| p.name()).collect();
                format!(
                    "requested protocol(s) are not supported: [{}]; supports [{}]",
                    offered.join(" "),
                    supported.join(" ")
                )
            })
    }

    pub fn base64(self) -> bool {
        matches!(self, Protocol::V4Base64 | Protocol::V1Base64)
    }

    /// Whether the client may half-close a channel with `[255, channel]`.
    pub fn supports_close(self) -> bool {
        self == Protocol::V5
    }

    /// Whether the error channel carries a JSON `Status` (v4 and later).
    fn status_json(self) -> bool {
        matches!(self, Protocol::V5 | Protocol::V4 | Protocol::V4Base64)
    }
}

/// A message to send: its bytes, and whether it is a text (base64) message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub text: bool,
    pub data: Vec<u8>,
}

/// `data` on `channel` as one message.
pub fn encode(protocol: Protocol, channel: u8, data: &[u8]) -> Frame {
    if protocol.base64() {
        let mut out = vec![b'0' + channel];
        out.extend_from_slice(
            base64::engine::general_purpose::STANDARD
                .encode(data)
                .as_bytes(),
        );
        Frame {
            text: true,
            data: out,
        }
    } else {
        let mut out = Vec::with_capacity(data.len() + 1);
        out.push(channel);
        out.extend_from_slice(data);
        Frame {
            text: false,
            data: out,
        }
    }
}

/// What a client's message means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// Bytes for a channel (stdin, resize; anything else is ignored by the caller).
    Data { channel: u8, data: Vec<u8> },
    /// v5: the client will send nothing more on this channel.
    Close { channel: u8 },
    /// An empty message: nothing to do.
    Empty,
}

/// Read one client message (its payload, text or binary alike).
pub fn decode(protocol: Protocol, msg: &[u8]) -> Result<Inbound, String> {
    let Some((&first, rest)) = msg.split_first() else {
        return Ok(Inbound::Empty);
    };
    if protocol.supports_close() && first == CLOSE_SIGNAL {
        return match rest {
            [channel] => Ok(Inbound::Close { channel: *channel }),
            _ => Err(format!(
                "single channel byte should follow stream close signal, got {} bytes",
                rest.len()
            )),
        };
    }
    if protocol.base64() {
        let channel = first
            .checked_sub(b'0')
            .ok_or_else(|| format!("invalid base64 channel byte {first}"))?;
        let data = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|e| format!("invalid base64 data on channel {channel}: {e}"))?;
        return Ok(Inbound::Data { channel, data });
    }
    Ok(Inbound::Data {
        channel: first,
        data: rest.to_vec(),
    })
}

/// The terminal sizes (columns, rows) in the resize channel's bytes: one or more JSON objects
/// with `Width` and `Height` (field names matched case-insensitively, as Go's decoder does).
/// Anything unreadable ends the list, as the kubelet stops reading resize events then.
pub fn resize_events(data: &[u8]) -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    for value in serde_json::Deserializer::from_slice(data).into_iter::<Value>() {
        let Ok(Value::Object(map)) = value else { break };
        let field = |name: &str| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_u64())
                .and_then(|n| u16::try_from(n).ok())
                .unwrap_or(0)
        };
        out.push((field("Width"), field("Height")));
    }
    out
}

/// How a command ended, for the error channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The process exited with this code.
    Exited(i32),
    /// The command failed otherwise: a `Status` (code, reason, message) the way
    /// kube-apiserver writes an error on the channel.
    Failed {
        code: u16,
        reason: String,
        message: String,
    },
}

#[derive(Serialize)]
struct Status<'a> {
    metadata: Meta,
    status: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Details<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<u16>,
}

#[derive(Serialize)]
struct Meta {}

#[derive(Serialize)]
struct Details<'a> {
    causes: Vec<Cause<'a>>,
}

#[derive(Serialize)]
struct Cause<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
    message: &'a str,
}

/// The error channel's last message for `outcome` of `command`, or `None` when the protocol
/// says nothing (success before v4).
///
/// v4 and v5 send `json.Marshal` of a `metav1.Status` (no kind or apiVersion, fields in Go's
/// order). A non-zero exit is `reason: NonZeroExitCode` with the code as an `ExitCode` cause,
/// which client-go turns into `command terminated with exit code 3`. The message differs by
/// path upstream, and so it does here: v5 goes through kube-apiserver's stream translator,
/// which re-wraps client-go's error (`...: command terminated with exit code 3`); v4 is the
/// kubelet's own (`...: error executing command [sh -c exit 3], exit code 3`). Exit codes are
/// reported modulo 256, the range client-go accepts.
pub fn final_status(protocol: Protocol, command: &[String], outcome: &Outcome) -> Option<Vec<u8>> {
    let (failure_message, status) = match outcome {
        Outcome::Exited(0) => (
            None,
            Status {
                metadata: Meta {},
                status: "Success",
                message: "",
                reason: "",
                details: None,
                code: None,
            },
        ),
        Outcome::Exited(code) => {
            let code = code.rem_euclid(256);
            let inner = if protocol == Protocol::V5 {
                format!("command terminated with exit code {code}")
            } else {
                format!(
                    "error executing command [{}], exit code {code}",
                    command.join(" ")
                )
            };
            let message = format!("command terminated with non-zero exit code: {inner}");
            let code_text = code.to_string();
            let bytes = if protocol.status_json() {
                serde_json::to_vec(&Status {
                    metadata: Meta {},
                    status: "Failure",
                    message: &message,
                    reason: "NonZeroExitCode",
                    details: Some(Details {
                        causes: vec![Cause {
                            reason: "ExitCode",
                            message: &code_text,
                        }],
                    }),
                    code: None,
                })
                .ok()
            } else {
                None
            };
            return Some(bytes.unwrap_or_else(|| message.into_bytes()));
        }
        Outcome::Failed {
            code,
            reason,
            message,
        } => {
            let status = Status {
                metadata: Meta {},
                status: "Failure",
                message,
                reason,
                details: None,
                code: Some(*code),
            };
            (Some(message.clone()), status)
        }
    };
    if !protocol.status_json() {
        return failure_message.map(String::into_bytes);
    }
    serde_json::to_vec(&status).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_first_offered_protocol_the_server_speaks_is_chosen() {
        let cases: &[(&[&str], Protocol, Option<&str>)] = &[
            (
                &["v5.channel.k8s.io"],
                Protocol::V5,
                Some("v5.channel.k8s.io"),
            ),
            (
                &["v5.channel.k8s.io", "v4.channel.k8s.io"],
                Protocol::V5,
                Some("v5.channel.k8s.io"),
            ),
            (
                &["v4.channel.k8s.io", "v5.channel.k8s.io"],
                Protocol::V4,
                Some("v4.channel.k8s.io"),
            ),
            (
                &["SPDY/3.1+portforward.k8s.io", "v4.channel.k8s.io"],
                Protocol::V4,
                Some("v4.channel.k8s.io"),
            ),
            (
                &["base64.channel.k8s.io"],
                Protocol::V1Base64,
                Some("base64.channel.k8s.io"),
            ),
            (&[], Protocol::V1, None),
        ];
        for (offered, protocol, header) in cases {
            assert_eq!(
                Protocol::negotiate(&offer(offered)),
                Ok((*protocol, *header)),
                "{offered:?}"
            );
        }
    }

    #[test]
    fn port_forwarding_answers_kube_rs_offer_with_v4() {
        let offered = offer(&["v5.channel.k8s.io", "v4.channel.k8s.io"]);
        assert_eq!(
            Protocol::negotiate_among(&offered, &PORT_FORWARD_PROTOCOLS),
            Ok((Protocol::V4, Some("v4.channel.k8s.io")))
        );
        assert!(
            Protocol::negotiate_among(&offer(&["v5.channel.k8s.io"]), &PORT_FORWARD_PROTOCOLS)
                .is_err()
        );
    }

    #[test]
    fn an_offer_of_only_unknown_protocols_is_refused_naming_both_lists() {
        assert_eq!(
            Protocol::negotiate(&offer(&["v9.channel.k8s.io", "chat"])).unwrap_err(),
            "requested protocol(s) are not supported: [v9.channel.k8s.io chat]; supports \
             [v5.channel.k8s.io v4.channel.k8s.io v4.base64.channel.k8s.io channel.k8s.io base64.channel.k8s.io]"
        );
    }

    #[test]
    fn frames_carry_the_channel_first_in_binary_and_as_a_digit_in_base64() {
        // (protocol, channel, data, text frame?, bytes on the wire)
        type Case = (Protocol, u8, &'static [u8], bool, &'static [u8]);
        let cases: &[Case] = &[
            (Protocol::V5, STDOUT, b"hi\n", false, b"\x01hi\n"),
            (Protocol::V4, STDERR, b"", false, b"\x02"),
            (Protocol::V4Base64, STDOUT, b"hi\n", true, b"1aGkK"),
            (Protocol::V1Base64, ERROR, b"", true, b"3"),
        ];
        for (protocol, channel, data, text, wire) in cases {
            let frame = encode(*protocol, *channel, data);
            assert_eq!((frame.text, frame.data.as_slice()), (*text, *wire));
        }
    }

    #[test]
    fn client_messages_decode_to_data_close_or_nothing() {
        let cases: &[(Protocol, &[u8], Result<Inbound, ()>)] = &[
            (
                Protocol::V5,
                b"\x00ls\n",
                Ok(Inbound::Data {
                    channel: STDIN,
                    data: b"ls\n".to_vec(),
                }),
            ),
            (
                Protocol::V5,
                b"\xff\x00",
                Ok(Inbound::Close { channel: STDIN }),
            ),
            (Protocol::V5, b"\xff", Err(())),
            (Protocol::V5, b"\xff\x00\x00", Err(())),
            // Before v5, 255 is just a channel number (ignored by the caller).
            (
                Protocol::V4,
                b"\xff\x00",
                Ok(Inbound::Data {
                    channel: 255,
                    data: vec![0],
                }),
            ),
            (Protocol::V4, b"", Ok(Inbound::Empty)),
            (
                Protocol::V4Base64,
                b"0aGkK",
                Ok(Inbound::Data {
                    channel: STDIN,
                    data: b"hi\n".to_vec(),
                }),
            ),
            (Protocol::V4Base64, b"0!!", Err(())),
            (Protocol::V1Base64, b"\x01", Err(())),
        ];
        for (protocol, msg, want) in cases {
            let got = decode(*protocol, msg).map_err(|_| ());
            assert_eq!(&got, want, "{protocol:?} {msg:?}");
        }
    }

    #[test]
    fn resize_events_read_go_style_json_objects() {
        type Case = (&'static [u8], &'static [(u16, u16)]);
        let cases: &[Case] = &[
            (br#"{"Width":120,"Height":40}"#, &[(120, 40)]),
            (br#"{"width":80,"height":24}"#, &[(80, 24)]),
            (
                br#"{"Width":1,"Height":2}{"Width":3,"Height":4}"#,
                &[(1, 2), (3, 4)],
            ),
            (br#"{"Width":70000,"Height":5}"#, &[(0, 5)]),
            (b"not json", &[]),
            (br#"{"Width":9,"Height":9}garbage"#, &[(9, 9)]),
        ];
        for (data, want) in cases {
            assert_eq!(
                resize_events(data),
                *want,
                "{}",
                String::from_utf8_lossy(data)
            );
        }
    }

    fn status(protocol: Protocol, outcome: Outcome) -> Option<String> {
        let command = ["sh".to_string(), "-c".to_string(), "exit 3".to_string()];
        final_status(protocol, &command, &outcome).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn the_final_status_is_written_as_kube_apiserver_and_the_kubelet_write_it() {
        let cases: &[(Protocol, Outcome, Option<&str>)] = &[
            (
                Protocol::V5,
                Outcome::Exited(0),
                Some(r#"{"metadata":{},"status":"Success"}"#),
            ),
            (
                Protocol::V4,
                Outcome::Exited(0),
                Some(r#"{"metadata":{},"status":"Success"}"#),
            ),
            (Protocol::V1, Outcome::Exited(0), None),
            (
                Protocol::V5,
                Outcome::Exited(3),
                Some(
                    r#"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: command terminated with exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#,
                ),
            ),
            (
                Protocol::V4,
                Outcome::Exited(3),
                Some(
                    r#"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#,
                ),
            ),
            (
                Protocol::V1,
                Outcome::Exited(3),
                Some("command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3"),
            ),
            (
                Protocol::V5,
                Outcome::Exited(-1),
                Some(
                    r#"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: command terminated with exit code 255","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"255"}]}}"#,
                ),
            ),
            (
                Protocol::V5,
                Outcome::Failed {
                    code: 500,
                    reason: "InternalError".into(),
                    message: "Internal error occurred: unable to upgrade connection: container not found (\"c\")".into(),
                },
                Some(
                    r#"{"metadata":{},"status":"Failure","message":"Internal error occurred: unable to upgrade connection: container not found (\"c\")","reason":"InternalError","code":500}"#,
                ),
            ),
            (
                Protocol::V1Base64,
                Outcome::Failed {
                    code: 500,
                    reason: "InternalError".into(),
                    message: "boom".into(),
                },
                Some("boom"),
            ),
        ];
        for (protocol, outcome, want) in cases {
            assert_eq!(
                status(*protocol, outcome.clone()).as_deref(),
                *want,
                "{protocol:?} {outcome:?}"
            );
        }
    }
}
