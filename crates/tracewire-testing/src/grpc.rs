//! The OTLP gRPC services behind [`OtlpServer::start_grpc`](crate::otlp::OtlpServer::start_grpc).

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use crate::otlp::OtlpReceived;
use crate::server::{Behaviour, Outcome, ReceivedRequest, Shared, grpc_code_for};

/// The largest message the receiver decodes.
const MESSAGE_LIMIT: usize = 64 << 20;

#[derive(Clone)]
struct Receiver {
    shared: Arc<Shared<OtlpReceived>>,
}

pub(crate) async fn serve(shared: Arc<Shared<OtlpReceived>>, listener: tokio::net::TcpListener) {
    let receiver = Receiver { shared };
    let _ = tonic::transport::Server::builder()
        .add_service(
            TraceServiceServer::new(receiver.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MESSAGE_LIMIT),
        )
        .add_service(
            LogsServiceServer::new(receiver.clone())
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MESSAGE_LIMIT),
        )
        .add_service(
            MetricsServiceServer::new(receiver)
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MESSAGE_LIMIT),
        )
        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
        .await;
}

impl Receiver {
    async fn handle<Req: prost::Message, Resp: Default>(
        &self,
        path: &str,
        request: Request<Req>,
        keep: impl FnOnce(&mut OtlpReceived, Req),
    ) -> Result<Response<Resp>, Status> {
        let (metadata, _, message) = request.into_parts();
        let len = message.encoded_len();
        let record = |outcome: Outcome, body_len: usize| ReceivedRequest {
            method: "POST".to_owned(),
            path: path.to_owned(),
            headers: metadata.clone().into_headers(),
            body_len,
            outcome,
        };
        match self.shared.behaviour() {
            Behaviour::Accept => {}
            Behaviour::Delay(d) => tokio::time::sleep(d).await,
            Behaviour::Status(code) => {
                self.shared
                    .update(|s| s.requests.push(record(Outcome::Rejected(code), len)));
                return Err(Status::new(
                    tonic::Code::from_i32(grpc_code_for(code)),
                    format!("test receiver answers {code}"),
                ));
            }
            Behaviour::Hang => {
                self.shared
                    .update(|s| s.requests.push(record(Outcome::Hung, len)));
                std::future::pending::<()>().await;
            }
        }
        self.shared.update(|s| {
            s.requests.push(record(Outcome::Accepted, len));
            keep(s, message);
        });
        Ok(Response::new(Resp::default()))
    }
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.handle(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            request,
            |s, r| s.traces.push(r),
        )
        .await
    }
}

#[tonic::async_trait]
impl LogsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        self.handle(
            "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
            request,
            |s, r| s.logs.push(r),
        )
        .await
    }
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.handle(
            "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            request,
            |s, r| s.metrics.push(r),
        )
        .await
    }
}
