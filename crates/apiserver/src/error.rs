//! The API layer's one error type and its single translation to a `metav1.Status` response.
//!
//! Storage errors become `ApiError`s in one place (`ApiError::from_storage`), with the
//! resource and name the request was about; every `ApiError` becomes a `Status` body in
//! `IntoResponse`. Message wording follows kube-apiserver.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use storage::StorageError;

/// One field-level problem inside an `Invalid` error (`metav1.StatusCause`).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, `FieldValueForbidden`, ...
    pub reason: &'static str,
    /// The field path, e.g. `metadata.name` or `spec.template.spec.containers[0].image`.
    pub field: String,
    /// The full message, e.g. `Required value` or `Invalid value: "x": must be ...`.
    pub message: String,
}

impl FieldError {
    pub fn required(field: impl Into<String>) -> Self {
        FieldError {
            reason: "FieldValueRequired",
            field: field.into(),
            message: "Required value".into(),
        }
    }

    pub fn required_msg(field: impl Into<String>, detail: &str) -> Self {
        FieldError {
            reason: "FieldValueRequired",
            field: field.into(),
            message: format!("Required value: {detail}"),
        }
    }

    pub fn invalid(field: impl Into<String>, value: &Value, detail: &str) -> Self {
        FieldError {
            reason: "FieldValueInvalid",
            field: field.into(),
            message: format!("Invalid value: {}: {detail}", go_value(value)),
        }
    }

    pub fn not_supported(field: impl Into<String>, value: &Value, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
        FieldError {
            reason: "FieldValueNotSupported",
            field: field.into(),
            message: format!(
                "Unsupported value: {}: supported values: {}",
                go_value(value),
                list.join(", ")
            ),
        }
    }

    pub fn forbidden(field: impl Into<String>, detail: &str) -> Self {
        FieldError {
            reason: "FieldValueForbidden",
            field: field.into(),
            message: format!("Forbidden: {detail}"),
        }
    }

    pub fn immutable(field: impl Into<String>, value: &Value) -> Self {
        FieldError::invalid(field, value, "field is immutable")
    }

    /// `field: message`, as kube-apiserver joins causes into the Status message.
    pub fn display(&self) -> String {
        format!("{}: {}", self.field, self.message)
    }
}

/// How Go's `%#v`-ish printing in field errors renders a value: strings quoted, numbers bare.
fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// An error answered to a client as a `Status`.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `details.name`, `details.group`, `details.kind` (the resource plural, as upstream).
    pub name: Option<String>,
    pub group: Option<String>,
    pub kind: Option<String>,
    pub causes: Vec<FieldError>,
    pub retry_after: Option<u32>,
}

