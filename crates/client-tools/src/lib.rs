//! What client-go's `tools` give every component: `record` (core/v1 Events through the event
//! correlator, as `tools/record` does for the controllers and the kubelet) and `writes` (API
//! writes whose answer is not decoded). Shared by the controller-manager and the simulated nodes.

pub mod record;
pub mod writes;
