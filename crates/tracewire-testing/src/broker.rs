//! A real Kafka-compatible broker for tests and benches: [tansu](https://crates.io/crates/tansu)
//! (in-memory storage) on a free port of 127.0.0.1, started and stopped by its own pid.
//!
//! The binary is found through, in order: the `TRACEWIRE_TANSU` environment variable (a path),
//! `$CARGO_HOME/bin/tansu`, `~/.cargo/bin/tansu`, then every directory of `PATH`. `cargo xtask it`
//! installs the pinned version (`cargo install tansu --version 0.6.0 --locked --features
//! dynostore`) and sets `TRACEWIRE_TANSU`. This module does not install anything: a test that
//! needs the broker fails with [`BrokerError::NotFound`], which says how to install it.
//!
//! # Example
//!
//! ```no_run
//! use tracewire_testing::broker::TansuBroker;
//!
//! let mut broker = TansuBroker::start()?;
//! broker.create_topic("orders", 3)?;
//! let bootstrap = broker.bootstrap_servers(); // "127.0.0.1:<port>", for `bootstrap.servers`
//! assert!(bootstrap.starts_with("127.0.0.1:"));
//! broker.stop(); // or let it drop
//! # Ok::<(), tracewire_testing::broker::BrokerError>(())
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, Read as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The environment variable naming the tansu binary to use.
pub const TANSU_ENV: &str = "TRACEWIRE_TANSU";

/// The tansu version the tests were checked against.
pub const TANSU_VERSION: &str = "0.6.0";

/// How long [`TansuBroker::start`] waits for the broker to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Environment variables tansu reads that must not leak from the test's environment into the
/// broker (an OTLP endpoint would make the broker export its own telemetry, a storage URL would
/// replace the in-memory storage).
const TANSU_ENV_VARS: &[&str] = &[
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// What went wrong starting or driving the broker.
#[derive(Debug)]
#[non_exhaustive]
pub enum BrokerError {
    /// No tansu binary in any of the places searched.
    NotFound {
        /// Every path tried, in order.
        searched: Vec<PathBuf>,
    },
    /// No free port could be reserved on 127.0.0.1.
    Port(io::Error),
    /// The binary could not be run.
    Spawn {
        /// The binary.
        binary: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The broker exited or did not accept connections in time.
    NotReady {
        /// The address it should listen on.
        addr: SocketAddr,
        /// Its exit status, if it exited.
        exited: Option<String>,
        /// The start of its log.
        log: String,
    },
    /// A `tansu topic create` failed.
    Topic {
        /// The topic.
        name: String,
        /// What the command printed.
        output: String,
    },
}

impl fmt::Display for BrokerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { searched } => write!(
                f,
                "tansu not found (looked at ${TANSU_ENV}, $CARGO_HOME/bin, ~/.cargo/bin, $PATH: {} paths); \
                 install it with `cargo install tansu --version {TANSU_VERSION} --locked --features dynostore` \
                 or run `cargo xtask it`, which does",
                searched.len()
            ),
            Self::Port(e) => write!(f, "reserving a free port on 127.0.0.1: {e}"),
            Self::Spawn { binary, source } => write!(f, "running {}: {source}", binary.display()),
            Self::NotReady { addr, exited, log } => match exited {
                Some(status) => write!(
                    f,
                    "tansu exited ({status}) before listening on {addr}; log:\n{log}"
                ),
                None => write!(
                    f,
                    "tansu did not accept connections on {addr} within {READY_TIMEOUT:?}; log:\n{log}"
                ),
            },
            Self::Topic { name, output } => write!(f, "creating topic {name:?}: {output}"),
        }
    }
}

impl std::error::Error for BrokerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Port(e) | Self::Spawn { source: e, .. } => Some(e),
            _ => None,
        }
    }
}

/// A running tansu broker; stopped (by its pid) on [`TansuBroker::stop`] or drop.
#[derive(Debug)]
pub struct TansuBroker {
    binary: PathBuf,
    addr: SocketAddr,
    child: Option<Child>,
    log: PathBuf,
}

impl TansuBroker {
    /// Finds the tansu binary (see the [module docs](self) for where it looks).
    ///
    /// # Errors
    ///
    /// [`BrokerError::NotFound`] with every path tried.
    pub fn find_binary() -> Result<PathBuf, BrokerError> {
        let mut candidates = Vec::new();
        if let Some(p) = std::env::var_os(TANSU_ENV).filter(|p| !p.is_empty()) {
            candidates.push(PathBuf::from(p));
        }
        if let Some(home) = std::env::var_os("CARGO_HOME").filter(|p| !p.is_empty()) {
            candidates.push(PathBuf::from(home).join("bin").join("tansu"));
        }
        if let Some(home) = std::env::var_os("HOME").filter(|p| !p.is_empty()) {
            candidates.push(PathBuf::from(home).join(".cargo").join("bin").join("tansu"));
        }
        if let Some(path) = std::env::var_os("PATH") {
            candidates.extend(std::env::split_paths(&path).map(|d| d.join("tansu")));
        }
        match candidates.iter().find(|p| p.is_file()) {
            Some(found) => Ok(found.clone()),
            None => Err(BrokerError::NotFound {
                searched: candidates,
            }),
        }
    }

