//! The kube-lite API server: the Kubernetes REST API over the `storage` crate, for every kind
//! in the kinds table, through one generic registry.
//!
//! Layout: `kinds/` (the table of kinds and their strategies), `registry/` (the generic store
//! flow), `http/` (router, per-verb handlers, discovery, responses), `table` (server-side
//! printing) and `printers/` (each kind's columns and rows), `openapi/` (the v2/v3 documents
//! generated from the k8s-openapi types, and the schemas behind strategic merge patch and
//! fieldValidation), `patch` (strategic merge patch wiring), `fieldset` (field sets and the structured merge behind server-side apply and managedFields), `error` (the one `Status` translation), `node_agent` (the seam to the kubelets: `pods/log`, `pods/exec`, `pods/portforward`), `clock` (the time seam), `server`
//! (serving on a socket with graceful shutdown).

pub mod clock;
pub mod error;
pub mod fieldset;
pub mod http;
pub mod kinds;
pub mod node_agent;
pub mod openapi;
pub mod patch;
pub mod printers;
pub mod registry;
pub mod server;
pub mod table;

pub use http::app;
pub use registry::Registry;
