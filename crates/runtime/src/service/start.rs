//! The first steps of every binary: read the environment, start logging, type the settings
//! of the process (a bad value stops it with a message naming the variable), and take the
//! credentials the secrets it names hold ([`crate::secrets`]); a service process also starts
//! giving freed memory back ([`crate::memory`]).

use crate::config::Env;
use crate::settings::{ApiSettings, ConsumerProcessSettings, ServiceDefaults, Settings};
use crate::telemetry::LogOutput;

/// Reads the environment and starts logging (to `logs`): what every process does first.
fn begin(defaults: ServiceDefaults, logs: LogOutput) -> anyhow::Result<Env> {
    let env = Env::from_process();
    crate::telemetry::init(defaults.process, &env, logs)?;
    Ok(env)
}

/// The credentials in the secrets `env` names, taken into `settings`.
async fn with_secrets(env: &Env, settings: &mut Settings) -> anyhow::Result<()> {
    let credentials = crate::secrets::read(env).await?;
    settings.use_credentials(credentials, env)?;
    Ok(())
}

/// An API process: the runtime's settings, and the service's own (`own`, parsed from the
/// same environment).
pub async fn api<T>(
    defaults: ServiceDefaults,
    logs: LogOutput,
    own: impl FnOnce(&Env) -> Result<T, crate::config::ConfigError>,
) -> anyhow::Result<(ApiSettings, T)> {
    let env = begin(defaults, logs)?;
    let mut settings = ApiSettings::from_env(&env, defaults)?;
    let own = own(&env)?;
    crate::memory::spawn(crate::memory::interval_from_env(&env)?);
    with_secrets(&env, &mut settings.process).await?;
    Ok((settings, own))
}

/// A consumer process: its settings alone.
pub async fn consumer(defaults: ServiceDefaults) -> anyhow::Result<ConsumerProcessSettings> {
    let env = begin(defaults, LogOutput::Stdout)?;
    let mut settings = ConsumerProcessSettings::from_env(&env, defaults)?;
    crate::memory::spawn(crate::memory::interval_from_env(&env)?);
    with_secrets(&env, &mut settings.process).await?;
    Ok(settings)
}

/// An operator's command of a consumer binary (`dead-letters …`): the process's settings,
/// with the same credentials, logging on standard error so that standard output is only the
/// command's answer.
pub async fn tool(defaults: ServiceDefaults) -> anyhow::Result<Settings> {
    let env = begin(defaults, LogOutput::Stderr)?;
    let mut settings = Settings::from_env(&env, defaults)?;
    with_secrets(&env, &mut settings).await?;
    Ok(settings)
}
