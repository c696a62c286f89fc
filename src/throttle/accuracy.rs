//! Requested vs measured network conditions through the shaping proxy.
