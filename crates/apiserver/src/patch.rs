//! Strategic merge patch for the registry: applies `apimachinery::strategic_merge` with the
//! patch strategies and merge keys of the kind's type, read from the server's OpenAPI
//! definitions (`openapi::patch_cursor`), so lists merge by key (containers and env by `name`,
//! ports by `containerPort`, ...) and `$patch`, `$retainKeys`, `$setElementOrder` and
//! `$deleteFromPrimitiveList` directives are honoured. Failures map to kube-apiserver's codes:
//! a malformed patch is 400, lists of lists and a `$retainKeys` mismatch are 422.

use crate::error::{ApiError, ApiResult};
use crate::kinds::Kind;
use apimachinery::strategic_merge::strip_patch_directives;
use serde_json::Value;

/// Apply a strategic merge patch to `current` (in the kind's view).
pub fn strategic(kind: &Kind, current: &Value, patch: &Value) -> ApiResult<Value> {
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "unable to unmarshal patch: the patch must be a JSON object",
        ));
    }
    let cursor = crate::openapi::patch_cursor(kind);
    let mut out = apimachinery::apply_strategic_merge_patch(current, patch, cursor)
        .map_err(|e| interpret(e.message()))?;
    strip_patch_directives(&mut out);
    Ok(out)
}

/// kube-apiserver's `interpretStrategicMergePatchError`: format errors are 400, lists of
/// lists and content not matching `$retainKeys` 422. Other merge failures (a list item
/// without its merge key, a value of the wrong type) are the client's too: 400.
fn interpret(msg: &str) -> ApiError {
    const UNPROCESSABLE: &[&str] = &[
        "lists of lists are not supported",
        "patch content doesn't match retainKeys list",
    ];
    if UNPROCESSABLE.contains(&msg) {
        let mut e = ApiError::bad_request(msg);
        e.code = 422;
        e.reason = "Invalid";
        return e;
    }
    ApiError::bad_request(msg)
}
