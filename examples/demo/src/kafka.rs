//! Kafka: librdkafka's in-process mock cluster by default, a real broker when
//! `KAFKA_BROKERS` (or `--kafka-brokers`) names one; the clients' configurations.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::model::ORDERS_TOPIC;

/// Partitions of `orders`.
const PARTITIONS: i32 = 3;

/// The Kafka the demo talks to.
pub(crate) enum Kafka {
    /// librdkafka's mock cluster, in this process (listening on 127.0.0.1).
    Mock(MockCluster<'static, DefaultProducerContext>),
    /// A real cluster.
    Brokers(String),
}

impl std::fmt::Debug for Kafka {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Kafka").field(&self.describe()).finish()
    }
}

impl Kafka {
    /// The brokers given, or a new mock cluster with the `orders` topic.
    pub(crate) async fn connect(brokers: Option<&str>) -> anyhow::Result<Self> {
        match brokers.map(str::trim).filter(|b| !b.is_empty()) {
            Some(brokers) => {
                let kafka = Kafka::Brokers(brokers.to_owned());
                kafka.create_topic().await?;
                Ok(kafka)
            }
            None => {
                let cluster = MockCluster::new(1).context("starting librdkafka's mock cluster")?;
                cluster
                    .create_topic(ORDERS_TOPIC, PARTITIONS, 1)
                    .context("creating the orders topic")?;
                Ok(Kafka::Mock(cluster))
            }
        }
    }

    /// `bootstrap.servers`.
    pub(crate) fn bootstrap_servers(&self) -> String {
        match self {
            Kafka::Mock(cluster) => cluster.bootstrap_servers(),
            Kafka::Brokers(brokers) => brokers.clone(),
        }
    }

    /// What the demo talks to, for people.
    pub(crate) fn describe(&self) -> String {
        match self {
            Kafka::Mock(cluster) => format!(
                "librdkafka's mock cluster on {} (set KAFKA_BROKERS for a real broker)",
                cluster.bootstrap_servers()
            ),
            Kafka::Brokers(brokers) => format!("brokers {brokers}"),
        }
    }

    /// Creates `orders` on a real cluster unless it exists.
    async fn create_topic(&self) -> anyhow::Result<()> {
        let brokers = self.bootstrap_servers();
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .create()
            .context("creating a Kafka admin client")?;
        // Metadata first: a cluster that already has the topic (or cannot create topics, as
        // librdkafka's mock cluster in another process) needs no admin request.
        let admin = Arc::new(admin);
        let exists = {
            let admin = Arc::clone(&admin);
            tokio::task::spawn_blocking(move || {
                admin
                    .inner()
                    .fetch_metadata(Some(ORDERS_TOPIC), Duration::from_secs(10))
                    .map(|m| {
                        m.topics().iter().any(|t| {
                            t.name() == ORDERS_TOPIC
                                && t.error().is_none()
                                && !t.partitions().is_empty()
                        })
                    })
            })
            .await
            .context("the metadata task failed")?
            .with_context(|| format!("reaching Kafka at {brokers}"))?
        };
        if exists {
            return Ok(());
        }
        let topic = NewTopic::new(ORDERS_TOPIC, PARTITIONS, TopicReplication::Fixed(1));
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = admin
            .create_topics([&topic], &options)
            .await
            .with_context(|| format!("creating `{ORDERS_TOPIC}` on {brokers}"))?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => anyhow::bail!("creating `{name}`: {code}"),
            }
        }
        Ok(())
    }

    /// The configuration of payments' producer.
    pub(crate) fn producer_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", self.bootstrap_servers())
            .set("client.id", "payments")
            .set("linger.ms", "1")
            .set("message.timeout.ms", "10000");
        config
    }

    /// The configuration of fulfillment's consumer.
    pub(crate) fn consumer_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", self.bootstrap_servers())
            .set("client.id", "fulfillment")
            .set("group.id", "tracewire-demo-fulfillment")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "6000")
            // Answer as soon as a message is there: the demo's traces show the hop, not a wait.
            .set("fetch.wait.max.ms", "10")
            .set("enable.partition.eof", "false");
        config
    }
}
