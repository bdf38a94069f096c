//! The setup builder: `Tracewire::builder() ... .install()`, and `init()` / `try_init()`.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{
    BatchConfigBuilder, BatchLogProcessor, LoggerProviderBuilder, SdkLoggerProvider,
};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{MeterProviderBuilder, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{
    Sampler, SdkTracerProvider, ShouldSample, SpanExporter, SpanProcessor,
};
use tracewire_core::env::{EnvSource, OtelEnv, ProcessEnv};

use crate::batch::{BatchProcessor, Diagnostics};
use crate::config::{
    BatchSettings, ExporterKind, MetricSettings, OtlpCode, OtlpCompression, OtlpProtocol, Signal,
    SpanLimitSettings, resolve_exporters, resolve_otlp, resolve_zipkin,
};
use crate::error::InitError;
use crate::export::console::{
    ConsoleLogExporter, ConsoleMetricExporter, ConsoleSpanExporter, ConsoleSpanProcessor,
};
use crate::export::runtime::ExportRuntime;
use crate::export::{BoxSpanExporter, SpanExporters, otlp};
use crate::guard::Guard;
use crate::resource::{ResourceCode, build_resource, service_name};
use crate::sampler::sampler_from_env;

/// The entry point: `Tracewire::builder()`.
#[derive(Debug, Clone, Copy)]
pub struct Tracewire;

impl Tracewire {
    /// A builder that reads the process environment for everything not set in code.
    pub fn builder() -> TracewireBuilder {
        TracewireBuilder::new()
    }
}

/// Sets telemetry up from the process environment and installs it globally.
///
/// # Panics
///
/// When setup fails, which only happens for invalid values given in code or when the export
/// thread cannot start; invalid environment variables warn and fall back instead. Use
/// [`try_init`] to handle the error.
#[allow(clippy::expect_used)]
pub fn init() -> Guard {
    try_init().expect("tracewire: telemetry setup failed")
}

/// Sets telemetry up from the process environment and installs it globally.
///
/// # Errors
///
/// See [`InitError`].
pub fn try_init() -> Result<Guard, InitError> {
    Tracewire::builder().install()
}

/// What the processor hook gets besides the exporter.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProcessorContext {
    /// The resolved batch settings (`OTEL_BSP_*` or code).
    pub batch: BatchSettings,
    /// The guard's counters: a processor that drops spans should count them here.
    pub diagnostics: Diagnostics,
}

type ProcessorHook =
    Box<dyn FnOnce(BoxSpanExporter, &ProcessorContext) -> Box<dyn SpanProcessor> + Send>;
type MeterStep = Box<dyn FnOnce(MeterProviderBuilder, Duration) -> MeterProviderBuilder + Send>;
type LoggerStep = Box<dyn FnOnce(LoggerProviderBuilder) -> LoggerProviderBuilder + Send>;
type WriterFactory = Arc<dyn Fn() -> Box<dyn Write + Send> + Send + Sync>;

/// An [`EnvSource`] behind a box, so the builder has no type parameter.
struct DynEnv(Box<dyn EnvSource + Send + Sync>);

impl EnvSource for DynEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.var(name)
    }
}

/// Builds the telemetry setup. Values given here win over the environment; everything not
/// given is read from `OTEL_*` variables (see the crate docs for the table), then defaults.
pub struct TracewireBuilder {
    env: Box<dyn EnvSource + Send + Sync>,
    resource: ResourceCode,
    sdk_disabled: Option<bool>,
    sampler: Option<Box<dyn ShouldSample>>,
    traces_exporters: Option<Vec<ExporterKind>>,
    span_exporters: Vec<BoxSpanExporter>,
    span_processors: Vec<Box<dyn SpanProcessor>>,
    exporter_processor: Option<ProcessorHook>,
    otlp: OtlpCode,
    otlp_signal_endpoints: [Option<String>; 3],
    zipkin_endpoint: Option<String>,
    zipkin_timeout: Option<Duration>,
    batch: Option<BatchSettings>,
    log_batch: Option<BatchSettings>,
    span_limits: Option<SpanLimitSettings>,
    metrics_exporters: Option<Vec<ExporterKind>>,
    metric_steps: Vec<MeterStep>,
    metric_interval: Option<Duration>,
    logs_exporters: Option<Vec<ExporterKind>>,
    logger_steps: Vec<LoggerStep>,
    propagator: Option<Box<dyn TextMapPropagator + Send + Sync>>,
    shutdown_timeout: Duration,
    console: Option<WriterFactory>,
}

