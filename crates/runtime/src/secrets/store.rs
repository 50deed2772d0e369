//! Reading a secret from AWS Secrets Manager, bounded in time, with the SDK's standard
//! credential and region chain (`AWS_REGION`, `AWS_ACCESS_KEY_ID`…, a profile, a web
//! identity, the container or instance role) and `AWS_ENDPOINT_URL` for another endpoint.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::SdkError;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;

use crate::config::Secret;

/// Why a secret could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// It could not be read (not found, access denied, endpoint unreachable, no answer in
    /// time): the process falls back to the environment.
    #[error("{0}")]
    Unreadable(String),
    /// It was read but holds no text (a `SecretBinary`): a configuration error.
    #[error("holds no SecretString (a binary secret?)")]
    NoText,
}

/// A Secrets Manager client whose every call is bounded by `timeout`.
#[derive(Clone)]
pub struct SecretStore {
    client: Option<Client>,
    timeout: Duration,
}

// The client's own Debug output is the whole SDK configuration; nothing of it is needed in
// a log line, and none of it should be there.
impl std::fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretStore")
            .field("loaded", &self.client.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl SecretStore {
    /// Loads the AWS configuration. Never fails: a configuration that cannot be loaded in
    /// time makes every read fail with the reason.
    pub async fn load(timeout: Duration) -> Self {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(timeout)
            .operation_attempt_timeout(timeout)
            .operation_timeout(timeout)
            .build();
        let config = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts)
            .load();
        // Loading may look up the region, which can mean a call to the instance metadata.
        let client = match tokio::time::timeout(timeout, config).await {
            Ok(config) => Some(Client::new(&config)),
            Err(_) => {
                tracing::warn!(
                    timeout_ms = timeout.as_millis() as u64,
                    "AWS configuration not loaded in time"
                );
                None
            }
        };
        SecretStore { client, timeout }
    }

    /// The current version (`AWSCURRENT`) of secret `id`, as text.
    pub async fn read(&self, id: &str) -> Result<Secret<String>, ReadError> {
        let Some(client) = &self.client else {
            return Err(ReadError::Unreadable(
                "AWS configuration could not be loaded in time".into(),
            ));
        };
        let call = client.get_secret_value().secret_id(id).send();
        // The SDK bounds the call itself; this bounds the credential look-up around it too.
        let answer = tokio::time::timeout(self.timeout + Duration::from_millis(250), call)
            .await
            .map_err(|_| self.timed_out())?;
        match answer {
            Ok(out) => match out.secret_string {
                Some(text) => Ok(Secret::new(text)),
                None => Err(ReadError::NoText),
            },
            Err(e) => Err(ReadError::Unreadable(self.describe(&e))),
        }
    }

    fn timed_out(&self) -> ReadError {
        ReadError::Unreadable(format!("no answer within {} ms", self.timeout.as_millis()))
    }

    /// A short reason for a log line: the service's error code, or what failed on the way.
    /// Error messages from Secrets Manager name the secret, never its value.
    fn describe(&self, e: &SdkError<GetSecretValueError>) -> String {
        match e {
            SdkError::ServiceError(service) => match service.err() {
                GetSecretValueError::ResourceNotFoundException(_) => "secret not found".into(),
                other => {
                    let code = aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(other)
                        .unwrap_or("unknown error");
                    format!("Secrets Manager answered {code}")
                }
            },
            SdkError::TimeoutError(_) => {
                format!("no answer within {} ms", self.timeout.as_millis())
            }
            SdkError::DispatchFailure(f) if f.is_timeout() => {
                format!("no answer within {} ms", self.timeout.as_millis())
            }
            SdkError::DispatchFailure(f) if f.is_io() => "endpoint unreachable".into(),
            other => format!(
                "{}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(other)
            ),
        }
    }
}
