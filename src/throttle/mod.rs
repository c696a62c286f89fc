//! Field-like conditions: network and CPU profiles (named presets + custom),
//! device emulation, third-party failure, and the means to apply them.
//!
//! - [`profile`]: the `[[profile]]` model and its validation.
//! - [`presets`]: Lighthouse and WebPageTest numbers, phone and desktop devices.
//! - [`cdp`]: the DevTools commands that apply a profile to a session, and the
//!   Chrome switches for the proxy.
//! - [`proxy`]: the user-space shaping proxy (the default network engine).
//! - `accuracy` (feature `testkit`): requested vs measured RTT and bandwidth
//!   through the proxy, for the proxy tests.

#[cfg(feature = "testkit")]
pub mod accuracy;
pub mod cdp;
pub mod error;
pub mod presets;
pub mod profile;
pub mod proxy;

pub use cdp::{CdpCommand, cdp_commands, chrome_args, proxy_chrome_args};
pub use error::{ProfileError, ProxyError};
pub use profile::{
    DEFAULT_PROFILE_NAME, Device, Engine, HostPattern, NameOr, NetworkConditions, Profile,
    ProfileSpec, check_unique,
};
pub use proxy::{ProxyConfig, ProxyHandle, ProxyStats, Shaping};
