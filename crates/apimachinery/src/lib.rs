//! Pure Kubernetes API machinery shared by the server, the controllers and the CLI: no I/O here.

pub mod clock;
pub mod duration;
pub mod fields;
mod gofmt;
pub mod intstr;
pub mod k8s_patch_meta;
pub mod labels;
pub mod names;
pub mod strategic_merge;

pub use duration::{
    human_duration, human_duration_secs, short_human_duration, short_human_duration_secs,
};
pub use fields::{FieldOperator, FieldRequirement, FieldSelector, FieldSelectorError};
pub use gofmt::go_quote;
pub use intstr::{round_to_i32, scaled_value_from_int_or_percent};
pub use k8s_patch_meta::{
    annotate_definitions, builtin_definitions, definition_name, K8S_PATCH_META,
};
pub use labels::{Labels, Operator, ParseError, Requirement, Selector};
pub use names::{
    generate_name, is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_qualified_name,
    is_valid_label_value, random_suffix, safe_encode_string,
};
pub use strategic_merge::{
    apply as apply_strategic_merge_patch, create_three_way_merge_patch, create_two_way_merge_patch,
    strip_patch_directives, PatchError, PatchSchema, SchemaCursor,
};