/// `group`-qualified resource as kube-apiserver prints it: `deployments.apps`, `pods`.
pub fn qualified(resource: &str, group: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            name: None,
            group: None,
            kind: None,
            causes: Vec::new(),
            retry_after: None,
        }
    }

    fn about(mut self, resource: &str, group: &str, name: &str) -> Self {
        self.name = (!name.is_empty()).then(|| name.to_string());
        self.group = (!group.is_empty()).then(|| group.to_string());
        self.kind = Some(resource.to_string());
        self
    }

    pub fn not_found(resource: &str, group: &str, name: &str) -> Self {
        ApiError::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", qualified(resource, group)),
        )
        .about(resource, group, name)
    }

    pub fn already_exists(resource: &str, group: &str, name: &str) -> Self {
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", qualified(resource, group)),
        )
        .about(resource, group, name)
    }

    pub fn conflict(resource: &str, group: &str, name: &str, detail: &str) -> Self {
        ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {detail}",
                qualified(resource, group)
            ),
        )
        .about(resource, group, name)
    }

    /// A server-side apply's conflicts with other field managers (`details.causes` only).
    pub fn apply_conflict(message: String, causes: Vec<FieldError>) -> Self {
        let mut e = ApiError::new(409, "Conflict", message);
        e.causes = causes;
        e
    }

    pub fn conflict_modified(resource: &str, group: &str, name: &str) -> Self {
        ApiError::conflict(
            resource,
            group,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// `Invalid` (422) with field causes: `Deployment.apps "x" is invalid: [a: ..., b: ...]`.
    pub fn invalid(kind: &str, group: &str, name: &str, causes: Vec<FieldError>) -> Self {
        let qualified_kind = qualified(kind, group);
        let joined = if causes.len() == 1 {
            causes[0].display()
        } else {
            format!(
                "[{}]",
                causes
                    .iter()
                    .map(FieldError::display)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut e = ApiError::new(
            422,
            "Invalid",
            format!("{qualified_kind} \"{name}\" is invalid: {joined}"),
        );
        e.name = Some(name.to_string());
        e.group = (!group.is_empty()).then(|| group.to_string());
        e.kind = Some(kind.to_string());
        e.causes = causes;
        e
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message)
    }

    pub fn forbidden(resource: &str, group: &str, name: &str, detail: &str) -> Self {
        let msg = format!(
            "{} \"{name}\" is forbidden: {detail}",
            qualified(resource, group)
        );
        ApiError::new(403, "Forbidden", msg).about(resource, group, name)
    }

    /// `Forbidden` (403) without a resource: e.g. a WebSocket subprotocol the server does
    /// not speak.
    pub fn forbidden_request(message: impl Into<String>) -> Self {
        ApiError::new(403, "Forbidden", message)
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        ApiError::new(405, "MethodNotAllowed", message)
    }

    pub fn page_not_found() -> Self {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub fn gone(message: impl Into<String>) -> Self {
        ApiError::new(410, "Expired", message)
    }

    pub fn too_large() -> Self {
        ApiError::new(
            413,
            "RequestEntityTooLarge",
            "Request entity too large: limit is 3145728",
        )
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        ApiError::new(415, "UnsupportedMediaType", format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type:?})"))
    }

    pub fn not_acceptable(message: impl Into<String>) -> Self {
        ApiError::new(406, "NotAcceptable", message)
    }

    pub fn timeout(message: impl Into<String>) -> Self {
        ApiError::new(504, "Timeout", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(
            500,
            "InternalError",
            format!("Internal error occurred: {}", message.into()),
        )
    }

    pub fn service_unavailable(message: impl Into<String>) -> Self {
        ApiError::new(503, "ServiceUnavailable", message)
    }

    /// The one translation of storage errors, given what the request was about.
    pub fn from_storage(err: StorageError, resource: &str, group: &str, name: &str) -> Self {
        match err {
            StorageError::NotFound(_) => ApiError::not_found(resource, group, name),
            StorageError::AlreadyExists(_) => ApiError::already_exists(resource, group, name),
            StorageError::Conflict { .. } => ApiError::conflict_modified(resource, group, name),
            StorageError::Expired { requested, oldest } => {
                ApiError::gone(format!("too old resource version: {requested} ({oldest})"))
            }
            StorageError::TooLarge { requested, current } => {
                // client-go's IsTooLargeResourceVersionError looks for this cause.
                let mut e = ApiError::timeout(format!(
                    "Timeout: Too large resource version: {requested}, current resource version: {current}"
                ));
                e.retry_after = Some(1);
                e.causes.push(FieldError {
                    reason: "ResourceVersionTooLarge",
                    field: String::new(),
                    message: format!("Too large resource version: {requested}, current resource version: {current}"),
                });
                e
            }
            StorageError::InvalidObject(m) => ApiError::bad_request(m),
            StorageError::Internal(m) => ApiError::internal(m),
        }
    }

    /// The `metav1.Status` body.
    pub fn status(&self) -> Value {
        let mut details = serde_json::Map::new();
        if let Some(n) = &self.name {
            details.insert("name".into(), json!(n));
        }
        if let Some(g) = &self.group {
            details.insert("group".into(), json!(g));
        }
        if let Some(k) = &self.kind {
            details.insert("kind".into(), json!(k));
        }
        if !self.causes.is_empty() {
            let causes: Vec<Value> = self
                .causes
                .iter()
                .map(|c| {
                    let mut cause = json!({"reason": c.reason, "message": c.message});
                    if !c.field.is_empty() {
                        cause["field"] = json!(c.field);
                    }
                    cause
                })
                .collect();
            details.insert("causes".into(), Value::Array(causes));
        }
        if let Some(r) = self.retry_after {
            details.insert("retryAfterSeconds".into(), json!(r));
        }
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if !details.is_empty() {
            status["details"] = Value::Object(details);
        }
        status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.status()).unwrap_or_default();
        let mut resp = (
            StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        )
            .into_response();
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        if let Some(r) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&r.to_string()) {
                resp.headers_mut().insert("retry-after", v);
            }
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_message_names_the_group_qualified_resource() {
        let e = ApiError::not_found("deployments", "apps", "nope");
        assert_eq!(e.message, "deployments.apps \"nope\" not found");
        let s = e.status();
        assert_eq!(s["details"]["kind"], "deployments");
        assert_eq!(s["details"]["group"], "apps");
        assert_eq!(s["code"], 404);
    }

    #[test]
    fn invalid_joins_several_causes_in_brackets() {
        let e = ApiError::invalid(
            "Deployment",
            "apps",
            "x",
            vec![
                FieldError::required("spec.selector"),
                FieldError::required("spec.template.metadata.labels"),
            ],
        );
        assert_eq!(
            e.message,
            "Deployment.apps \"x\" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Required value]"
        );
        assert_eq!(e.code, 422);
    }

    #[test]
    fn core_group_resources_are_unqualified() {
        assert_eq!(
            ApiError::already_exists("configmaps", "", "x").message,
            "configmaps \"x\" already exists"
        );
    }
}
