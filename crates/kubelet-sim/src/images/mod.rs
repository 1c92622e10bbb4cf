//! Images: references as containerd normalizes them, and the catalog the simulated registry
//! serves (known repositories with their tags, sizes and behaviour).

pub mod catalog;
pub mod reference;

pub use catalog::{Behaviour, Catalog, ImageInfo, Profile, Resolution};
pub use reference::{random_id, ImageRef, InvalidReference};
