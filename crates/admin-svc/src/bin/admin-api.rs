//! admin-svc's HTTP API (and its operator commands).

use clap::{Parser, Subcommand};
use shop_runtime::{Env, Settings};

#[derive(Parser)]
#[command(
    version,
    about = "The shop's catalogue service. Configured through environment variables (see README)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API and publish events (the default).
    Serve,
    /// Create the database if needed, run migrations, and exit.
    Migrate,
    /// Create an admin user (or find the one with this email) and print its id.
    CreateUser {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    shop_runtime::telemetry::init("admin-svc");
    let settings = Settings::from_env(&Env::from_process(), admin_svc::DEFAULTS)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listener = shop_runtime::http::bind(settings.http_addr).await?;
            admin_svc::run(settings, listener, shop_runtime::shutdown::on_signal()).await
        }
        Command::Migrate => shop_runtime::service::migrate(&settings, &admin_svc::MIGRATOR).await,
        Command::CreateUser { name, email } => {
            let (id, new) = admin_svc::create_user(&settings, &name, &email).await?;
            println!("{id}");
            tracing::info!(id, new, "user ready");
            Ok(())
        }
    }
}
