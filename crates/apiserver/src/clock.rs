//! The clock seam, shared with the controllers and nodes (defined in `apimachinery::clock`).

pub use apimachinery::clock::*;