impl std::fmt::Debug for TracewireBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracewireBuilder")
            .field("resource", &self.resource)
            .field("traces_exporters", &self.traces_exporters)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for TracewireBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// The default time limit of shutdown and flush.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

impl TracewireBuilder {
    /// A builder reading the process environment.
    pub fn new() -> Self {
        TracewireBuilder {
            env: Box::new(ProcessEnv),
            resource: ResourceCode::default(),
            sdk_disabled: None,
            sampler: None,
            traces_exporters: None,
            span_exporters: Vec::new(),
            span_processors: Vec::new(),
            exporter_processor: None,
            otlp: OtlpCode::default(),
            otlp_signal_endpoints: [None, None, None],
            zipkin_endpoint: None,
            zipkin_timeout: None,
            batch: None,
            log_batch: None,
            span_limits: None,
            metrics_exporters: None,
            metric_steps: Vec::new(),
            metric_interval: None,
            logs_exporters: None,
            logger_steps: Vec::new(),
            propagator: None,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            console: None,
        }
    }

    /// Reads `OTEL_*` (and the Kubernetes variables) from `source` instead of the process
    /// environment: a `HashMap<String, String>`, a `BTreeMap`, or an array of `(&str, &str)`.
    /// Tests use this rather than changing the process environment.
    pub fn with_env(mut self, source: impl EnvSource + Send + Sync + 'static) -> Self {
        self.env = Box::new(source);
        self
    }

    // --- resource ---

