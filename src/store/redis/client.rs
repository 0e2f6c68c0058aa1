//! How memscope reaches one Redis server: the client (TLS from `tls_ca_file` when set) and
//! what a redis-rs error means to the rest of memscope. Below both the store and its Sentinel
//! discovery, which each build clients with it.

use crate::config::RedisConfig;
use crate::error::StoreError;

/// A client for `info`, trusting the profile's CA (`tls_ca_file`) when it names one.
pub(super) fn client_for(info: redis::ConnectionInfo, cfg: &RedisConfig) -> Result<redis::Client, StoreError> {
    match &cfg.tls_ca_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| StoreError::NotConfigured(format!("cannot read tls_ca_file {path}: {e}")))?;
            if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
                return Err(StoreError::NotConfigured(format!(
                    "tls_ca_file {path}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
                )));
            }
            let certs = redis::TlsCertificates { client_tls: None, root_cert: Some(pem) };
            redis::Client::build_with_tls(info, certs).map_err(|e| {
                StoreError::NotConfigured(format!("tls_ca_file {path}: not a usable PEM certificate: {e}"))
            })
        }
        None => redis::Client::open(info).map_err(map_err),
    }
}

/// A redis-rs error as memscope says it: the server out of reach (retried, shown DOWN), or
/// what the server answered.
pub(super) fn map_err(e: redis::RedisError) -> StoreError {
    if e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() || e.is_timeout() {
        StoreError::Unreachable(e.to_string())
    } else {
        StoreError::Server(e.to_string())
    }
}
