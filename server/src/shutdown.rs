//! Stopping on SIGTERM or Ctrl-C: the signal, and what the background workers and
//! `/readyz` watch to learn that Portico is stopping.

use tokio::sync::watch;

/// `true` once Portico is stopping.
pub type Stopping = watch::Receiver<bool>;

/// Resolves at SIGTERM or Ctrl-C.
pub async fn signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
}

/// Resolves once Portico is stopping (or whatever would have said so is gone).
pub async fn stopped(mut stopping: Stopping) {
    let _ = stopping.wait_for(|stopping| *stopping).await;
}
