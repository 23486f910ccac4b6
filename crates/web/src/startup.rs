//! The running application: the HTTP server and every background job, under one shutdown.
//!
//! `serve`, the benchmark and the tests all start the application here, so they run the same
//! thing. A new periodic job (the monthly meeting, say) is one line in [`JOBS`].

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use oversight_app::App;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use crate::Server;

/// A background job: runs until its shutdown resolves.
type Job = fn(App, Shutdown) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Every background job, by name. Each keeps its own lease where several instances could run
/// it twice (the monitor, the outbox), so every instance may start every job.
const JOBS: &[(&str, Job)] = &[("monitor", monitor), ("hotline watch and notifications", notify)];

/// Moves cases and tasks at their signal instants and raises alerts.
fn monitor(app: App, stop: Shutdown) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(oversight_app::supervision::run_monitor(app, stop.wait()))
}

/// Watches the hotline's deadlines and delivers the outbox (e-mail, SMS).
fn notify(app: App, stop: Shutdown) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(oversight_app::notify::run(app, stop.wait()))
}

/// The signal every job stops on.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Resolves once the application is shutting down.
    pub async fn wait(mut self) {
        // An error means the sender is gone: the application is gone too.
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }
}

/// The server, bound, with the jobs it will run beside it.
pub struct Application {
    server: Server,
    /// `/metrics` on an address of its own, when `metrics_listen` says so.
    metrics: Option<tokio::net::TcpListener>,
    app: App,
    jobs: bool,
}

impl Application {
    /// Binds `listen`; nothing runs until [`Application::run_until`] or [`Application::spawn`].
    pub async fn build(app: App, listen: &str) -> std::io::Result<Application> {
        let server = Server::build(app.clone(), listen).await?;
        let metrics = match &app.config.metrics_listen {
            Some(address) => Some(tokio::net::TcpListener::bind(address).await?),
            None => None,
        };
        Ok(Application { server, metrics, app, jobs: true })
    }

    /// Serves without the background jobs: for a test or a benchmark that runs the monitor's and
    /// the outbox's passes itself, at moments it chooses.
    pub fn without_jobs(mut self) -> Application {
        self.jobs = false;
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Where `/metrics` is served when `metrics_listen` moves it off the site's address.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves and runs the jobs until `shutdown` resolves; then lets requests in flight finish,
    /// stops the jobs and waits for them.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stop, stopping) = watch::channel(false);
        let mut jobs = JoinSet::new();
        if self.jobs {
            for (name, job) in JOBS {
                tracing::debug!(job = name, "starting");
                jobs.spawn(job(self.app.clone(), Shutdown(stopping.clone())));
            }
        }
        if let Some(listener) = self.metrics {
            let router = crate::metrics_router(self.app.clone());
            let stopping = Shutdown(stopping.clone());
            jobs.spawn(async move {
                if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(stopping.wait()).await {
                    tracing::error!(error = ?e, "the metrics listener failed");
                }
            });
        }
        let served = self.server.run(shutdown).await;
        let _ = stop.send(true);
        while let Some(ended) = jobs.join_next().await {
            if let Err(e) = ended {
                tracing::error!(error = ?e, "a background job failed");
            }
        }
        served
    }

    /// Runs on a task of its own until the returned handle is stopped or dropped.
    pub fn spawn(self) -> Running {
        let addr = self.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(self.run_until(async {
            let _ = stopped.await;
        }));
        Running { addr, stop: Some(stop), done: Some(done) }
    }
}

/// An application running on a task of its own; dropping the handle shuts it down.
pub struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Shuts the application down and waits until the server and every job have ended.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.done.take() {
            Some(done) => done.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
