//! The process's allocator: mimalloc (v3) instead of glibc malloc, tuned for a long-running
//! server. Measured on the 10,000-replica Deployment of `scripts/bench-nodes` (2 cores,
//! alternating runs, docs/benchmarks.md):
//!
//! - glibc spent about 30% of the rollout's CPU in its own bookkeeping (`_int_malloc`,
//!   `unlink_chunk`, `malloc_consolidate`, `free`) and on arena locks, as objects allocated on
//!   one tokio worker are freed on the other. With mimalloc the rollout takes 6.4–6.7 s instead
//!   of 10.0–10.2 s (12 s of CPU instead of 18 s, 53,000 context switches instead of 137,000).
//! - Its RSS is on par with glibc's only with three settings, made here before the first
//!   allocation: no transparent huge pages (mimalloc asks for them, and this machine's kernel
//!   grants them on request: 392 → 344 MB at 10,000 pods), freed pages purged at once instead
//!   of after 1 s (344 → ~300 MB), and arenas committed on demand instead of eagerly (idle:
//!   34 → 31 MB). Purging at once rather than after 10 ms costs the rollout ~13% more CPU
//!   (6.6–6.8 s instead of 5.7–5.9 s) and keeps idle RSS ~0.5 MB lower (29.3–29.6 MB against
//!   29.8–30.4 MB), under the 30 MB the simulated nodes' issue sets.
//!
//! The arena and huge-page settings only apply to arenas reserved after they are set, and the
//! first one is reserved by the first allocation, before `main`: so they are set by an ELF
//! constructor, which must not allocate. `MIMALLOC_*` variables in the environment still win.

use std::ffi::CStr;
use std::os::raw::{c_int, c_long};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Option numbers from this version's mimalloc.h (the crate is pinned in Cargo.toml).
const MI_OPTION_ARENA_EAGER_COMMIT: c_int = 4;
const MI_OPTION_PURGE_DELAY: c_int = 15;
const MI_OPTION_ALLOW_THP: c_int = 43;

/// (option, value, the environment variable that overrides it)
const SETTINGS: [(c_int, c_long, &CStr); 3] = [
    (
        MI_OPTION_ARENA_EAGER_COMMIT,
        0,
        c"MIMALLOC_ARENA_EAGER_COMMIT",
    ),
    (MI_OPTION_PURGE_DELAY, 0, c"MIMALLOC_PURGE_DELAY"),
    (MI_OPTION_ALLOW_THP, 0, c"MIMALLOC_ALLOW_THP"),
];

extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
}

/// Runs before `main` and before any Rust allocation (glibc calls `.init_array` entries at
/// start-up, as C++ static constructors).
#[used]
#[link_section = ".init_array"]
static BEFORE_MAIN: extern "C" fn() = tune;

/// Apply the settings above. Allocates nothing.
extern "C" fn tune() {
    for (option, value, env) in SETTINGS {
        // SAFETY: getenv reads the environment without allocating; mi_option_set only stores
        // the value, which mimalloc reads when it reserves, commits or purges memory.
        unsafe {
            if libc::getenv(env.as_ptr()).is_null() {
                mi_option_set(option, value);
            }
        }
    }
    // SAFETY: prctl(PR_SET_THP_DISABLE) only sets a flag of this process (inherited by the
    // processes it starts, which the pods' real programs do not mind); mimalloc makes the same
    // call itself when it reads `allow_thp = 0` before its own start-up, which it may not.
    unsafe {
        if libc::getenv(c"MIMALLOC_ALLOW_THP".as_ptr()).is_null() {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" {
        fn mi_is_in_heap_region(p: *const std::ffi::c_void) -> bool;
        fn mi_option_get(option: c_int) -> c_long;
    }

    #[test]
    fn the_process_allocates_with_mimalloc() {
        let b = std::hint::black_box(Box::new([7u8; 64]));
        // SAFETY: only asks mimalloc whether the address is in one of its regions.
        assert!(unsafe { mi_is_in_heap_region(b.as_ptr().cast()) });
        let on_stack = [0u8; 8];
        assert!(!unsafe { mi_is_in_heap_region(on_stack.as_ptr().cast()) });
    }

    // The test binary links this module too, so the constructor ran before this test did.
    #[test]
    fn the_settings_are_in_place_before_main_unless_the_environment_overrides_them() {
        for (option, value, env) in SETTINGS {
            if std::env::var_os(env.to_str().unwrap()).is_none() {
                // SAFETY: mi_option_get only reads an option.
                assert_eq!(unsafe { mi_option_get(option) }, value, "{env:?}");
            }
        }
        // SAFETY: PR_GET_THP_DISABLE only reads the flag.
        let thp_disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
            assert_eq!(thp_disabled, 1);
        }
    }
}
