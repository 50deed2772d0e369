//! admin-svc's own settings, read beside the runtime's when admin-api starts: how admins
//! sign in, and where the audit log is.

use std::time::Duration;

use shop_runtime::{ConfigError, Env};

/// How admins sign in to admin-api.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAuthSettings {
    /// `ADMIN_AUTH=disabled`: no sign-in required (for teams migrating from the original);
    /// warned about at start and in the health answer. Never the default.
    pub disabled: bool,
    /// A session unused this long ends (`SESSION_IDLE_MINUTES`, default 60).
    pub session_idle: Duration,
    /// A session ends this long after sign-in, used or not (`SESSION_MAX_HOURS`, default 12).
    pub session_max: Duration,
    /// The audit log's database (`AUDIT_DATABASE`; by default the service's database name
    /// with `_audit`: [`AdminAuthSettings::audit_database_for`]).
    pub audit_database: Option<String>,
    /// How often expired sessions are deleted (`PURGE_INTERVAL_SECS`, hourly by default).
    pub purge_interval: Duration,
}

impl AdminAuthSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let disabled = match env
            .string("ADMIN_AUTH", "enabled")
            .to_ascii_lowercase()
            .as_str()
        {
            "enabled" => false,
            "disabled" => true,
            other => {
                return Err(ConfigError::new(
                    "ADMIN_AUTH",
                    format!("expected enabled or disabled (got {other:?})"),
                ));
            }
        };
        let idle: u64 = env.parse("SESSION_IDLE_MINUTES", 60)?;
        let max: u64 = env.parse("SESSION_MAX_HOURS", 12)?;
        if idle == 0 {
            return Err(ConfigError::new(
                "SESSION_IDLE_MINUTES",
                "must be at least 1",
            ));
        }
        if max == 0 {
            return Err(ConfigError::new("SESSION_MAX_HOURS", "must be at least 1"));
        }
        let audit_database = match env.string("AUDIT_DATABASE", "").trim() {
            "" => None,
            name => Some(checked_database_name("AUDIT_DATABASE", name)?),
        };
        Ok(AdminAuthSettings {
            disabled,
            session_idle: Duration::from_secs(idle * 60),
            session_max: Duration::from_secs(max * 3600),
            audit_database,
            purge_interval: shop_runtime::settings::purge_interval(env)?,
        })
    }

    /// The audit log's database beside the service's database `service_database`.
    pub fn audit_database_for(&self, service_database: &str) -> Result<String, ConfigError> {
        match &self.audit_database {
            Some(name) => Ok(name.clone()),
            None => checked_database_name("AUDIT_DATABASE", &format!("{service_database}_audit")),
        }
    }
}

/// The audit log's database as admin-consumer reads it: `AUDIT_DATABASE`, or
/// `service_database` with `_audit`, by the rule of [`AdminAuthSettings::audit_database_for`];
/// without reading the API's other settings (a bad `SESSION_*` must not stop a consumer).
pub fn audit_database_from_env(env: &Env, service_database: &str) -> Result<String, ConfigError> {
    match env.string("AUDIT_DATABASE", "").trim() {
        "" => checked_database_name("AUDIT_DATABASE", &format!("{service_database}_audit")),
        name => checked_database_name("AUDIT_DATABASE", name),
    }
}

/// A MariaDB database name: 1 to 64 letters, digits, `_` and `$`.
fn checked_database_name(variable: &str, name: &str) -> Result<String, ConfigError> {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$');
    if plain && !name.is_empty() && name.len() <= 64 {
        Ok(name.to_owned())
    } else {
        Err(ConfigError::new(
            variable,
            format!(
                "{name:?} is not a database name of 1 to 64 letters, digits and _ (set AUDIT_DATABASE)"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_settings_have_defaults_and_name_bad_values() {
        let s = AdminAuthSettings::from_env(&Env::default()).unwrap();
        assert!(!s.disabled);
        assert_eq!(s.session_idle, Duration::from_secs(3600));
        assert_eq!(s.session_max, Duration::from_secs(12 * 3600));
        assert_eq!(s.audit_database_for("admin").unwrap(), "admin_audit");
        assert_eq!(
            audit_database_from_env(&Env::from_pairs([("SESSION_MAX_HOURS", "0")]), "admin")
                .unwrap(),
            "admin_audit"
        );
        let named = Env::from_pairs([("AUDIT_DATABASE", " history ")]);
        assert_eq!(audit_database_from_env(&named, "admin").unwrap(), "history");
        let bad = Env::from_pairs([("AUDIT_DATABASE", "a-b")]);
        assert!(audit_database_from_env(&bad, "admin").is_err());
        assert!(s.audit_database_for(&"a".repeat(60)).is_err());
        for (name, value) in [
            ("ADMIN_AUTH", "maybe"),
            ("SESSION_IDLE_MINUTES", "0"),
            ("SESSION_IDLE_MINUTES", "soon"),
            ("SESSION_MAX_HOURS", "0"),
            ("AUDIT_DATABASE", "two words"),
            ("AUDIT_DATABASE", "a".repeat(65).as_str()),
        ] {
            let err = AdminAuthSettings::from_env(&Env::from_pairs([(name, value)])).unwrap_err();
            assert_eq!(err.name, name);
        }
    }
}
