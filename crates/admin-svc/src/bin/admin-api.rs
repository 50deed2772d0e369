//! admin-svc's HTTP API (and its operator commands).

use admin_svc::AppState;
use clap::{Parser, Subcommand};
use shop_runtime::service::{self, ApiCommand};
use shop_runtime::settings;
use shop_runtime::telemetry::LogOutput;

#[derive(Parser)]
#[command(
    version,
    about = "The shop's catalogue service. Configured through environment variables (see docs/operating/configuration.md)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Api(ApiCommand),
    /// Create a user (or find the one with this email) and print its id. The new user's
    /// password comes from ADMIN_PASSWORD or, in a terminal, a prompt; never from the
    /// command line, where other users could read it. The first admin is made this way;
    /// later accounts are best made in the browser (/admin/accounts).
    CreateUser {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// What the account may do: admin (everything) or viewer (reads only).
        #[arg(long, default_value = "admin", value_parser = ["admin", "viewer"])]
        role: String,
    },
    /// Set a user's password (from ADMIN_PASSWORD or a prompt).
    SetPassword {
        #[arg(long)]
        email: String,
    },
    /// Create an API token for a machine client and print it (the only time it is shown).
    /// It has no owner and acts as an admin.
    CreateToken {
        /// What the token is for, e.g. ci-smoke-test.
        #[arg(long)]
        name: String,
    },
    /// Revoke the live token without owner (one made by create-token) with this name.
    /// Tokens that accounts made are revoked in the browser (/admin/tokens).
    RevokeToken {
        #[arg(long)]
        name: String,
    },
}

/// The password from ADMIN_PASSWORD, or typed twice at a prompt that does not echo.
fn password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if let Ok(p) = std::env::var("ADMIN_PASSWORD")
        && !p.is_empty()
    {
        return Ok(p);
    }
    anyhow::ensure!(
        std::io::stdin().is_terminal(),
        "no password: set ADMIN_PASSWORD, or run the command in a terminal to be asked"
    );
    let first = rpassword::prompt_password("Password: ")?;
    let again = rpassword::prompt_password("Password again: ")?;
    anyhow::ensure!(first == again, "the passwords differ");
    Ok(first)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = Cli::parse()
        .command
        .unwrap_or(Command::Api(ApiCommand::Serve));
    // The operator commands print their answer on standard output, their logs elsewhere.
    let logs = match command {
        Command::Api(_) => LogOutput::Stdout,
        _ => LogOutput::Stderr,
    };
    let (api, auth) = service::api::start::<AppState>(settings::ADMIN_API, logs).await?;
    let settings = &api.process;
    match command {
        Command::Api(command) => service::run_command::<AppState>(command, api, auth).await,
        Command::CreateUser { name, email, role } => {
            let role = admin_svc::auth::Role::parse(&role).expect("checked by clap");
            let (id, new) =
                admin_svc::create_user(settings, &auth, &name, &email, role, password).await?;
            println!("{id}");
            tracing::info!(id, new, "user ready");
            Ok(())
        }
        Command::SetPassword { email } => {
            admin_svc::set_password(settings, &auth, &email, password()?).await?;
            tracing::info!(email, "password set");
            Ok(())
        }
        Command::CreateToken { name } => {
            println!("{}", admin_svc::create_token(settings, &auth, &name).await?);
            tracing::info!(name, "API token created; it is not shown again");
            Ok(())
        }
        Command::RevokeToken { name } => {
            admin_svc::revoke_token(settings, &auth, &name).await?;
            tracing::info!(name, "API token revoked");
            Ok(())
        }
    }
}