    /// Starts tansu (found by [`Self::find_binary`]) on a free port of 127.0.0.1 and waits until
    /// it accepts connections.
    ///
    /// # Errors
    ///
    /// [`BrokerError::NotFound`], [`BrokerError::Port`], [`BrokerError::Spawn`] or
    /// [`BrokerError::NotReady`].
    pub fn start() -> Result<Self, BrokerError> {
        Self::start_with(&Self::find_binary()?)
    }

    /// Starts the given tansu binary; see [`Self::start`].
    ///
    /// # Errors
    ///
    /// As [`Self::start`], except `NotFound`.
    pub fn start_with(binary: &Path) -> Result<Self, BrokerError> {
        // The port is free when reserved, but another process may take it before tansu binds
        // it: try a few ports before giving up.
        let mut last = None;
        for _ in 0..3 {
            match Self::try_start(binary) {
                Ok(broker) => return Ok(broker),
                Err(e @ BrokerError::NotReady { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(BrokerError::Port(io::Error::other("no attempt made"))))
    }

    fn try_start(binary: &Path) -> Result<Self, BrokerError> {
        let addr = free_port().map_err(BrokerError::Port)?;
        let url = format!("tcp://{addr}");
        let log = std::env::temp_dir().join(format!(
            "tracewire-tansu-{}-{}.log",
            std::process::id(),
            addr.port()
        ));
        let out = File::create(&log).map_err(|source| BrokerError::Spawn {
            binary: binary.to_owned(),
            source,
        })?;
        let err = out.try_clone().map_err(|source| BrokerError::Spawn {
            binary: binary.to_owned(),
            source,
        })?;
        let mut cmd = Command::new(binary);
        cmd.args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
        for var in TANSU_ENV_VARS {
            cmd.env_remove(var);
        }
        let child = cmd.spawn().map_err(|source| BrokerError::Spawn {
            binary: binary.to_owned(),
            source,
        })?;
        let mut broker = Self {
            binary: binary.to_owned(),
            addr,
            child: Some(child),
            log,
        };
        broker.wait_ready()?;
        Ok(broker)
    }

    fn wait_ready(&mut self) -> Result<(), BrokerError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(BrokerError::NotReady {
                    addr: self.addr,
                    exited: Some(status.to_string()),
                    log: self.log_head(),
                });
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.stop();
                return Err(BrokerError::NotReady {
                    addr: self.addr,
                    exited: None,
                    log: self.log_head(),
                });
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_head(&self) -> String {
        let mut text = String::new();
        if let Ok(f) = File::open(&self.log) {
            let _ = f.take(4096).read_to_string(&mut text);
        }
        text
    }

    /// The broker's address for `bootstrap.servers`: `127.0.0.1:<port>`.
    pub fn bootstrap_servers(&self) -> String {
        self.addr.to_string()
    }

    /// The broker's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process id of the broker, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Where the broker's output goes.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Creates a topic with `partitions` partitions (`tansu topic create`).
    ///
    /// # Errors
    ///
    /// [`BrokerError::Topic`] with the command's output when it fails (an existing topic
    /// included), [`BrokerError::Spawn`] when it cannot run.
    pub fn create_topic(&self, name: &str, partitions: u32) -> Result<(), BrokerError> {
        let url = format!("tcp://{}", self.addr);
        let output: Output = Command::new(&self.binary)
            .args([
                "topic",
                "create",
                name,
                "--partitions",
                &partitions.to_string(),
                "--broker",
                &url,
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|source| BrokerError::Spawn {
                binary: self.binary.clone(),
                source,
            })?;
        if output.status.success() {
            Ok(())
        } else {
            Err(BrokerError::Topic {
                name: name.to_owned(),
                output: format!(
                    "{}: {}{}",
                    output.status,
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ),
            })
        }
    }

    /// Whether the broker process is still running.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Stops the broker: kills its process (by its own pid, through the child handle) and reaps
    /// it. Idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TansuBroker {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    listener.local_addr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_says_how_to_install() {
        let e = BrokerError::NotFound {
            searched: vec![PathBuf::from("/nowhere/tansu")],
        };
        let text = e.to_string();
        assert!(
            text.contains("cargo install tansu --version 0.6.0"),
            "{text}"
        );
        assert!(text.contains("cargo xtask it"), "{text}");
    }

    #[test]
    fn free_ports_are_loopback() {
        let addr = free_port().expect("a port");
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0);
    }
}
