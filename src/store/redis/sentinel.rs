//! Redis Sentinel for [`super::RedisStore`]: the master is asked of the Sentinels
//! (`SENTINEL get-master-addr-by-name`), connected like any server, and asked again after a
//! failover (a connection error, a `READONLY` reply, and every health probe), without
//! restarting memscope.

use crate::config::RedisConfig;
pub use crate::config::{SentinelUrl, is_sentinel_url};
use crate::error::StoreError;
use redis::IntoConnectionInfo;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

/// The master the Sentinels name now, with a connection to it.
pub struct SentinelMaster {
    pub url: SentinelUrl,
    cfg: RedisConfig,
    db: u32,
    current: tokio::sync::Mutex<Option<(String, ConnectionManager)>>,
}

impl SentinelMaster {
    pub fn new(url: SentinelUrl, cfg: &RedisConfig, db: u32) -> SentinelMaster {
        SentinelMaster { url, cfg: cfg.clone(), db, current: Default::default() }
    }

    /// The master's address (`host:port`) the last resolution found.
    pub async fn current_addr(&self) -> Option<String> {
        self.current.lock().await.as_ref().map(|(a, _)| a.clone())
    }

    /// A connection to the master, resolved through the Sentinels when none is known.
    pub async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        if let Some((_, c)) = self.current.lock().await.as_ref() {
            return Ok(c.clone());
        }
        let addr = self.resolve().await?;
        self.switch_to(addr).await
    }

    /// Forget the master (after a connection error or a READONLY reply): the next call asks
    /// the Sentinels again.
    pub async fn forget(&self) {
        *self.current.lock().await = None;
    }

    /// Ask the Sentinels; switch when the master moved (a failover).
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let addr = self.resolve().await?;
        if self.current_addr().await.as_deref() != Some(addr.as_str()) {
            tracing::warn!(master = %self.url.master, to = %addr, "Sentinel: the master moved");
            self.switch_to(addr).await?;
        }
        Ok(())
    }

    async fn switch_to(&self, addr: String) -> Result<ConnectionManager, StoreError> {
        let (host, port) = addr.rsplit_once(':').map(|(h, p)| (h.to_string(), p.to_string())).unwrap_or_default();
        let scheme = if self.url.tls { "rediss" } else { "redis" };
        let auth = self.url.auth.as_ref().map(|a| format!("{a}@")).unwrap_or_default();
        let info = format!("{scheme}://{auth}{host}:{port}/{}", self.db)
            .as_str()
            .into_connection_info()
            .map_err(|e| StoreError::Other(format!("master {addr}: {e}")))?;
        let client = super::client::client_for(info, &self.cfg)?;
        let mgr_cfg = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(200))
            .set_connection_timeout(Some(Duration::from_millis(250.max(self.cfg.timeout_ms.min(5_000)))))
            .set_response_timeout(None);
        let conn = ConnectionManager::new_lazy_with_config(client, mgr_cfg)
            .map_err(|e| StoreError::Unreachable(format!("master {addr}: {e}")))?;
        *self.current.lock().await = Some((addr, conn.clone()));
        Ok(conn)
    }

    /// `SENTINEL get-master-addr-by-name`, of the first Sentinel that knows the master.
    async fn resolve(&self) -> Result<String, StoreError> {
        let ms = self.cfg.timeout_ms;
        let mut why = Vec::new();
        for (host, port) in &self.url.sentinels {
            let ask = async {
                let mut info =
                    format!("redis://{host}:{port}").as_str().into_connection_info().map_err(|e| e.to_string())?;
                if let Some((user, pw)) = &self.url.sentinel_auth {
                    let mut settings = info.redis_settings().clone().set_password(pw);
                    if let Some(u) = user {
                        settings = settings.set_username(u);
                    }
                    info = info.set_redis_settings(settings);
                }
                let client = redis::Client::open(info).map_err(|e| e.to_string())?;
                let mut c = client.get_multiplexed_async_connection().await.map_err(|e| e.to_string())?;
                redis::cmd("SENTINEL")
                    .arg("get-master-addr-by-name")
                    .arg(&self.url.master)
                    .query_async::<Option<(String, String)>>(&mut c)
                    .await
                    .map_err(|e| e.to_string())
            };
            match tokio::time::timeout(Duration::from_millis(ms), ask).await {
                Ok(Ok(Some((ip, port)))) => return Ok(format!("{ip}:{port}")),
                Ok(Ok(None)) => why.push(format!("{host}:{port} knows no master named `{}`", self.url.master)),
                Ok(Err(e)) => why.push(format!("{host}:{port}: {e}")),
                Err(_) => why.push(format!("{host}:{port}: no reply within {ms} ms")),
            }
        }
        Err(StoreError::Unreachable(format!(
            "no Sentinel named the master `{}` (asked {}): {}",
            self.url.master,
            self.url.sentinels.iter().map(|(h, p)| format!("{h}:{p}")).collect::<Vec<_>>().join(", "),
            why.join("; ")
        )))
    }
}