    /// `service.name` (wins over `OTEL_SERVICE_NAME`).
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.resource.service_name = Some(name.into());
        self
    }

    /// `service.version`.
    pub fn with_service_version(mut self, version: impl Into<String>) -> Self {
        self.resource.service_version = Some(version.into());
        self
    }

    /// A resource attribute (wins over detected and `OTEL_RESOURCE_ATTRIBUTES` ones).
    pub fn with_resource_attribute(mut self, attribute: KeyValue) -> Self {
        self.resource.attributes.push(attribute);
        self
    }

    /// Whether to detect host and process attributes (default: yes).
    pub fn with_resource_detection(mut self, detect: bool) -> Self {
        self.resource.skip_detection = !detect;
        self
    }

    /// Disables (or enables) the SDK regardless of `OTEL_SDK_DISABLED`.
    pub fn with_sdk_disabled(mut self, disabled: bool) -> Self {
        self.sdk_disabled = Some(disabled);
        self
    }

    // --- traces ---

    /// The head sampler (wins over `OTEL_TRACES_SAMPLER`), for instance a
    /// [`RuleSampler`](crate::sampler::RuleSampler).
    pub fn with_sampler(mut self, sampler: impl ShouldSample + 'static) -> Self {
        self.sampler = Some(Box::new(sampler));
        self
    }

    /// The span exporters to build (wins over `OTEL_TRACES_EXPORTER`); an empty list means
    /// none.
    pub fn with_traces_exporters(mut self, kinds: impl IntoIterator<Item = ExporterKind>) -> Self {
        self.traces_exporters = Some(kinds.into_iter().collect());
        self
    }

    /// Adds an exporter of your own (an in-memory exporter in tests). Exporters given in code
    /// replace `OTEL_TRACES_EXPORTER`: the environment's list is only used when neither this
    /// nor [`with_traces_exporters`](Self::with_traces_exporters) is called.
    pub fn with_span_exporter(mut self, exporter: impl SpanExporter + 'static) -> Self {
        self.span_exporters.push(BoxSpanExporter::new(exporter));
        self
    }

    /// Adds a span processor that runs before the configured export pipeline (for instance
    /// one that adds attributes at span start).
    pub fn with_span_processor(mut self, processor: impl SpanProcessor + 'static) -> Self {
        self.span_processors.push(Box::new(processor));
        self
    }

    /// Chooses the processor around the configured exporters. By default they run behind a
    /// [`BatchProcessor`] (and console output behind a simple processor, so a trace prints as
    /// soon as it ends). The hook gets every configured exporter as one [`BoxSpanExporter`]
    /// (console included) with the batch settings and the guard's counters, and returns the
    /// processor to use: the tail-sampling processor plugs in here.
    pub fn with_exporter_processor<F, P>(mut self, hook: F) -> Self
    where
        F: FnOnce(BoxSpanExporter, &ProcessorContext) -> P + Send + 'static,
        P: SpanProcessor + 'static,
    {
        self.exporter_processor = Some(Box::new(move |e, cx| Box::new(hook(e, cx))));
        self
    }

    /// Runs the configured exporters behind the in-process tail sampler ([`crate::tail`])
    /// instead of the batch processor: the sampled traces are exported in batches of the batch
    /// settings' size, and the spans it drops, exports and fails to export are counted in
    /// [`Guard::diagnostics`] (the first failure is warned about once). The head
    /// sampler must record what the tail decides on (the default `parentbased_always_on` does;
    /// see [`crate::tail::recording_head_sampler`]). A config that is not valid turns tail
    /// sampling off (a warning says why) and the batch processor runs instead.
    pub fn with_tail_sampling(self, config: crate::tail::TailSamplingConfig) -> Self {
        self.with_exporter_processor(move |exporters, cx| {
            crate::tail::pipeline(exporters, cx, config, None)
        })
    }

    /// [`with_tail_sampling`](Self::with_tail_sampling), with `observer` told of every decided
    /// trace (its id, the decision and the policy that made it), for example to show users why
    /// a trace was kept.
    pub fn with_tail_sampling_observed(
        self,
        config: crate::tail::TailSamplingConfig,
        observer: crate::tail::DecisionObserver,
    ) -> Self {
        self.with_exporter_processor(move |exporters, cx| {
            crate::tail::pipeline(exporters, cx, config, Some(observer))
        })
    }

    /// Batch settings of the span pipeline (win over `OTEL_BSP_*`).
    pub fn with_batch_settings(mut self, settings: BatchSettings) -> Self {
        self.batch = Some(settings);
        self
    }

    /// Span limits (win over `OTEL_SPAN_*_LIMIT` and `OTEL_ATTRIBUTE_*_LIMIT`).
    pub fn with_span_limits(mut self, limits: SpanLimitSettings) -> Self {
        self.span_limits = Some(limits);
        self
    }

    // --- OTLP ---

    /// The OTLP base endpoint for every signal; `/v1/<signal>` is appended for HTTP.
    pub fn with_otlp_endpoint(mut self, url: impl Into<String>) -> Self {
        self.otlp.endpoint = Some(url.into());
        self
    }

    /// The OTLP endpoint for one signal, used as is.
    pub fn with_otlp_signal_endpoint(mut self, signal: Signal, url: impl Into<String>) -> Self {
        self.otlp_signal_endpoints[signal_index(signal)] = Some(url.into());
        self
    }

    /// The OTLP protocol.
    pub fn with_otlp_protocol(mut self, protocol: OtlpProtocol) -> Self {
        self.otlp.protocol = Some(protocol);
        self
    }

    /// An OTLP header (gRPC metadata); overrides an environment header of the same name.
    pub fn with_otlp_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.otlp.headers.push((name.into(), value.into()));
        self
    }

    /// The time limit of one OTLP export.
    pub fn with_otlp_timeout(mut self, timeout: Duration) -> Self {
        self.otlp.timeout = Some(timeout);
        self
    }

    /// The OTLP compression.
    pub fn with_otlp_compression(mut self, compression: OtlpCompression) -> Self {
        self.otlp.compression = Some(compression);
        self
    }

    /// The Zipkin endpoint (wins over `OTEL_EXPORTER_ZIPKIN_ENDPOINT`).
    pub fn with_zipkin_endpoint(mut self, url: impl Into<String>) -> Self {
        self.zipkin_endpoint = Some(url.into());
        self
    }

    /// The time limit of one Zipkin export.
    pub fn with_zipkin_timeout(mut self, timeout: Duration) -> Self {
        self.zipkin_timeout = Some(timeout);
        self
    }

    // --- metrics and logs ---

    /// The metric exporters to build (wins over `OTEL_METRICS_EXPORTER`); empty means none.
    pub fn with_metrics_exporters(mut self, kinds: impl IntoIterator<Item = ExporterKind>) -> Self {
        self.metrics_exporters = Some(kinds.into_iter().collect());
        self
    }

    /// Adds a metric exporter of your own behind a periodic reader with the configured interval
    /// (an in-memory exporter in tests; `Guard::force_flush` collects and exports at once).
    /// Exporters given in code replace `OTEL_METRICS_EXPORTER` unless
    /// [`with_metrics_exporters`](Self::with_metrics_exporters) is called too.
    pub fn with_metric_exporter(mut self, exporter: impl PushMetricExporter) -> Self {
        self.metric_steps.push(Box::new(move |b, interval| {
            b.with_reader(
                PeriodicReader::builder(exporter)
                    .with_interval(interval)
                    .build(),
            )
        }));
        if self.metrics_exporters.is_none() {
            self.metrics_exporters = Some(Vec::new());
        }
        self
    }

    /// The time between metric exports (wins over `OTEL_METRIC_EXPORT_INTERVAL`).
    pub fn with_metric_export_interval(mut self, interval: Duration) -> Self {
        self.metric_interval = Some(interval);
        self
    }

    /// The log exporters to build (wins over `OTEL_LOGS_EXPORTER`); empty means none.
    pub fn with_logs_exporters(mut self, kinds: impl IntoIterator<Item = ExporterKind>) -> Self {
        self.logs_exporters = Some(kinds.into_iter().collect());
        self
    }

    /// Adds a log processor of your own (processors given in code replace
    /// `OTEL_LOGS_EXPORTER` unless [`with_logs_exporters`](Self::with_logs_exporters) is
    /// called too).
    pub fn with_log_processor(
        mut self,
        processor: impl opentelemetry_sdk::logs::LogProcessor + 'static,
    ) -> Self {
        self.logger_steps
            .push(Box::new(move |b| b.with_log_processor(processor)));
        if self.logs_exporters.is_none() {
            self.logs_exporters = Some(Vec::new());
        }
        self
    }

    /// Log batch settings (win over `OTEL_BLRP_*`).
    pub fn with_log_batch_settings(mut self, settings: BatchSettings) -> Self {
        self.log_batch = Some(settings);
        self
    }

    // --- the rest ---

    /// The propagator to install globally (wins over `OTEL_PROPAGATORS`).
    pub fn with_propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.propagator = Some(Box::new(propagator));
        self
    }

    /// The time limit of flush and shutdown (default 5 s).
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Where console exporters write (default: stdout); `make` is called once per exporter.
    pub fn with_console_output<W, F>(mut self, make: F) -> Self
    where
        W: Write + Send + 'static,
        F: Fn() -> W + Send + Sync + 'static,
    {
        self.console = Some(Arc::new(move || Box::new(make())));
        self
    }

    /// Builds the providers without installing anything globally (for tests and for programs
    /// that pass providers around).
    ///
    /// # Errors
    ///
    /// See [`InitError`]: only values given in code can fail.
    pub fn build(self) -> Result<Guard, InitError> {
        self.build_inner(false)
    }

    /// Builds the providers and installs the tracer provider, meter provider and propagator
    /// globally (`opentelemetry::global`).
    ///
    /// # Errors
    ///
    /// See [`InitError`]: only values given in code can fail.
    pub fn install(self) -> Result<Guard, InitError> {
        self.build_inner(true)
    }

    fn build_inner(self, install: bool) -> Result<Guard, InitError> {
        let env = OtelEnv::new(DynEnv(self.env));
        let disabled = self
            .sdk_disabled
            .unwrap_or_else(|| env.bool("OTEL_SDK_DISABLED"));
        let shutdown_timeout = self.shutdown_timeout;

        // Propagation works even with the SDK disabled, so this service does not break traces
        // that pass through it.
        let (propagator, propagator_names) = crate::propagators::resolve(self.propagator, &env);
        if install {
            crate::propagators::install(propagator);
        }

        if disabled {
            tracing::info!(target: "tracewire::sdk", "telemetry is disabled (OTEL_SDK_DISABLED): nothing is recorded or exported");
            let tp = SdkTracerProvider::builder()
                .with_sampler(Sampler::AlwaysOff)
                .with_resource(Resource::builder_empty().build())
                .build();
            let mp = SdkMeterProvider::builder()
                .with_resource(Resource::builder_empty().build())
                .build();
            let lp = SdkLoggerProvider::builder()
                .with_resource(Resource::builder_empty().build())
                .build();
            return Ok(Guard::new(
                tp,
                mp,
                lp,
                Diagnostics::default(),
                None,
                shutdown_timeout,
                true,
            ));
        }

        let resource = build_resource(&self.resource, &env);
        let diagnostics = Diagnostics::default();
        let mut runtime: Option<ExportRuntime> = None;
        let mut rt = || -> Result<ExportRuntime, InitError> {
            if let Some(r) = &runtime {
                return Ok(r.clone());
            }
            let r = ExportRuntime::start()?;
            runtime = Some(r.clone());
            Ok(r)
        };
        let console_writer = |f: &Option<WriterFactory>| f.as_ref().map(|f| f());
        let mut summary = String::new();

        // --- traces ---
        let traces_kinds = match self.traces_exporters {
            Some(k) => k,
            None if !self.span_exporters.is_empty() => Vec::new(),
            None => resolve_exporters(Signal::Traces, &env),
        };
        let limits = self
            .span_limits
            .unwrap_or_else(|| SpanLimitSettings::from_env(&env));
        let batch = self
            .batch
            .unwrap_or_else(|| BatchSettings::from_env("OTEL_BSP", BatchSettings::SPANS, &env));
        let signal_code = |signal: Signal| OtlpCode {
            signal_endpoint: self.otlp_signal_endpoints[signal_index(signal)].clone(),
            ..self.otlp.clone()
        };

        let mut network: Vec<BoxSpanExporter> = Vec::new();
        let mut console: Option<ConsoleSpanExporter> = None;
        let mut names: Vec<String> = Vec::new();
        for kind in &traces_kinds {
            match kind {
                ExporterKind::Otlp => {
                    let s = resolve_otlp(Signal::Traces, &signal_code(Signal::Traces), &env);
                    names.push(format!(
                        "otlp {} {}",
                        s.protocol.as_str(),
                        redact_url(&s.endpoint)
                    ));
                    if !s.headers.is_empty() {
                        let header_names: Vec<&str> =
                            s.headers.iter().map(|(k, _)| k.as_str()).collect();
                        names.push(format!("headers [{}]", header_names.join(", ")));
                    }
                    network.push(otlp::span_exporter(&s, &rt()?)?);
                }
                ExporterKind::Zipkin => {
                    let s =
                        resolve_zipkin(self.zipkin_endpoint.as_deref(), self.zipkin_timeout, &env);
                    names.push(format!("zipkin {}", redact_url(&s.endpoint)));
                    #[cfg(feature = "zipkin")]
                    network.push(crate::export::zipkin::span_exporter(&s, &resource, &rt()?)?);
                    #[cfg(not(feature = "zipkin"))]
                    return Err(InitError::FeatureMissing {
                        what: "the Zipkin exporter",
                        feature: "zipkin",
                    });
                }
                ExporterKind::Console => {
                    names.push("console".into());
                    console = Some(match console_writer(&self.console) {
                        Some(w) => ConsoleSpanExporter::with_writer(w),
                        None => ConsoleSpanExporter::new(),
                    });
                }
            }
        }
        if !self.span_exporters.is_empty() {
            names.push(format!("{} in code", self.span_exporters.len()));
        }
        network.extend(self.span_exporters);

        let sampler: Box<dyn ShouldSample> = match self.sampler {
            Some(s) => s,
            None => sampler_from_env(&env)
                .unwrap_or_else(|| Box::new(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))),
        };
        let _ = write!(
            summary,
            "traces: [{}]; sampler: {sampler:?}; ",
            names.join(", ")
        );

        let mut tp = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_sampler(sampler)
            .with_span_limits(limits.to_sdk());
        for p in self.span_processors {
            tp = tp.with_span_processor(BoxedProcessor(p));
        }
        let cx = ProcessorContext {
            batch,
            diagnostics: diagnostics.clone(),
        };
        match self.exporter_processor {
            Some(hook) => {
                let mut all = network;
                if let Some(c) = console {
                    all.push(BoxSpanExporter::new(c));
                }
                let exporters = SpanExporters::new(all)
                    .with_value_length_limit(limits.attribute_value_length)
                    .boxed();
                tp = tp.with_span_processor(BoxedProcessor(hook(exporters, &cx)));
            }
            None => {
                if !network.is_empty() {
                    let exporters = SpanExporters::new(network)
                        .with_value_length_limit(limits.attribute_value_length);
                    let processor = BatchProcessor::builder(exporters)
                        .with_settings(batch)
                        .with_diagnostics(diagnostics.clone())
                        .try_build()?;
                    tp = tp.with_span_processor(processor);
                }
                if let Some(c) = console {
                    tp = tp.with_span_processor(ConsoleSpanProcessor::new(c));
                }
            }
        }
        let tracer_provider = tp.build();

        // --- metrics ---
        let metric_settings = MetricSettings::from_env(&env);
        let interval = self.metric_interval.unwrap_or(metric_settings.interval);
        let metric_kinds = self
            .metrics_exporters
            .unwrap_or_else(|| resolve_exporters(Signal::Metrics, &env));
        let mut mp = SdkMeterProvider::builder().with_resource(resource.clone());
        let mut metric_names = Vec::new();
        for kind in &metric_kinds {
            match kind {
                ExporterKind::Otlp => {
                    let mut s = resolve_otlp(Signal::Metrics, &signal_code(Signal::Metrics), &env);
                    s.timeout = s.timeout.min(metric_settings.timeout);
                    metric_names.push(format!(
                        "otlp {} {}",
                        s.protocol.as_str(),
                        redact_url(&s.endpoint)
                    ));
                    let exporter = otlp::metric_exporter(&s, metric_settings.temporality, &rt()?)?;
                    mp = mp.with_reader(
                        PeriodicReader::builder(exporter)
                            .with_interval(interval)
                            .build(),
                    );
                }
                ExporterKind::Console => {
                    metric_names.push("console".into());
                    let exporter = match console_writer(&self.console) {
                        Some(w) => ConsoleMetricExporter::with_writer(w),
                        None => ConsoleMetricExporter::default(),
                    };
                    mp = mp.with_reader(
                        PeriodicReader::builder(exporter)
                            .with_interval(interval)
                            .build(),
                    );
                }
                ExporterKind::Zipkin => {}
            }
        }
        for step in self.metric_steps {
            mp = step(mp, interval);
        }
        let meter_provider = mp.build();
        let _ = write!(
            summary,
            "metrics: [{}] every {interval:?}; ",
            metric_names.join(", ")
        );

        // --- logs ---
        let log_batch = self
            .log_batch
            .unwrap_or_else(|| BatchSettings::from_env("OTEL_BLRP", BatchSettings::LOGS, &env));
        let log_config = || {
            BatchConfigBuilder::default()
                .with_max_queue_size(log_batch.max_queue_size)
                .with_max_export_batch_size(log_batch.max_export_batch_size)
                // The SDK's log processor spins on a zero delay (`OTEL_BLRP_SCHEDULE_DELAY=0`
                // is valid): a millisecond is the shortest delay it gets.
                .with_scheduled_delay(log_batch.schedule_delay.max(Duration::from_millis(1)))
                .build()
        };
        let log_kinds = self
            .logs_exporters
            .unwrap_or_else(|| resolve_exporters(Signal::Logs, &env));
        let mut lp = SdkLoggerProvider::builder().with_resource(resource.clone());
        let mut log_names = Vec::new();
        for kind in &log_kinds {
            match kind {
                ExporterKind::Otlp => {
                    let mut s = resolve_otlp(Signal::Logs, &signal_code(Signal::Logs), &env);
                    // The SDK's log batch processor has no export time limit of its own.
                    s.timeout = s.timeout.min(log_batch.export_timeout);
                    log_names.push(format!(
                        "otlp {} {}",
                        s.protocol.as_str(),
                        redact_url(&s.endpoint)
                    ));
                    let exporter = otlp::log_exporter(&s, &rt()?)?;
                    lp = lp.with_log_processor(
                        BatchLogProcessor::builder(exporter)
                            .with_batch_config(log_config())
                            .build(),
                    );
                }
                ExporterKind::Console => {
                    log_names.push("console".into());
                    let exporter = match console_writer(&self.console) {
                        Some(w) => ConsoleLogExporter::with_writer(w),
                        None => ConsoleLogExporter::default(),
                    };
                    lp = lp.with_log_processor(opentelemetry_sdk::logs::SimpleLogProcessor::new(
                        exporter,
                    ));
                }
                ExporterKind::Zipkin => {}
            }
        }
        for step in self.logger_steps {
            lp = step(lp);
        }
        let logger_provider = lp.build();
        let _ = write!(
            summary,
            "logs: [{}]; propagators: [{}]",
            log_names.join(", "),
            propagator_names.join(", ")
        );

        if install {
            opentelemetry::global::set_tracer_provider(tracer_provider.clone());
            opentelemetry::global::set_meter_provider(meter_provider.clone());
        }
        // Header values and URL credentials never reach this line.
        tracing::info!(
            target: "tracewire::sdk",
            service_name = %service_name(&resource),
            installed_globally = install,
            "telemetry set up: {summary}"
        );

        Ok(Guard::new(
            tracer_provider,
            meter_provider,
            logger_provider,
            diagnostics,
            runtime,
            shutdown_timeout,
            false,
        ))
    }
}

fn signal_index(signal: Signal) -> usize {
    match signal {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}

/// `scheme://user:password@host/..` → `scheme://***@host/..`, for logs.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://***@{}{path}", &authority[at + 1..]),
        None => url.to_owned(),
    }
}

/// A boxed span processor as a `SpanProcessor` (the SDK's builder wants a sized type).
#[derive(Debug)]
struct BoxedProcessor(Box<dyn SpanProcessor>);

impl SpanProcessor for BoxedProcessor {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        self.0.on_start(span, cx);
    }
    fn on_end(&self, span: opentelemetry_sdk::trace::SpanData) {
        self.0.on_end(span);
    }
    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_url("https://user:pw@collector:4318/v1/traces"),
            "https://***@collector:4318/v1/traces"
        );
        assert_eq!(
            redact_url("http://collector:4318/a@b"),
            "http://collector:4318/a@b"
        );
        assert_eq!(redact_url("http://collector"), "http://collector");
        assert_eq!(redact_url("nonsense"), "nonsense");
    }
}
