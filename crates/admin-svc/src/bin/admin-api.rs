//! admin-svc's HTTP API (and its operator commands).

use clap::{Parser, Subcommand};
use shop_runtime::service::{self, ApiCommand};
use shop_runtime::settings;

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
    #[command(flatten)]
    Api(ApiCommand),
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
    let settings = service::start(settings::ADMIN_API).await?;
    match cli.command.unwrap_or(Command::Api(ApiCommand::Serve)) {
        Command::Api(command) => {
            service::run_command::<admin_svc::AppState>(command, settings).await
        }
        Command::CreateUser { name, email } => {
            let (id, new) = admin_svc::create_user(&settings, &name, &email).await?;
            println!("{id}");
            tracing::info!(id, new, "user ready");
            Ok(())
        }
    }
}
